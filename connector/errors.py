"""The package's exception tree.

Every error the connector raises on purpose is a :class:`ConnectorError`. Domain errors also
subclass the matching builtin, so ``except ValueError`` keeps working for callers who don't know
the package::

    ConnectorError
    ├── OptionError            unknown keyword option value (also a ValueError)
    ├── InsufficientDataError  no pairable units for a coefficient (also a ValueError)
    ├── RubricError            a rubric file is invalid: file:line: key (also a ValueError)
    └── JudgmentTableError     an input table is invalid: file, row, column (also a ValueError)

Third-party errors are translated once, at the boundary, with ``raise ... from exc``.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ConnectorError",
    "InsufficientDataError",
    "JudgmentTableError",
    "OptionError",
    "RubricError",
]


class ConnectorError(Exception):
    """Base class of every error raised on purpose by iaa-connector."""


class OptionError(ConnectorError, ValueError):
    """A keyword option got a value outside its valid set; the message lists the valid ones."""

    def __init__(self, name: str, value: object, valid: Iterable[object]) -> None:
        self.name = name
        self.value = value
        self.valid = tuple(valid)
        shown = ", ".join(repr(v) for v in self.valid)
        super().__init__(f"{name}={value!r} is not one of {shown}")


class InsufficientDataError(ConnectorError, ValueError):
    """No unit carries the two ratings a coefficient needs (no pairable values)."""


class RubricError(ConnectorError, ValueError):
    """A rubric file is invalid. ``str(err)`` reads ``path:line: what is wrong``."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.reason = message
        where = path or "<rubric>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {message}")


class JudgmentTableError(ConnectorError, ValueError):
    """An input judgments table (canonical, Label Studio or Argilla export) is invalid."""
