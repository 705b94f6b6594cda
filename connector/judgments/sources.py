"""What the platform export readers share: :class:`PlatformTable` (the canonical table plus what
was used and skipped), :class:`AnswerMap` (which answer fields become dimensions), unknown
annotators, and reading JSON lines, JSON arrays and CSV with the line each record starts on.

Unknown annotators. An export row that names no annotator (Scale AI tasks carry no worker id)
still counts for agreement: its judgments join the item's other judgments. It gets an annotator
of its own, :data:`UNKNOWN_ANNOTATOR_PREFIX` followed by the row's key (``?unknown:task 57a…``),
so no two unknown judgments are ever taken for one person's re-test. Per-annotator figures mean
nothing for such an id: :func:`is_unknown_annotator` is the one test for it, and the report
leaves those annotators out of its per-annotator sections.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from connector.errors import JudgmentTableError
from connector.judgments.formats import PLATFORM_FORMATS, PlatformFormat
from connector.judgments.table import (
    COLUMNS,
    REQUIRED_COLUMNS,
    JudgmentTable,
    _as_text,
    _is_blank,
    _Rows,
    _validate,
)

__all__ = [
    "PLATFORM_FORMATS",
    "UNKNOWN_ANNOTATOR_PREFIX",
    "AnswerMap",
    "PlatformFormat",
    "PlatformTable",
    "input_format",
    "is_unknown_annotator",
    "unknown_annotator",
]

UNKNOWN_ANNOTATOR_PREFIX = "?unknown:"
_RATIONALE_NAME = re.compile(r"rationale|reason|explanation|justif|comment", re.IGNORECASE)


def looks_like_rationale(name: str) -> bool:
    """Whether a field's name says it holds a rationale (rationale, reason, explanation,
    justification, comment)."""
    return bool(_RATIONALE_NAME.search(name))


def unknown_annotator(key: str) -> str:
    """The annotator id given to a judgment whose row names no annotator (``key``: the row)."""
    return f"{UNKNOWN_ANNOTATOR_PREFIX}{key}"


def is_unknown_annotator(annotator: object) -> bool:
    """Whether ``annotator`` stands for an annotator the export did not name."""
    return isinstance(annotator, str) and annotator.startswith(UNKNOWN_ANNOTATOR_PREFIX)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PlatformTable(JudgmentTable):
    """A judgments table read from a platform's own export.

    ``format`` is ``"canonical"``: the frame is the canonical table the export was turned into
    (:data:`connector.judgments.TableFormat` names the formats read before these readers);
    ``platform`` names the export that was read.

    Attributes:
        platform: ``"prodigy"``, ``"labelbox"``, ``"surge"``, ``"scale"`` or ``"mturk"``.
        notes: which export field filled which canonical column, and what was skipped and why,
            with counts (``skipped`` is their total).
        unknown_annotators: judgments whose row named no annotator (see
            :func:`is_unknown_annotator`).
    """

    platform: PlatformFormat
    notes: tuple[str, ...] = ()
    unknown_annotators: int = 0


def input_format(table: JudgmentTable) -> str:
    """The name of the format ``table`` was read from: its platform, else its ``format``."""
    return table.platform if isinstance(table, PlatformTable) else table.format


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerMap:
    """Which of a platform's answer fields become dimensions, and which are rationale.

    Attributes:
        dimensions: answer field → dimension name. When empty, every answer field is a
            dimension of its own name; when given, only the fields named here are, and the
            others are left out (and counted).
        rationale: answer fields read as the judgment's rationale (free text kept in a
            ``rationale`` column, never scored). Free-text answers the platform marks as such
            and fields whose name says rationale, reason, explanation, justification or comment
            are rationale too.
    """

    dimensions: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    rationale: tuple[str, ...] = ()

    def role(self, names: Sequence[str], *, free_text: bool = False) -> tuple[str, str | None]:
        """``("dimension", name)``, ``("rationale", None)`` or ``("unmapped", None)`` for an
        answer field known by ``names`` (its name first, then any other name it goes by)."""
        if any(name in self.rationale for name in names):
            return "rationale", None
        for name in names:
            if name in self.dimensions:
                return "dimension", self.dimensions[name]
        if free_text or any(looks_like_rationale(name) for name in names):
            return "rationale", None
        if self.dimensions:
            return "unmapped", None
        return "dimension", names[0]

    def unmatched(self, seen: Iterable[str]) -> list[str]:
        """Mapped fields that matched no answer field (a misspelt ``--map``)."""
        found = set(seen)
        return [name for name in (*self.dimensions, *self.rationale) if name not in found]


# --------------------------------------------------------------------------------------------
# Reading records with their line numbers
# --------------------------------------------------------------------------------------------


def json_lines(text: str, source: str) -> tuple[list[Any], list[int]]:
    """The JSON value of every non-blank line and its line number."""
    records: list[Any] = []
    lines: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise JudgmentTableError(
                f"{source}:{number}: invalid JSON: {exc.msg} at column {exc.colno}; "
                "the export has one JSON object per line"
            ) from exc
        lines.append(number)
    if not records:
        raise JudgmentTableError(f"{source}: no judgments (the file has no JSON lines)")
    return records, lines


def json_array(text: str, source: str) -> tuple[list[Any], list[int]]:
    """The entries of a JSON array and the line each starts on.

    A JSON object with a ``docs`` list (a page of Scale AI's task list) reads as that list.
    """
    decoder = json.JSONDecoder()
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JudgmentTableError(
            f"{source}:{exc.lineno}: invalid JSON: {exc.msg} at column {exc.colno}"
        ) from exc
    start = text.find("[")
    if isinstance(document, dict) and isinstance(document.get("docs"), list):
        start = text.find("[", text.find('"docs"'))
        document = document["docs"]
    if not isinstance(document, list):
        raise JudgmentTableError(
            f"{source}: expected a JSON list of exported rows, got {type(document).__name__}"
        )
    lines: list[int] = []
    position = start + 1
    for _ in document:
        while text[position] in " \t\r\n,":
            position += 1
        lines.append(text.count("\n", 0, position) + 1)
        _, position = decoder.raw_decode(text, position)
    return document, lines


def csv_rows(text: str, source: str) -> tuple[list[str], list[dict[str, str]], list[int]]:
    """The header, the rows (column → text) and the line each row starts on (quoted fields may
    span lines). A row with more cells than the header is an error naming its line."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise JudgmentTableError(f"{source}: no judgments (the file is empty)") from None
    except csv.Error as exc:
        raise JudgmentTableError(f"{source}:1: not a valid CSV header: {exc}") from exc
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    line = reader.line_num + 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                if len(cells) > len(header):
                    raise JudgmentTableError(
                        f"{source}:{line}: {len(cells)} cells but the header names "
                        f"{len(header)} columns; quote cells that hold commas"
                    )
                padded = [*cells, *[""] * (len(header) - len(cells))]
                rows.append(dict(zip(header, padded, strict=True)))
                lines.append(line)
            line = reader.line_num + 1
    except csv.Error as exc:
        raise JudgmentTableError(f"{source}:{line}: not valid CSV: {exc}") from exc
    return header, rows, lines


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------


def mapping(value: object) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (for optional nested objects)."""
    return value if isinstance(value, dict) else {}


def text_or_none(value: object) -> str | None:
    """A present scalar as text (``3.0`` → ``"3"``); None for blanks and containers."""
    if _is_blank(value) or isinstance(value, dict | list | tuple | bool):
        return None
    return _as_text(value)


def length(value: object) -> float | None:
    return float(len(value)) if isinstance(value, str) else None


def seconds(value: object, name: str, where: str) -> float | None:
    """A duration in seconds, or None when blank; an error naming ``where`` otherwise."""
    if _is_blank(value):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        try:
            number = float(str(value).strip())
        except ValueError:
            number = math.nan
    if not math.isfinite(number) or number < 0:
        raise JudgmentTableError(
            f"{where}: {name!r} is not a number of seconds: {value!r}; fix it or leave it empty"
        )
    return number


def timestamp(value: object, name: str, where: str) -> pd.Timestamp | None:
    """An ISO 8601 time (naive: UTC) or Unix seconds, or None when blank; an error naming
    ``where`` and the export's field otherwise."""
    if _is_blank(value):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        parsed = pd.to_datetime(value, unit="s", utc=True, errors="coerce")
    else:
        parsed = pd.to_datetime(str(value).strip(), utc=True, format="ISO8601", errors="coerce")
    if pd.isna(parsed):
        raise JudgmentTableError(
            f"{where}: {name!r} is not a timestamp: {value!r}; the export writes ISO 8601 "
            "(e.g. 2024-05-01T12:00:00Z); fix or empty the field"
        )
    return pd.Timestamp(parsed)


# --------------------------------------------------------------------------------------------
# Building the table
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Reading:
    """What a reader collects while it walks an export; :meth:`table` validates the rows.

    ``where(position)`` names a record in messages: ``file:line`` when lines are known, else
    ``file: record #n``.
    """

    source: str
    platform: PlatformFormat
    lines: Sequence[int] | None
    answers: AnswerMap = field(default_factory=AnswerMap)
    rows: list[dict[str, Any]] = field(default_factory=list)
    row_lines: list[int] = field(default_factory=list)
    used: dict[str, str] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
    left_out: Counter[str] = field(default_factory=Counter)
    unmapped: Counter[str] = field(default_factory=Counter)
    fields_seen: set[str] = field(default_factory=set)
    multiple: Counter[str] = field(default_factory=Counter)
    gold: dict[tuple[str, str], tuple[object, str]] = field(default_factory=dict)
    gold_records: int = 0
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def where(self, position: int) -> str:
        if self.lines is None:
            return f"{self.source}: record #{position + 1}"
        return f"{self.source}:{self.lines[position]}"

    def line(self, position: int) -> int:
        return position + 1 if self.lines is None else self.lines[position]

    def use(self, column: str, description: str) -> None:
        """Record that ``column`` was filled from ``description`` (first description wins)."""
        self.used.setdefault(column, description)

    def use_if(self, column: str, value: object, description: str) -> None:
        """:meth:`use` when ``value`` is present."""
        if not _is_blank(value):
            self.use(column, description)

    def add(self, position: int, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.row_lines.append(self.line(position))

    def role(self, names: Sequence[str], *, free_text: bool = False) -> tuple[str, str | None]:
        """:meth:`AnswerMap.role` of an answer field, remembering the field was seen and
        counting answers left out because ``--map`` does not name their field."""
        self.fields_seen.update(names)
        role = self.answers.role(names, free_text=free_text)
        if role[0] == "unmapped":
            self.unmapped[names[0]] += 1
        return role

    def add_gold(self, item_id: str, dimension: str, value: object, label: str) -> None:
        """A reference (gold) answer for the item's judgments on ``dimension``; ``label`` names
        where it was read (``line 7``)."""
        key = (item_id, dimension)
        if key in self.gold and self.gold[key][0] != value:
            raise JudgmentTableError(
                f"{self.source}: two reference answers disagree on {dimension!r} of item "
                f"{item_id!r} ({self.gold[key][0]!r} at {self.gold[key][1]}, {value!r} at "
                f"{label}); keep one reference answer per item"
            )
        self.gold[key] = (value, label)

    def table(self, *, unknown: int = 0) -> PlatformTable:
        """Validate the rows (values read as text become numbers per dimension, as in a CSV
        table) and return them with the notes; rationale, if any, is kept in a last column."""
        self._fill_gold()
        frame = self._frame()
        rationale = [row.get("rationale") for row in self.rows]
        validated, more = _validate(frame, _Rows(self.source, self.row_lines), from_text=True)
        if any(r is not None for r in rationale):
            validated["rationale"] = pd.Series(
                np.array(rationale, dtype=object), index=validated.index, dtype=object
            )
        return PlatformTable(
            frame=validated,
            source=self.source,
            format="canonical",
            platform=self.platform,
            skipped=sum(self.skipped.values()),
            gold=self.gold_records,
            warnings=(*self.warnings, *self._warnings(), *more),
            notes=(*self._used_notes(), *self._skipped_notes(), *self.notes),
            unknown_annotators=unknown,
        )

    def _frame(self) -> pd.DataFrame:
        if not self.rows:
            self.warnings.append(f"{self.source}: no judgments found")
            return pd.DataFrame({c: pd.Series(dtype=object) for c in REQUIRED_COLUMNS})
        return pd.DataFrame.from_records(
            [{k: v for k, v in row.items() if k != "rationale"} for row in self.rows]
        )

    def _fill_gold(self) -> None:
        if not self.gold:
            return
        keys = set()
        for row in self.rows:
            key = (str(row["item_id"]), str(row["dimension"]))
            keys.add(key)
            if key in self.gold:
                row["gold_value"] = self.gold[key][0]
        unused = len(set(self.gold) - keys)
        if unused:
            self.warnings.append(
                f"{self.source}: {unused} reference answer(s) belong to items no annotator "
                "judged on that dimension; they are not in the table"
            )

    def _used_notes(self) -> list[str]:
        order = [*COLUMNS, "rationale"]
        columns = sorted(self.used, key=lambda c: order.index(c) if c in order else len(order))
        return [f"{column} ← {self.used[column]}" for column in columns]

    def _skipped_notes(self) -> list[str]:
        notes = [f"skipped {count}: {reason}" for reason, count in sorted(self.skipped.items())]
        notes.extend(
            f"left out {count} {reason}" for reason, count in sorted(self.left_out.items())
        )
        if self.unmapped:
            fields = ", ".join(f"{name!r} ({n})" for name, n in sorted(self.unmapped.items()))
            notes.append(
                f"left out {sum(self.unmapped.values())} answer(s) of fields not in --map: {fields}"
            )
        return notes

    def _warnings(self) -> list[str]:
        warnings = [
            f"{self.source}: {count} {what} chose several options; their values join the "
            "options with '|'"
            for what, count in sorted(self.multiple.items())
        ]
        unmatched = self.answers.unmatched(self.fields_seen)
        if unmatched:
            found = ", ".join(repr(name) for name in sorted(self.fields_seen)) or "none"
            warnings.append(
                f"{self.source}: --map/--rationale field(s) "
                f"{', '.join(repr(name) for name in unmatched)} matched no answer field; "
                f"answer fields found: {found}"
            )
        return warnings


def answer_value(value: object) -> tuple[object, bool]:
    """One judgment value from an answer and whether several options were chosen: a scalar as
    it is, a list of one option as that option, a list of several as the options joined with
    ``|``. ``None`` when there is no answer (blank, empty list, object, boolean)."""
    if isinstance(value, list | tuple):
        present = [v for v in value if text_or_none(v) is not None]
        if len(present) <= 1:
            return (present[0] if present else None), False
        return "|".join(_as_text(v) for v in present), True
    if _is_blank(value) or isinstance(value, dict | bool):
        return None, False
    return value, False
