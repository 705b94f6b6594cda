"""Tables as people have them: :class:`TableLayout` says how a table's columns map onto the
canonical judgments table, and :func:`to_long` reshapes a raw frame accordingly.

A table may be

- long with other names: ``--item-col`` (several columns, comma-separated, make one composite
  item key), ``--annotator-col``, ``--value-col``, ``--dimension-col``, or one fixed dimension
  for every row (``--dimension NAME``);
- wide: one row per item, one column per annotator (``idx, annotator1, annotator2``); an
  empty cell is an item the annotator did not judge;
- one-hot: the value of dimension ``P`` spread over columns ``P.<value>`` holding 1 on the
  chosen one and 0 elsewhere (``--one-hot P``; ConvAbuse's ``is_abuse.1`` … ``is_abuse.-3``).

Rows whose value is empty are an error naming their lines, unless ``drop_empty`` says to drop
them; dropped rows are counted in the table's warnings. Every row keeps the file line it came
from, so later errors still name ``file:line``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from connector.errors import JudgmentTableError
from connector.judgments.table import COLUMNS, REQUIRED_COLUMNS, _is_blank, _Rows

__all__ = ["COMPOSITE_SEPARATOR", "ONE_HOT_SEPARATOR", "TableLayout", "to_long"]

COMPOSITE_SEPARATOR = "|"
ONE_HOT_SEPARATOR = "."
_HOT = frozenset({"1", "1.0", "true", "yes", "x"})
_COLD = frozenset({"0", "0.0", "false", "no", ""})
_OPTIONAL = tuple(c for c in COLUMNS if c not in REQUIRED_COLUMNS)
_MAX_LISTED = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class TableLayout:
    """How a table's columns become the canonical columns (all optional; the default reads the
    canonical long table as it is).

    Attributes:
        item: the column(s) naming the item; several make one key joined by
            :data:`COMPOSITE_SEPARATOR` (``("bbcid", "system")``).
        annotator: the column naming the annotator (long tables).
        value: the column holding the value (long tables).
        dimension: the column naming the dimension.
        fixed_dimension: one dimension name for every row.
        one_hot: prefixes ``P`` of one-hot column groups ``P.<value>``, one dimension each.
        wide: ``True``: one row per item, one column per annotator; ``None``: wide when the table
            has neither an annotator nor a value column and no one-hot groups (said in a
            warning); ``False``: never.
        drop_empty: drop rows with an empty value (and one-hot rows with no column set) and
            count them, instead of stopping at the first.
        empty_markers: cell texts read as empty in delimited files (``NULL``, ``NA``), besides
            the empty cell.
    """

    item: tuple[str, ...] = ()
    annotator: str | None = None
    value: str | None = None
    dimension: str | None = None
    fixed_dimension: str | None = None
    one_hot: tuple[str, ...] = ()
    wide: bool | None = None
    drop_empty: bool = False
    empty_markers: tuple[str, ...] = ()

    @property
    def reshapes(self) -> bool:
        """Whether the layout asks for anything beyond the canonical long table."""
        return bool(
            self.item
            or self.annotator
            or self.value
            or self.dimension
            or self.fixed_dimension
            or self.one_hot
            or self.wide is True
        )


def to_long(
    frame: pd.DataFrame, layout: TableLayout, rows: _Rows
) -> tuple[pd.DataFrame, _Rows, list[str]]:
    """``frame`` reshaped to canonical long rows (not yet validated), where each row came from,
    and warnings saying what was read how and what was dropped.

    Raises:
        JudgmentTableError: a named column is missing, two options claim the same column, a
            one-hot row has no column or several set, or a value is empty (without
            ``drop_empty``); the message names the file, line and column and what to do.
    """
    frame = frame.reset_index(drop=True)
    frame.columns = pd.Index([str(c) for c in frame.columns])
    lines = _line_numbers(rows, len(frame))
    file_columns = frame.columns
    warnings: list[str] = []
    _check_options(layout, rows.source)
    if layout.item:
        frame = _composite_item(frame, layout.item, rows)
    renames = {"annotator": layout.annotator, "value": layout.value, "dimension": layout.dimension}
    for canonical, given in renames.items():
        if given is None:
            continue
        _require(frame, [given], rows.source, f"--{canonical}-col")
        if canonical in frame.columns and given != canonical:
            raise JudgmentTableError(
                f"{rows.source}: --{canonical}-col {given!r} names the {canonical} column, but "
                f"the table has a column {canonical!r} too; rename or drop one of them"
            )
        frame = frame.rename(columns={given: canonical})
    wide = layout.wide
    if wide is None:
        columns = set(frame.columns)
        wide = not layout.one_hot and not {"annotator", "value"} & columns
        if wide:
            warnings.append(
                f"{rows.source}: no annotator and no value column: read as a wide table (one "
                "row per item, one column per annotator); name the columns with --annotator-col "
                "and --value-col if it is a long one"
            )
    if wide:
        frame, lines, notes = _melt_wide(frame, lines, layout, rows.source)
        warnings.extend(notes)
    elif layout.one_hot:
        frame, lines = _one_hot(frame, lines, layout, _located(rows, lines), file_columns)
    if layout.fixed_dimension is not None:
        if "dimension" in frame.columns:
            raise JudgmentTableError(
                f"{rows.source}: --dimension {layout.fixed_dimension!r} gives every row one "
                "dimension, but the table has a 'dimension' column; drop one of them"
            )
        frame["dimension"] = layout.fixed_dimension
    if "value" in frame.columns:
        name = repr(layout.value or "value")
        if layout.one_hot:
            name = " or ".join(f"'{p}{ONE_HOT_SEPARATOR}*' (no column set)" for p in layout.one_hot)
        frame, lines, dropped = _empty_values(
            frame, lines, _located(rows, lines), layout.drop_empty, name
        )
        if dropped:
            warnings.append(dropped)
    return frame, _located(rows, lines), warnings


# --------------------------------------------------------------------------------------------
# Row numbers
# --------------------------------------------------------------------------------------------


def _line_numbers(rows: _Rows, n: int) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Each row's 1-based file line, or for a source without lines its 1-based row number."""
    if rows.lines is None:
        return np.arange(1, n + 1, dtype=np.int64)
    return np.asarray(rows.lines, dtype=np.int64)


