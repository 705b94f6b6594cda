"""Bulk writes shared by the store: portable upserts, chunking, and a lean ``executemany``.

:func:`execute_many` exists for the hot path of a sync (thousands of judgment rows a page).
``connection.execute(statement, rows)`` re-derives every row's parameters through SQLAlchemy's
compiled-statement machinery; here the statement is compiled once, each column's bind processor
(:class:`~connector.store.columns.UTCDateTime`, :class:`~connector.store.columns.JSONValue`, …)
is looked up once and applied in a tight loop, and the driver's ``executemany`` gets the result.
Same SQL and same stored values (``tests/test_store.py`` compares both ways on SQLite and
PostgreSQL), about a third of the Python time per row.

:func:`prepare_insert` and :func:`insert_each` serve the webhook intake, a few rows a
transaction many times a second, each row needing its own answer (stored, or there already):
the statement is compiled once per store (compiling costs about as much as a whole
transaction), and each row runs on the driver's cursor, whose ``rowcount`` says whether
``ON CONFLICT DO NOTHING`` kept it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, Dialect, Table, func, sql
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import DBAPICursor

from connector.store.errors import StoreError

__all__ = [
    "CHUNK",
    "Insert",
    "PreparedInsert",
    "chunks",
    "execute_many",
    "insert_each",
    "prepare_insert",
    "upsert",
]

CHUNK = 500  # keys per IN (...) list
_ROWS_PER_CALL = 5_000  # rows per executemany

Insert = sqlite.Insert | postgresql.Insert
_T = TypeVar("_T")


def chunks(values: Sequence[_T], size: int = CHUNK) -> Iterator[Sequence[_T]]:
    """``values`` in consecutive slices of at most ``size``."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def upsert(
    connection: Connection,
    table: Table,
    *,
    key: Sequence[str],
    update: Sequence[str] = (),
    keep_when_null: Sequence[str] = (),
    where: Callable[[Insert], ColumnElement[bool]] | None = None,
) -> Insert:
    """``INSERT … ON CONFLICT (key) DO UPDATE`` (or ``DO NOTHING`` without ``update``) for the
    connection's dialect, SQLite or PostgreSQL.

    ``update`` names the columns taken from the incoming row; those also in ``keep_when_null``
    keep the stored value when the incoming one is NULL. ``where(statement)`` guards the update
    (``statement.excluded`` is the incoming row).

    Raises:
        StoreError: the database is neither SQLite nor PostgreSQL.
    """
    name = connection.dialect.name
    statement: Insert
    if name == "sqlite":
        statement = sqlite.insert(table)
    elif name == "postgresql":
        statement = postgresql.insert(table)
    else:
        raise StoreError(
            f"database {name!r} is not supported; the store runs on SQLite and PostgreSQL"
        )
    if not update:
        return statement.on_conflict_do_nothing(index_elements=list(key))
    excluded = statement.excluded
    values: dict[str, Any] = {
        column: (
            func.coalesce(excluded[column], table.c[column])
            if column in keep_when_null
            else excluded[column]
        )
        for column in update
    }
    return statement.on_conflict_do_update(
        index_elements=list(key),
        set_=values,
        where=None if where is None else where(statement),
    )


def execute_many(
    connection: Connection, statement: Insert | sql.Insert, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Run the INSERT ``statement`` once per row, as ``connection.execute(statement, rows)``
    would; every row has the keys of the first (the statement's column values).

    Raises:
        ValueError: a row lacks a key the first row has.
    """
    if not rows:
        return
    dialect = connection.dialect
    keys = list(rows[0])
    compiled = statement.compile(dialect=dialect, column_keys=keys)
    names = list(compiled.positiontup or []) if compiled.positional else keys
    unknown = set(names) - set(keys)
    if unknown:  # only the rows' own values may be bound: no literals hidden in the statement
        raise ValueError(f"the statement binds {sorted(unknown)}, which are not row keys")
    processors = [
        compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    ]
    steps = list(zip(names, processors, strict=True))
    sql = compiled.string
    for batch in chunks(rows, _ROWS_PER_CALL):
        try:
            if compiled.positional:
                positional = [
                    tuple(row[name] if p is None else p(row[name]) for name, p in steps)
                    for row in batch
                ]
                connection.exec_driver_sql(sql, positional)
            else:
                named = [
                    {name: row[name] if p is None else p(row[name]) for name, p in steps}
                    for row in batch
                ]
                connection.exec_driver_sql(sql, named)
        except KeyError as exc:
            raise ValueError(f"a row lacks the key {exc.args[0]!r} the first row has") from None


@dataclass(frozen=True, slots=True)
class PreparedInsert:
    """An INSERT compiled for one dialect: its SQL, and each bound column's bind processor in
    the order the driver takes the parameters."""

    dialect: str
    sql: str
    positional: bool
    steps: tuple[tuple[str, Callable[[Any], Any] | None], ...]

    def parameters(self, row: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters for ``row`` (which has every key of the statement)."""
        if self.positional:
            return tuple(row[name] if p is None else p(row[name]) for name, p in self.steps)
        return {name: row[name] if p is None else p(row[name]) for name, p in self.steps}


def prepare_insert(dialect: Dialect, statement: Insert, keys: Sequence[str]) -> PreparedInsert:
    """Compile the INSERT ``statement`` for rows with ``keys``, once, for :func:`insert_each`.

    Raises:
        ValueError: the statement binds something that is not one of ``keys``.
    """
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    names = list(compiled.positiontup or []) if compiled.positional else list(keys)
    unknown = set(names) - set(keys)
    if unknown:
        raise ValueError(f"the statement binds {sorted(unknown)}, which are not row keys")
    steps = tuple(
        (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
        for name in names
    )
    return PreparedInsert(dialect.name, compiled.string, bool(compiled.positional), steps)


def insert_each(
    cursor: DBAPICursor, prepared: PreparedInsert, rows: Sequence[Mapping[str, Any]]
) -> list[bool]:
    """Run ``prepared`` (an ``INSERT … ON CONFLICT DO NOTHING``) once per row, in order, on a
    DBAPI ``cursor`` inside its connection's transaction; for each row, True if it was inserted
    (a row that conflicts with one stored already, or earlier in ``rows``, is not).

    Raises:
        Exception: the driver's own error (the caller rolls back and translates it).
    """
    inserted: list[bool] = []
    for row in rows:
        cursor.execute(prepared.sql, prepared.parameters(row))
        inserted.append(cursor.rowcount == 1)
    return inserted
