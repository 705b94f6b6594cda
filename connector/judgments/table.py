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
    "ITEM_TEXT_COLUMNS",
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
# Optional columns the connector does not score but the export reads (an item's texts, repeated
# on each of its judgments): kept without a warning.
ITEM_TEXT_COLUMNS: tuple[str, ...] = ("prompt", "response_a", "response_b")
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
    lines: Sequence[int] | None = None

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
    """Where the rows of a frame came from: file lines (1-based) or, if None, row positions.

    ``numbered_rows``: ``lines`` holds 1-based row numbers, not file lines (a reshaped frame
    from a source without lines)."""

    source: str
    lines: Sequence[int] | None
    numbered_rows: bool = False

    def _number(self, position: int) -> int:
        return position + 1 if self.lines is None else int(self.lines[position])

    def where(self, position: int) -> str:
        if self.lines is None or self.numbered_rows:
            return f"{self.source}: row {self._number(position)}"
        return f"{self.source}:{self.lines[position]}"

    def label(self, position: int) -> str:
        if self.lines is None or self.numbered_rows:
            return f"row {self._number(position)}"
        return f"line {self.lines[position]}"

    def others(self, positions: Sequence[int]) -> str:
        """`` (also lines 20, 31)`` for the offending rows after the first; empty if none."""
        first = self._number(positions[0]) if positions else None
        # a reshaped row shares its line with others (a wide row's cells): each line once
        rest = list(dict.fromkeys(n for n in map(self._number, positions[1:]) if n != first))
        if not rest:
            return ""
        unit = "rows" if self.lines is None or self.numbered_rows else "lines"
        numbers = [str(n) for n in rest[:_MAX_LISTED]]
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


ObjectArray = np.ndarray[Any, np.dtype[np.object_]]


def _all_strings(column: pd.Series[Any]) -> bool:
    """Whether every present value of ``column`` is a ``str`` (a CSV read as text, a string
    Parquet column): then values equal as Python objects exactly when their hashes group them,
    and each distinct value needs checking once."""
    if isinstance(column.dtype, pd.StringDtype):
        return True
    if column.dtype != object:
        return False
    return pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty")


def _per_distinct(column: pd.Series[Any], convert: Any) -> ObjectArray:
    """``convert`` applied to each distinct value of a string column (``None`` for a missing
    one), spread back over the rows: one Python call per distinct value, not per row."""
    return _per_distinct_with_codes(column, convert)[0]


def _per_distinct_with_codes(
    column: pd.Series[Any], convert: Any
) -> tuple[ObjectArray, np.ndarray[Any, np.dtype[np.intp]]]:
    """:func:`_per_distinct` and each row's distinct-value code (-1: missing)."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    mapped = np.empty(len(uniques) + 1, dtype=object)
    # tolist(): iterating a pyarrow-backed array makes one scalar per call, 10x slower
    for position, value in enumerate(uniques.tolist()):
        mapped[position] = convert(value)
    mapped[-1] = convert(None)  # code -1: missing
    result: ObjectArray = mapped[codes]
    return result, codes


def _text_or_none(value: object) -> str | None:
    return None if _is_blank(value) else _as_text(value)


def _string_or_none(value: str | None) -> str | None:
    return value if value is not None and value.strip() else None


def _texts(column: pd.Series[Any]) -> ObjectArray:
    """Each value of ``column`` as text, ``None`` where blank."""
    if _all_strings(column):
        return _per_distinct(column, _string_or_none)
    array = np.empty(len(column), dtype=object)
    array[:] = [_text_or_none(v) for v in column.tolist()]
    return array


def _present(column: pd.Series[Any]) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Rows of a string column that are not blank (missing or only white space)."""
    stripped = column.astype("str").str.strip() if column.dtype == object else column.str.strip()
    return (column.notna() & stripped.ne("")).to_numpy(dtype=bool, na_value=False)


