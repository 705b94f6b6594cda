"""The package's exception tree.

Every error the connector raises on purpose is a :class:`ConnectorError`. Domain errors also
subclass the matching builtin, so ``except ValueError`` keeps working for callers who don't know
the package. The whole tree (``tests/test_errors.py`` checks it against every exception class in
``connector/``)::

    ConnectorError
    ├── OptionError            unknown keyword option value (also a ValueError)
    ├── InsufficientDataError  no pairable units for a coefficient (also a ValueError)
    ├── RubricError            a rubric file is invalid: file:line: key (also a ValueError)
    ├── CodingError            coding options do not fit a table's values (also a ValueError)
    ├── JudgmentTableError     an input table is invalid: file, row, column (also a ValueError)
    │   └── RankingError       a ranking value cannot be read against its options: row, item
    ├── ConfigError            the configuration file is invalid: file, key (also a ValueError)
    ├── ItemFileError          an items or gold file is invalid: file, line (also a ValueError)
    ├── BatchError             a calibration batch cannot be planned as asked (also a ValueError)
    ├── AdjudicationError      an adjudication command cannot run as asked (also a ValueError)
    ├── SessionError           calibration-session rulings cannot be recorded (also a ValueError)
    ├── GateError              a push or promotion the validation gate refuses (also a ValueError)
    ├── ReannotationError      a re-annotation threshold or maximum out of range (also a ValueError)
    ├── GroupsError            annotator groups are invalid: file, group, name (also a ValueError)
    ├── LabelConfigError       rubric and Label Studio labeling config disagree (also a ValueError)
    ├── ResultError            an annotation result does not fit the rubric (also a ValueError)
    ├── SettingsError          rubric and Argilla dataset settings disagree (also a ValueError)
    ├── SignatureError         a webhook is not validly signed: reason (also a ValueError)
    ├── StoreRowError          a row given to the store is invalid (also a ValueError)
    ├── StoreError             a store operation failed: operation, database (also a RuntimeError)
    └── PlatformError          a platform call failed: platform, URL, status (also a RuntimeError)
        ├── PayloadError       a platform's answer cannot be read: task, annotation
        ├── TokenError         a token that cannot work as given (truncated, expired)
        └── _StuckKeysetError  Label Studio keyset paging returned only what was already read

Each class lives with the code that raises it (``SignatureError`` in
``connector.service.webhooks``, ``PlatformError`` in ``connector.platforms.base``, ...); this
module holds the root and the errors of the agreement engine, rubrics and judgment tables.
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
    """A rubric file is invalid. ``str(err)`` reads ``path:line: what is wrong``.

    ``problems`` holds every error found in one reading of the file (this one alone unless it
    was made by :meth:`collected`, whose message is one ``path:line: what`` line per problem).
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.reason = message
        self.problems: tuple[RubricError, ...] = (self,)
        where = path or "<rubric>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {message}")

    @classmethod
    def collected(cls, problems: Iterable[RubricError]) -> RubricError:
        """One error for several, in line order, repeated messages once; ``path``, ``line``
        and ``reason`` are the first problem's."""
        unique: dict[str, RubricError] = {}
        for problem in problems:
            for single in problem.problems:
                unique.setdefault(str(single), single)
        ordered = sorted(unique.values(), key=lambda p: (p.line is None, p.line or 0))
        if not ordered:
            raise ValueError("RubricError.collected needs at least one problem")
        if len(ordered) == 1:
            return ordered[0]
        first = ordered[0]
        error = cls(first.reason, path=first.path, line=first.line)
        error.problems = tuple(ordered)
        error.args = ("\n".join(str(p) for p in ordered),)
        return error


class JudgmentTableError(ConnectorError, ValueError):
    """An input judgments table (canonical, Label Studio or Argilla export) is invalid."""
