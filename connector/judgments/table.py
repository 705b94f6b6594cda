"""The canonical judgments table: its columns, :class:`JudgmentTable` and :func:`normalise`
(validation with error messages that name the row and the column).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from connector.errors import JudgmentTableError

__all__ = [
    "COLUMNS",
    "REQUIRED_COLUMNS",
    "JudgmentTable",
    "TableFormat",
    "normalise",
    "with_canonical_dtypes",
]

TableFormat = Literal["canonical", "label-studio", "argilla"]

REQUIRED_COLUMNS: tuple[str, ...] = ("item_id", "annotator", "dimension", "value")
_TEXT_COLUMNS: tuple[str, ...] = ("category", "rubric_version", "batch", "display_left")
_FLOAT_COLUMNS: tuple[str, ...] = ("lead_time_s", "length_a", "length_b")
COLUMNS: tuple[str, ...] = (
    *REQUIRED_COLUMNS,
    "category",
    "submitted_at",
    "rubric_version",
    "batch",
    "lead_time_s",
    "display_left",
    "gold_value",
    "length_a",
    "length_b",
)
_DISPLAY_SIDES = ("a", "b")
_TIMESTAMP_DTYPE = pd.DatetimeTZDtype(unit="ns", tz="UTC")
_INTEGER = re.compile(r"[+-]?\d+")
_MAX_LISTED = 5


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class JudgmentTable:
    """A validated judgments table and what was learnt while reading it.

    Attributes:
        frame: the canonical table, columns :data:`COLUMNS` (then any unknown ones).
        source: the path read (or ``"<frame>"``).
        format: ``"canonical"``, ``"label-studio"`` or ``"argilla"``.
        skipped: annotations or responses read but not counted as judgments: cancelled Label
            Studio annotations, draft and discarded Argilla responses.
        gold: Label Studio ground-truth annotations read as gold (not judgments); their values
            fill ``gold_value``.
        warnings: what the reader noticed and kept going about (unknown columns, repeated
            judgments, results of unsupported types).
        lines: the 1-based file line of each row of ``frame`` (JSON Lines and CSV files), for
            messages that name where a judgment came from; ``None`` when rows have no line.
    """

    frame: pd.DataFrame
    source: str
    format: TableFormat
    skipped: int = 0
    gold: int = 0
    warnings: tuple[str, ...] = ()
    lines: tuple[int, ...] | None = None

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, source: str = "<frame>") -> JudgmentTable:
        """Validate a canonical frame (see :func:`normalise`) and keep the warnings."""
        validated, warnings = _validate(frame, _Rows(source, None), from_text=False)
        return cls(frame=validated, source=source, format="canonical", warnings=tuple(warnings))


def normalise(frame: pd.DataFrame, *, source: str = "<frame>") -> pd.DataFrame:
    """Validate a canonical frame and return it with all :data:`COLUMNS` and their dtypes.

    Rows are named in errors by 1-based position (``<frame>: row 3``). Values are kept as given
    (strings stay strings, numbers numbers; numpy scalars become Python ones). To see the
    warnings (unknown columns, repeated judgments) use :meth:`JudgmentTable.from_frame`.

    Raises:
        JudgmentTableError: a required column is missing; an item_id, annotator, dimension or
            value is empty; a value is a list or mapping; a timestamp, number or display_left
            is invalid.
    """
    validated, _ = _validate(frame, _Rows(source, None), from_text=False)
    return validated


def with_canonical_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (every column of :data:`COLUMNS`) cast to the dtypes :func:`normalise` gives,
    without its row-by-row checks: for rows that were validated when they were stored."""
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True).astype(_TIMESTAMP_DTYPE)
    for column in _FLOAT_COLUMNS:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in COLUMNS:
        if column != "submitted_at" and column not in _FLOAT_COLUMNS:
            values = frame[column].astype(object)
            frame[column] = values.where(values.notna(), None)
    return frame


# --------------------------------------------------------------------------------------------
# Row locations for error messages
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rows:
    """Where the rows of a frame came from: file lines (1-based) or, if None, row positions."""

    source: str
    lines: Sequence[int] | None

    def where(self, position: int) -> str:
        if self.lines is None:
            return f"{self.source}: row {position + 1}"
        return f"{self.source}:{self.lines[position]}"

    def label(self, position: int) -> str:
        if self.lines is None:
            return f"row {position + 1}"
        return f"line {self.lines[position]}"

    def others(self, positions: Sequence[int]) -> str:
        """`` (also lines 20, 31)`` for the offending rows after the first; empty if none."""
        rest = positions[1:]
        if not rest:
            return ""
        unit = "rows" if self.lines is None else "lines"
        numbers = [str(p + 1 if self.lines is None else self.lines[p]) for p in rest[:_MAX_LISTED]]
        more = f" and {len(rest) - _MAX_LISTED} more" if len(rest) > _MAX_LISTED else ""
        return f" (also {unit} {', '.join(numbers)}{more})"


