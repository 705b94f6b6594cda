"""Column types that behave the same on SQLite and PostgreSQL.

- :class:`UTCDateTime`: timezone-aware UTC datetimes in and out. Naive datetimes are taken to be
  UTC (as in :mod:`connector.judgments`). SQLite stores them as naive UTC text of one fixed
  format, so ``<``/``>`` compare them correctly; PostgreSQL stores ``timestamptz``.
- :class:`JSONValue`: one JSON document in a ``TEXT`` column, written canonically (sorted keys,
  no spaces), so equal values compare equal in SQL on both databases and ``1``, ``1.5`` and
  ``"1"`` come back with their types.
- :data:`JSONDocument`: a JSON blob never compared in SQL (raw payloads, evidence, report
  bodies): ``JSON`` on SQLite, ``JSONB`` on PostgreSQL; ``None`` is stored as SQL NULL.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from json.encoder import encode_basestring as _encode_string
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

__all__ = ["JSONDocument", "JSONValue", "UTCDateTime", "as_utc", "dumps", "loads", "utcnow"]

# none_as_null: Python None is SQL NULL, not the JSON document 'null', so "keep the stored value
# when given None" (coalesce) and "has a payload" (IS NOT NULL) work on these columns too.
JSONDocument = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def dumps(value: object) -> str:
    """Canonical JSON text: sorted keys, no spaces, non-ASCII kept.

    Strings and numbers, the common case, take a fast path with the same result.
    """
    if isinstance(value, str):
        return _encode_string(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__repr__(value)
    if isinstance(value, float) and math.isfinite(value):
        return float.__repr__(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sqlite_text(value: datetime) -> str:
    """SQLAlchemy's SQLite storage format, naive UTC: ``2024-05-01 12:00:00.000000``."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (see the module docstring)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
        moment = as_utc(value)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # One step from datetime to stored text (bulk writes bind ~5 datetimes per row).
        def process(value: Any) -> str | None:
            if value is None:
                return None
            if not isinstance(value, datetime):
                raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
            return _sqlite_text(value)

        return process

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


class JSONValue(TypeDecorator[Any]):
    """One JSON value in a ``TEXT`` column, written canonically (see the module docstring)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else dumps(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else loads(value)


_SCALARS: dict[str, Any] = {}  # JSON text → its parsed str/int/float/bool/None
_SCALARS_MAX = 65_536


def loads(text: str) -> Any:
    """``json.loads``, remembering scalar results: a project's judgments repeat a few labels and
    ratings thousands of times. Objects and lists are parsed afresh (they are mutable)."""
    try:
        return _SCALARS[text]
    except KeyError:
        pass
    value = json.loads(text)
    if value is None or isinstance(value, str | int | float | bool):
        if len(_SCALARS) >= _SCALARS_MAX:
            _SCALARS.clear()
        _SCALARS[text] = value
    return value