def _located(rows: _Rows, lines: np.ndarray[Any, np.dtype[np.int64]]) -> _Rows:
    """Row locations for a reshaped frame whose rows came from ``lines``."""
    return _Rows(rows.source, _Lines(lines), numbered_rows=rows.lines is None or rows.numbered_rows)


class _Lines(Sequence[int]):
    """File lines (or row numbers) of reshaped rows: a :class:`Sequence` over a numpy array."""

    def __init__(self, lines: np.ndarray[Any, np.dtype[np.int64]]) -> None:
        self.array = lines

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, index: Any) -> Any:
        return int(self.array[index])


# --------------------------------------------------------------------------------------------
# Options and columns
# --------------------------------------------------------------------------------------------


def _check_options(layout: TableLayout, source: str) -> None:
    if layout.fixed_dimension is not None and layout.dimension is not None:
        raise JudgmentTableError(
            f"{source}: give --dimension NAME (one dimension for every row) or --dimension-col "
            "COLUMN, not both"
        )
    if layout.one_hot and (layout.value or layout.dimension or layout.fixed_dimension):
        raise JudgmentTableError(
            f"{source}: --one-hot PREFIX makes PREFIX the dimension and the hot column's suffix "
            "the value; drop --value-col, --dimension-col and --dimension"
        )
    if layout.one_hot and layout.wide:
        raise JudgmentTableError(f"{source}: --one-hot and --wide cannot be combined")
    if layout.wide and (layout.annotator or layout.value):
        raise JudgmentTableError(
            f"{source}: a wide table has one column per annotator; --annotator-col and "
            "--value-col apply to long tables"
        )


def _require(frame: pd.DataFrame, names: Sequence[str], source: str, option: str) -> None:
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise JudgmentTableError(
            f"{source}: {option} names column(s) {', '.join(map(repr, missing))} that the table "
            f"does not have; its columns are {_listed(frame.columns)}"
        )