def _offending(mask: np.ndarray[Any, np.dtype[np.bool_]]) -> list[int]:
    return [int(p) for p in np.flatnonzero(mask)]


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    return value is pd.NaT or value is pd.NA


def _native(value: object) -> object:
    """Numpy scalars become Python ones, so values compare and serialise plainly."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def _as_text(value: object) -> str:
    value = _native(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _blank_mask(column: pd.Series[Any]) -> np.ndarray[Any, np.dtype[np.bool_]]:
    return np.fromiter((_is_blank(v) for v in column.tolist()), dtype=bool, count=len(column))


def _numbers_by_dimension(values: list[object], dimensions: list[str]) -> list[object]:
    """Turn the string values of each dimension into numbers when all of them read as numbers."""
    numeric: dict[str, bool] = {}
    parsed: list[object] = []
    for value, dimension in zip(values, dimensions, strict=True):
        number = _parse_number(value)
        parsed.append(number)
        if value is not None:
            numeric[dimension] = numeric.get(dimension, True) and number is not None
    return [
        number if value is not None and numeric[dimension] else value
        for value, number, dimension in zip(values, parsed, dimensions, strict=True)
    ]


def _parse_number(value: object) -> int | float | None:
    if not isinstance(value, str):
        return value if isinstance(value, int | float) else None
    text = value.strip()
    if _INTEGER.fullmatch(text):
        return int(text)
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _validate(
    frame: pd.DataFrame, rows: _Rows, *, from_text: bool
) -> tuple[pd.DataFrame, list[str]]:
    """Check a frame of judgments and bring it to the canonical columns and dtypes.

    ``from_text`` says values arrived as strings (CSV): they then become numbers per dimension.
    """
    if not isinstance(frame, pd.DataFrame):
        raise JudgmentTableError(
            f"{rows.source}: expected a pandas DataFrame, got {type(frame).__name__}"
        )
    found = [str(c) for c in frame.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in found]
    if missing:
        shown_found = ", ".join(repr(c) for c in found) if found else "none"
        raise JudgmentTableError(
            f"{rows.source}: missing required column(s) {', '.join(repr(c) for c in missing)}; "
            f"columns found: {shown_found}. A judgments table needs "
            f"{', '.join(REQUIRED_COLUMNS)} (one row per judgment)"
        )
    frame = frame.reset_index(drop=True)
    frame.columns = pd.Index(found)
    warnings: list[str] = []
    result: dict[str, pd.Series[Any]] = {}
    n = len(frame)

    def empty_error(column: str, positions: Sequence[int]) -> JudgmentTableError:
        tail = "drop the row" if len(positions) == 1 else "drop those rows"
        return JudgmentTableError(
            f"{rows.where(positions[0])}: column {column!r} is empty{rows.others(positions)}; "
            f"fill it in or {tail}"
        )

    for column in REQUIRED_COLUMNS:
        values = frame[column]
        positions = _offending(_blank_mask(values))
        if positions:
            raise empty_error(column, positions)
        if column != "value":
            result[column] = _object_series([_as_text(v) for v in values.tolist()])

    value_list = [_native(v) for v in frame["value"].tolist()]
    _reject_containers("value", value_list, rows)
    dimensions: list[str] = result["dimension"].tolist()
    if from_text:
        value_list = _numbers_by_dimension(value_list, dimensions)
    result["value"] = _object_series(value_list)

    for column in _TEXT_COLUMNS:
        if column not in frame.columns:
            result[column] = _object_series([None] * n)
            continue
        texts = [None if _is_blank(v) else _as_text(v) for v in frame[column].tolist()]
        if column == "display_left":
            bad = [p for p, t in enumerate(texts) if t is not None and t not in _DISPLAY_SIDES]
            if bad:
                raise JudgmentTableError(
                    f"{rows.where(bad[0])}: column 'display_left' is {texts[bad[0]]!r}"
                    f"{rows.others(bad)}; it must be 'a' or 'b' (the response shown on the left)"
                    " or empty"
                )
        result[column] = _object_series(texts)

    result["submitted_at"] = (
        _timestamps(frame["submitted_at"], rows)
        if "submitted_at" in frame.columns
        else pd.Series(pd.NaT, index=range(n), dtype=_TIMESTAMP_DTYPE)
    )

    for column in _FLOAT_COLUMNS:
        result[column] = (
            _floats(frame[column], column, rows)
            if column in frame.columns
            else pd.Series(np.nan, index=range(n), dtype="float64")
        )

    if "gold_value" in frame.columns:
        gold = [None if _is_blank(v) else _native(v) for v in frame["gold_value"].tolist()]
        _reject_containers("gold_value", gold, rows)
        if from_text:
            gold = _numbers_by_dimension(gold, dimensions)
        result["gold_value"] = _object_series(gold)
    else:
        result["gold_value"] = _object_series([None] * n)

    extra = [c for c in found if c not in COLUMNS]
    if extra:
        warnings.append(
            f"{rows.source}: unknown column(s) {', '.join(repr(c) for c in extra)} kept as they "
            f"are; the connector reads only {', '.join(COLUMNS)}"
        )
    out = pd.DataFrame({c: result[c] for c in COLUMNS}, index=pd.RangeIndex(n))
    for column in extra:
        out[column] = frame[column].to_numpy()

    keys = out.duplicated(subset=["item_id", "annotator", "dimension"], keep="first")
    repeats = int(keys.sum())
    if repeats:
        first = int(np.flatnonzero(keys.to_numpy())[0])
        warnings.append(
            f"{rows.source}: {repeats} judgment(s) repeat an (item_id, annotator, dimension) "
            f"already judged, first at {rows.label(first)}; "
            "they are kept (re-tests?); drop them if they are duplicates"
        )
    return out, warnings


def _object_series(values: Sequence[object]) -> pd.Series[Any]:
    array = np.empty(len(values), dtype=object)
    array[:] = list(values)
    return pd.Series(array, index=pd.RangeIndex(len(values)), dtype=object)


def _reject_containers(column: str, values: Sequence[object], rows: _Rows) -> None:
    bad = [p for p, v in enumerate(values) if isinstance(v, list | tuple | dict | np.ndarray)]
    if bad:
        kind = type(values[bad[0]]).__name__
        raise JudgmentTableError(
            f"{rows.where(bad[0])}: column {column!r} holds a {kind}{rows.others(bad)}; "
            "a judgment value is one string or number (write one row per dimension)"
        )


def _timestamps(column: pd.Series[Any], rows: _Rows) -> pd.Series[Any]:
    """Parse to UTC; naive timestamps are taken to be UTC."""
    if isinstance(column.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(column):
        parsed = pd.to_datetime(column, utc=True)
        return parsed.astype(_TIMESTAMP_DTYPE).reset_index(drop=True)
    raw = column.tolist()
    present = [not _is_blank(v) for v in raw]
    texts = pd.Series([_as_text(v) if p else None for v, p in zip(raw, present, strict=True)])
    parsed = pd.to_datetime(texts, utc=True, format="ISO8601", errors="coerce")
    failed = [p for p in range(len(raw)) if present[p] and pd.isna(parsed.iloc[p])]
    if failed:
        retry = pd.to_datetime(texts.iloc[failed], utc=True, format="mixed", errors="coerce")
        parsed.iloc[failed] = retry
        failed = [p for p in failed if pd.isna(parsed.iloc[p])]
    if failed:
        raise JudgmentTableError(
            f"{rows.where(failed[0])}: column 'submitted_at' is not a timestamp: "
            f"{raw[failed[0]]!r}{rows.others(failed)}; write ISO 8601, "
            "e.g. 2024-05-01T12:00:00Z"
        )
    return parsed.astype(_TIMESTAMP_DTYPE).reset_index(drop=True)


def _floats(column: pd.Series[Any], name: str, rows: _Rows) -> pd.Series[Any]:
    raw = column.tolist()
    numbers: list[float] = []
    bad: list[int] = []
    for position, value in enumerate(raw):
        if _is_blank(value):
            numbers.append(math.nan)
            continue
        number = _parse_number(value) if not isinstance(value, bool) else None
        if number is None:
            bad.append(position)
            numbers.append(math.nan)
        else:
            numbers.append(float(number))
    if bad:
        raise JudgmentTableError(
            f"{rows.where(bad[0])}: column {name!r} is not a number: {raw[bad[0]]!r}"
            f"{rows.others(bad)}"
        )
    return pd.Series(numbers, dtype="float64")