def _numbers_by_dimension_of_strings(values: ObjectArray, dimensions: ObjectArray) -> ObjectArray:
    """:func:`_numbers_by_dimension` for values that are all strings or ``None``, computed on
    the distinct (dimension, value) pairs."""
    value_codes, distinct_values = pd.factorize(values, use_na_sentinel=True)
    dimension_codes, distinct_dimensions = pd.factorize(dimensions, use_na_sentinel=True)
    parsed = np.empty(len(distinct_values) + 1, dtype=object)
    for position, value in enumerate(distinct_values.tolist()):
        parsed[position] = _parse_number(value)
    parsed[-1] = None
    readable = np.array([number is not None for number in parsed[:-1]] + [True], dtype=bool)
    present = value_codes >= 0
    unreadable = present & ~readable[value_codes]
    text_dimension = (
        np.bincount(dimension_codes[unreadable], minlength=len(distinct_dimensions)) > 0
    )
    numeric = present & ~text_dimension[dimension_codes]
    result = values.copy()
    result[numeric] = parsed[value_codes[numeric]]
    return result


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

    key_codes: dict[str, np.ndarray[Any, np.dtype[np.intp]]] = {}
    for column in REQUIRED_COLUMNS:
        values = frame[column]
        if column == "value" and not _all_strings(values):
            positions = _offending(_blank_mask(values))
        elif _all_strings(values):
            texts, key_codes[column] = _per_distinct_with_codes(values, _string_or_none)
            positions = _offending(pd.isna(texts))
            if column != "value":
                result[column] = pd.Series(texts, index=pd.RangeIndex(n), dtype=object)
        else:
            texts = _texts(values)
            positions = _offending(pd.isna(texts))
            if column != "value":
                result[column] = pd.Series(texts, index=pd.RangeIndex(n), dtype=object)
        if positions:
            raise empty_error(column, positions)

    dimension_array = result["dimension"].to_numpy(dtype=object)
    result["value"] = _judgment_values(frame["value"], dimension_array, rows, from_text)

    for column in _TEXT_COLUMNS:
        if column not in frame.columns:
            result[column] = pd.Series(np.full(n, None, dtype=object), dtype=object)
            continue
        text_array = _texts(frame[column])
        if column == "display_left":
            texts = text_array.tolist()
            bad = [p for p, t in enumerate(texts) if t is not None and t not in _DISPLAY_SIDES]
            if bad:
                raise JudgmentTableError(
                    f"{rows.where(bad[0])}: column 'display_left' is {texts[bad[0]]!r}"
                    f"{rows.others(bad)}; it must be 'a' or 'b' (the response shown on the left)"
                    " or empty"
                )
        result[column] = pd.Series(text_array, index=pd.RangeIndex(n), dtype=object)

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
        result["gold_value"] = _judgment_values(
            frame["gold_value"], dimension_array, rows, from_text, column_name="gold_value"
        )
    else:
        result["gold_value"] = pd.Series(np.full(n, None, dtype=object), dtype=object)

    extra = [c for c in found if c not in COLUMNS]
    # response_<option>: a ranked option's text (connector.consensus.texts)
    unknown = [c for c in extra if c not in ITEM_TEXT_COLUMNS and not c.startswith("response_")]
    if unknown:
        warnings.append(
            f"{rows.source}: unknown column(s) {', '.join(repr(c) for c in unknown)} kept as they "
            f"are; the connector reads only {', '.join(COLUMNS)}"
        )
    # concat, not DataFrame(dict): the columns stay separate blocks, no 2-D copy of the table
    columns = [result[c].set_axis(pd.RangeIndex(n)).rename(c) for c in COLUMNS]
    out = pd.concat(columns, axis=1)
    for column in extra:
        out[column] = frame[column].to_numpy()

    repeated = _repeated_keys(out, key_codes)
    repeats = int(repeated.sum())
    if repeats:
        first = int(np.flatnonzero(repeated)[0])
        warnings.append(
            f"{rows.source}: {repeats} judgment(s) repeat an (item_id, annotator, dimension) "
            f"already judged, first at {rows.label(first)}; "
            "they are read as re-tests, except exact copies (same value and time), which the "
            "report drops and counts"
        )
    return out, warnings


def _judgment_values(
    column: pd.Series[Any],
    dimensions: ObjectArray,
    rows: _Rows,
    from_text: bool,
    *,
    column_name: str = "value",
) -> pd.Series[Any]:
    """The ``value`` (or ``gold_value``) column: blanks as ``None``, numpy scalars as Python
    ones, and, from text, numbers where every value of the dimension reads as one."""
    n = len(column)
    if _all_strings(column):
        values = _per_distinct(column, lambda v: None if _is_blank(v) else v)
        if from_text:
            values = _numbers_by_dimension_of_strings(values, dimensions)
        return pd.Series(values, index=pd.RangeIndex(n), dtype=object)
    value_list = [None if _is_blank(v) else _native(v) for v in column.tolist()]
    _reject_containers(column_name, value_list, rows)
    if from_text:
        value_list = _numbers_by_dimension(value_list, dimensions.tolist())
    return _object_series(value_list)


