"""The base of the store: opening a database (SQLite or PostgreSQL, migrated), closing it, and
the read and write transactions that translate driver errors into :class:`StoreError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Self

from sqlalchemy import (
    URL,
    Connection,
    CursorResult,
    Engine,
    Row,
    create_engine,
    event,
    literal,
    make_url,
)
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.elements import BindParameter

from connector.store import migrate as migrations
from connector.store.bulk import Insert
from connector.store.columns import UTCDateTime, utcnow
from connector.store.errors import StoreError
from connector.store.migrate import SQLITE_BEGIN

__all__ = ["SQLITE_BUSY_TIMEOUT_MS", "AnyRow", "StoreBase", "inserted", "moment", "new_id"]

SQLITE_BUSY_TIMEOUT_MS = 30_000

AnyRow = Row[*tuple[Any, ...]]


class StoreBase:
    """Opening, closing and the transactions every part of :class:`~connector.store.Store` uses."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # --- opening ----------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str | URL, *, migrate: bool = True) -> Self:
        """Connect to ``url`` (``sqlite:///path/iaa.db``, ``postgresql+psycopg://…``) and, with
        ``migrate``, bring the schema to the newest revision.

        A SQLite file's directory is created if missing.

        Raises:
            StoreError: the URL is invalid, the database is unreachable or not supported, or a
                migration failed; the message shows the URL with its password hidden.
        """
        try:
            parsed = make_url(url)
        except (SQLAlchemyError, ValueError) as exc:
            raise StoreError(
                "invalid database URL; expected e.g. sqlite:///path/iaa.db or "
                "postgresql+psycopg://user:password@host/dbname",
                operation="open",
            ) from exc
        shown = parsed.render_as_string(hide_password=True)
        backend = parsed.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise StoreError(
                f"{shown}: database {backend!r} is not supported; use sqlite:///path/iaa.db or "
                "postgresql+psycopg://…",
                operation="open",
                url=shown,
            )
        try:
            if backend == "sqlite":
                _sqlite_directory(parsed, shown)
                engine = _sqlite_engine(parsed)
            else:
                engine = create_engine(parsed, pool_pre_ping=True)
        except (SQLAlchemyError, ImportError) as exc:
            hint = "; pip install 'iaa-connector[postgres]'" if isinstance(exc, ImportError) else ""
            raise StoreError(
                f"cannot open {shown}: {exc}{hint}", operation="open", url=shown
            ) from exc
        store = cls(engine)
        if migrate:
            try:
                migrations.upgrade(engine)
            except SQLAlchemyError as exc:
                engine.dispose()
                raise StoreError(
                    f"migrating {shown} failed: {_reason(exc)}", operation="migrate", url=shown
                ) from exc
        return store

    @property
    def url(self) -> str:
        """The database URL with the password hidden (safe to log)."""
        return self._engine.url.render_as_string(hide_password=True)

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    def schema_revision(self) -> str | None:
        """The migration revision the database is at."""
        with self._translated("reading the schema revision"):
            return migrations.current_revision(self._engine)

    def close(self) -> None:
        """Release the store's connections."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    # --- transactions -----------------------------------------------------------------------

    @contextmanager
    def _translated(self, operation: str) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            raise StoreError(
                f"{operation} failed on {self.url}: {_reason(exc)}",
                operation=operation,
                url=self.url,
            ) from exc

    @contextmanager
    def _write(self, operation: str) -> Iterator[Connection]:
        """One write transaction (``BEGIN IMMEDIATE`` on SQLite)."""
        with (
            self._translated(operation),
            self._engine.connect().execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}) as connection,
            connection.begin(),
        ):
            yield connection

    @contextmanager
    def _read(self, operation: str) -> Iterator[Connection]:
        with (
            self._translated(operation),
            self._engine.connect() as connection,
            connection.begin(),
        ):
            yield connection


def _reason(exc: SQLAlchemyError) -> str:
    """The driver's message, first line only (no SQL, no parameters)."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(cause).strip().splitlines()
    return text[0] if text else type(cause).__name__


def moment(at: datetime | None) -> BindParameter[datetime]:
    """``at`` (default: now) as a bound UTC timestamp, for use inside SQL expressions."""
    return literal(utcnow() if at is None else at, type_=UTCDateTime())


def _sqlite_directory(url: URL, shown: str) -> None:
    """Create the directory of a SQLite file if missing.

    Raises:
        StoreError: it cannot be created (a parent is a file, not writable, or under /proc);
            the message names the directory and what to do.
    """
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    directory = Path(database).expanduser().parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        if isinstance(exc, FileExistsError):
            why = "a file of that name is in the way"
        raise StoreError(
            f"cannot create the directory {directory} for the SQLite database {shown}: {why}; "
            "create it (writable by this user) or point the store URL at another path",
            operation="open",
            url=shown,
        ) from exc


def _sqlite_engine(url: URL) -> Engine:
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's "begin" event, not the driver, open transactions (see _begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")  # first: WAL waits
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def inserted(connection: Connection, statement: Insert, params: Mapping[str, Any]) -> bool:
    """Run a one-row ``INSERT … ON CONFLICT DO NOTHING``; True if the row was inserted.

    Asks with ``RETURNING`` (SQLite 3.35+, PostgreSQL): with a serial key, psycopg reports no
    ``rowcount`` for the implicit ``RETURNING`` SQLAlchemy adds.
    """
    key = next(iter(statement.table.primary_key))
    returning = statement.returning(key)
    return connection.execute(returning, dict(params)).first() is not None


def new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    if key is None:
        raise StoreError("the database returned no id for the new row")
    return int(key[0])