def _listed(names: Sequence[str] | pd.Index[Any]) -> str:
    shown = [repr(str(n)) for n in list(names)[:_MAX_LISTED]]
    more = len(names) - _MAX_LISTED
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _composite_item(frame: pd.DataFrame, columns: tuple[str, ...], rows: _Rows) -> pd.DataFrame:
    """``item_id`` from ``columns``: one column renamed, several joined by
    :data:`COMPOSITE_SEPARATOR` (an error if two different tuples would join to one key)."""
    _require(frame, columns, rows.source, "--item-col")
    if "item_id" in frame.columns and "item_id" not in columns:
        raise JudgmentTableError(
            f"{rows.source}: --item-col names the item, but the table has an 'item_id' column "
            "too; rename or drop one of them"
        )
    if len(columns) == 1:
        return frame.rename(columns={columns[0]: "item_id"})
    parts = [frame[c].astype("str").where(frame[c].notna(), "") for c in columns]
    blank = np.zeros(len(frame), dtype=bool)
    for part in parts:
        blank |= part.str.strip().eq("").to_numpy(dtype=bool)
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + COMPOSITE_SEPARATOR + part
    keys = joined.where(~blank, None)
    tuples = frame.groupby(list(columns), dropna=False, sort=False).ngroup().to_numpy()
    if pd.Series(keys).nunique(dropna=False) != len(np.unique(tuples)):
        raise JudgmentTableError(
            f"{rows.source}: the columns {', '.join(map(repr, columns))} joined by "
            f"{COMPOSITE_SEPARATOR!r} give one key to different items (a value holds "
            f"{COMPOSITE_SEPARATOR!r}); make an item_id column instead"
        )
    out = frame.drop(columns=list(columns))
    out.insert(0, "item_id", keys.to_numpy(dtype=object))
    return out


def _melt_wide(
    frame: pd.DataFrame,
    lines: np.ndarray[Any, np.dtype[np.int64]],
    layout: TableLayout,
    source: str,
) -> tuple[pd.DataFrame, np.ndarray[Any, np.dtype[np.int64]], list[str]]:
    notes: list[str] = []
    if "item_id" not in frame.columns:
        if frame.columns.empty:
            raise JudgmentTableError(f"{source}: the table has no columns")
        first = str(frame.columns[0])
        notes.append(f"{source}: wide table: column {first!r} read as the item (--item-col)")
        frame = frame.rename(columns={first: "item_id"})
    kept = ["item_id", *(c for c in (*_OPTIONAL, "dimension") if c in frame.columns)]
    annotators = [str(c) for c in frame.columns if c not in kept]
    if not annotators:
        raise JudgmentTableError(
            f"{source}: a wide table needs one column per annotator; the table has only "
            f"{_listed(frame.columns)}"
        )
    notes.append(f"{source}: wide table: annotator columns {_listed(annotators)}")
    n = len(frame)
    cells = frame[annotators].to_numpy(dtype=object).reshape(-1)
    filled = ~pd.isna(cells)
    filled[filled] = [not _is_blank(v) for v in cells[filled]]
    long = pd.DataFrame(
        {c: np.repeat(frame[c].to_numpy(dtype=object), len(annotators)) for c in kept}
    )
    long["annotator"] = np.tile(np.asarray(annotators, dtype=object), n)
    long["value"] = cells
    line_of = np.repeat(lines, len(annotators))
    empty = int((~filled).sum())
    if empty:
        notes.append(
            f"{source}: wide table: {empty} empty cell(s) read as items the annotator did not judge"
        )
    if "dimension" not in long.columns and layout.fixed_dimension is None:
        long["dimension"] = "label"
        notes.append(f"{source}: wide table: dimension named 'label' (--dimension NAME)")
    return long[filled].reset_index(drop=True), line_of[filled], notes