def _repeated_keys(
    out: pd.DataFrame, codes: dict[str, np.ndarray[Any, np.dtype[np.intp]]]
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Rows whose (item_id, annotator, dimension) an earlier row has: from the columns' codes
    when reading text gave them (distinct strings, distinct codes), else from the columns."""
    key = ("item_id", "annotator", "dimension")
    sizes = [int(codes[c].max(initial=0)) + 1 for c in key if c in codes]
    if len(sizes) == len(key) and math.prod(sizes) < 2**62:
        combined = np.zeros(len(out), dtype=np.int64)
        for column in key:
            combined = combined * (int(codes[column].max(initial=0)) + 1) + codes[column]
        return pd.Series(combined).duplicated(keep="first").to_numpy(dtype=bool)
    return out.duplicated(subset=list(key), keep="first").to_numpy(dtype=bool)


def _object_series(values: Sequence[object]) -> pd.Series[Any]:
    array = np.empty(len(values), dtype=object)
    array[:] = values if isinstance(values, list) else list(values)
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
    if _all_strings(column):
        texts = column.reset_index(drop=True)
        present = np.array(texts.notna(), dtype=bool)  # blank strings: below, when they fail
    else:
        raw_texts = [None if _is_blank(v) else _as_text(v) for v in column.tolist()]
        texts = pd.Series(raw_texts, dtype=object)
        present = np.array(texts.notna(), dtype=bool)
    parsed = pd.to_datetime(texts, utc=True, format="ISO8601", errors="coerce")
    failed_mask = present & np.array(parsed.isna(), dtype=bool)
    if failed_mask.any():
        blank = [p for p in np.flatnonzero(failed_mask) if _is_blank(texts.iloc[p])]
        present[blank] = False
        failed_mask[blank] = False
    if failed_mask.any():
        retry_at = np.flatnonzero(failed_mask)
        retry = pd.to_datetime(texts.iloc[retry_at], utc=True, format="mixed", errors="coerce")
        parsed = parsed.astype(_TIMESTAMP_DTYPE)
        parsed.iloc[retry_at] = retry.astype(_TIMESTAMP_DTYPE)
        failed_mask = present & parsed.isna().to_numpy()
    failed = _offending(failed_mask)
    raw = texts
    if failed:
        raise JudgmentTableError(
            f"{rows.where(failed[0])}: column 'submitted_at' is not a timestamp: "
            f"{raw[failed[0]]!r}{rows.others(failed)}; write ISO 8601, "
            "e.g. 2024-05-01T12:00:00Z"
        )
    return parsed.astype(_TIMESTAMP_DTYPE).reset_index(drop=True)


def _floats(column: pd.Series[Any], name: str, rows: _Rows) -> pd.Series[Any]:
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column):
        return pd.Series(column.to_numpy(dtype="float64", na_value=np.nan), dtype="float64")
    if _all_strings(column):
        return _floats_from_strings(column, name, rows)
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
        raise _not_a_number(name, raw, bad, rows)
    return pd.Series(numbers, dtype="float64")


def _floats_from_strings(column: pd.Series[Any], name: str, rows: _Rows) -> pd.Series[Any]:
    """:func:`_floats` of a string column: parsed at once, the rows pandas cannot read (white
    space, ``inf``) looked at one by one."""
    try:  # pyarrow's cast, when the strings are pyarrow's: all-or-nothing, in C
        numbers = np.array(column.astype("float64").to_numpy(), dtype="float64")
        present = column.notna().to_numpy(dtype=bool)  # no blank string: the cast took them all
    except (ValueError, TypeError):
        present = _present(column)
        parsed = pd.to_numeric(column, errors="coerce")
        numbers = np.array(parsed.to_numpy(dtype="float64", na_value=np.nan), dtype="float64")
    odd = [int(p) for p in np.flatnonzero(present & ~np.isfinite(numbers))]
    raw_odd = column.iloc[odd].tolist()
    bad: list[int] = []
    for position, value in zip(odd, raw_odd, strict=True):
        number = _parse_number(value)
        if number is None:
            bad.append(position)
        numbers[position] = math.nan if number is None else float(number)
    numbers[~present] = math.nan
    if bad:
        raise _not_a_number(name, column.tolist(), bad, rows)
    return pd.Series(numbers, dtype="float64")


def _not_a_number(name: str, raw: list[Any], bad: list[int], rows: _Rows) -> JudgmentTableError:
    return JudgmentTableError(
        f"{rows.where(bad[0])}: column {name!r} is not a number: {raw[bad[0]]!r}{rows.others(bad)}"
    )