def _one_hot(
    frame: pd.DataFrame,
    lines: np.ndarray[Any, np.dtype[np.int64]],
    layout: TableLayout,
    rows: _Rows,
    file_columns: pd.Index[Any],
) -> tuple[pd.DataFrame, np.ndarray[Any, np.dtype[np.int64]]]:
    """One long row per (row, prefix): the value is the suffix of the row's hot column; a row
    with none is given an empty value (dropped or reported by :func:`_empty_values`)."""
    if "value" in frame.columns or "dimension" in frame.columns:
        raise JudgmentTableError(
            f"{rows.source}: --one-hot gives each row its dimension and value, but the table has "
            "a 'value' or 'dimension' column; drop --one-hot or that column"
        )
    groups: dict[str, list[str]] = {}
    for prefix in layout.one_hot:
        head = prefix + ONE_HOT_SEPARATOR
        groups[prefix] = [str(c) for c in frame.columns if str(c).startswith(head)]
        if not groups[prefix]:
            raise JudgmentTableError(
                f"{rows.source}: --one-hot {prefix!r}: no column is named "
                f"'{prefix}{ONE_HOT_SEPARATOR}<value>'; the columns are {_listed(file_columns)}"
            )
    every = [c for columns in groups.values() for c in columns]
    base = frame.drop(columns=every)
    parts: list[pd.DataFrame] = []
    for prefix, columns in groups.items():
        hot = _hot_cells(frame[columns], columns, rows)
        count = hot.sum(axis=1)
        several = np.flatnonzero(count > 1)
        if several.size:
            at = int(several[0])
            set_here = [columns[k] for k in np.flatnonzero(hot[at])]
            raise JudgmentTableError(
                f"{rows.where(at)}: --one-hot {prefix!r}: several columns are set "
                f"({', '.join(set_here)}){rows.others([int(p) for p in several])}; "
                "a one-hot group has exactly one"
            )
        suffixes = np.asarray([c[len(prefix) + 1 :] for c in columns] + [None], dtype=object)
        chosen = np.where(count == 1, hot.argmax(axis=1), len(columns))
        part = base.copy()
        part["dimension"] = prefix
        part["value"] = suffixes[chosen]
        parts.append(part)
    long = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return long, np.tile(lines, len(parts))


def _hot_cells(
    cells: pd.DataFrame, columns: list[str], rows: _Rows
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    text = cells.astype("str").where(cells.notna(), "")
    hot = np.zeros(text.shape, dtype=bool)
    for k, column in enumerate(columns):
        lowered = text[column].str.strip().str.lower()
        is_hot = lowered.isin(_HOT).to_numpy(dtype=bool)
        odd = np.flatnonzero(~is_hot & ~lowered.isin(_COLD).to_numpy(dtype=bool))
        if odd.size:
            at = int(odd[0])
            raise JudgmentTableError(
                f"{rows.where(at)}: column {column!r} is {cells[column].iloc[at]!r}"
                f"{rows.others([int(p) for p in odd])}; a one-hot column holds 1 or 0 "
                "(true/false, yes/no)"
            )
        hot[:, k] = is_hot
    return hot


def _empty_values(
    frame: pd.DataFrame,
    lines: np.ndarray[Any, np.dtype[np.int64]],
    rows: _Rows,
    drop: bool,
    name: str,
) -> tuple[pd.DataFrame, np.ndarray[Any, np.dtype[np.int64]], str | None]:
    values = frame["value"]
    present = values.notna().to_numpy(dtype=bool)
    if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
        stripped = values.astype("str").str.strip().ne("").to_numpy(dtype=bool, na_value=False)
        present = present & stripped
    empty = np.flatnonzero(~present)
    if not empty.size:
        return frame, lines, None
    if not drop:
        tail = "drop the row" if empty.size == 1 else "drop those rows"
        raise JudgmentTableError(
            f"{rows.where(int(empty[0]))}: column {name} is empty"
            f"{rows.others([int(p) for p in empty])}; fill it in, {tail}, or pass "
            "--drop-empty to drop and count such rows"
        )
    message = (
        f"{rows.source}: --drop-empty dropped {empty.size} row(s) with an empty value in column "
        f"{name}, first at {rows.label(int(empty[0]))}"
    )
    return frame[present].reset_index(drop=True), lines[present], message
