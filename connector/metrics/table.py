"""Turn a units × raters table into integer codes once, and codes into per-unit value counts.

Every coefficient of the engine works on integer codes ``0..q-1`` of an ordered category list;
this module is the only place that looks at the labels themselves.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from connector.errors import InsufficientDataError

__all__ = [
    "Category",
    "CodedTable",
    "code_table",
    "code_values",
    "value_counts",
]

Category: TypeAlias = str | int | float
IntArray: TypeAlias = npt.NDArray[np.intp]
FloatArray: TypeAlias = npt.NDArray[np.float64]
MISSING = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class CodedTable:
    """A units × raters table of integer codes.

    Attributes:
        codes: ndarray, shape (U, R), ``0..q-1`` for a value and ``-1`` for a missing one.
        categories: the ordered categories; ``codes == k`` means ``categories[k]``.
    """

    codes: IntArray
    categories: tuple[Category, ...]

    @property
    def q(self) -> int:
        return len(self.categories)


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _sorted_categories(observed: Sequence[Any]) -> tuple[Category, ...]:
    """Observed labels in their natural order: numeric if all are numbers, else as strings."""
    if all(_is_number(v) for v in observed):
        return tuple(sorted(observed, key=float))
    if all(isinstance(v, str) for v in observed):
        return tuple(sorted(observed))
    kinds = sorted({type(v).__name__ for v in observed})
    raise ValueError(
        f"values mix {' and '.join(kinds)} labels, so their order is ambiguous; "
        "pass categories=[...] to declare the ordered category list"
    )


def _normalise_number(value: Any) -> Any:
    """Numpy scalars become Python numbers; integral floats stay floats (1.0 == 1 anyway)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def code_values(
    values: npt.ArrayLike, categories: Sequence[Category] | None = None
) -> tuple[IntArray, tuple[Category, ...]]:
    """Integer-code a flat sequence of labels (missing → -1).

    Args:
        values: labels, shape (N,); None, NaN and pd.NA are missing.
        categories: the declared ordered categories. ``None`` takes the observed labels in
            natural order (numbers ascending, strings lexicographic).

    Returns:
        ``(codes, categories)``: codes shape (N,), ``-1`` where missing.

    Raises:
        ValueError: a value is not among the declared categories (the message names it and its
            position), or the declared categories repeat a label.
    """
    arr = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    flat = arr.reshape(-1)
    if flat.dtype.kind in "fiub":
        numeric = flat.astype(np.float64, copy=False)
        missing = np.isnan(numeric)
        present = numeric[~missing]
        if categories is None:
            uniq, inverse = np.unique(present, return_inverse=True)
            cats: tuple[Category, ...] = tuple(
                int(u) if float(u).is_integer() else float(u) for u in uniq
            )
            codes = np.full(flat.shape[0], MISSING, dtype=np.intp)
            codes[~missing] = inverse
            return codes, cats
        flat = flat.astype(object)
    missing = np.asarray(pd.isna(flat), dtype=bool)
    present_values = flat[~missing]
    if categories is None:
        _, uniques = pd.factorize(present_values, sort=False)
        cats = _sorted_categories([_normalise_number(u) for u in uniques])
    else:
        cats = tuple(_normalise_number(c) for c in categories)
        if len(set(cats)) != len(cats):
            raise ValueError(f"categories repeat a label: {list(cats)}")
    lookup = pd.Index(pd.Series(cats, dtype=object))
    present_codes = lookup.get_indexer(pd.Index(pd.Series(present_values, dtype=object)))
    unknown = present_codes < 0
    if unknown.any():
        positions = np.flatnonzero(~missing)[unknown]
        first = present_values[unknown][0]
        raise ValueError(
            f"value {first!r} (at flat position {int(positions[0])}, {int(unknown.sum())} such "
            f"value(s) in all) is not one of the declared categories {list(cats)}"
        )
    codes = np.full(flat.shape[0], MISSING, dtype=np.intp)
    codes[~missing] = present_codes
    return codes, cats


def _as_2d(data: Any) -> npt.NDArray[Any]:
    if isinstance(data, pd.DataFrame):
        frame = data
        if all(dtype.kind in "fiub" for dtype in frame.dtypes):
            return frame.to_numpy(dtype=np.float64, na_value=np.nan)
        return frame.to_numpy(dtype=object)
    if isinstance(data, np.ndarray):
        arr = data
    else:
        rows = list(data)
        if rows and not all(isinstance(r, list | tuple | np.ndarray | pd.Series) for r in rows):
            raise ValueError("data must be a units × raters table: a list of rows, not a flat list")
        width = max((len(r) for r in rows), default=0)
        arr = np.full((len(rows), width), None, dtype=object)
        for i, row in enumerate(rows):
            arr[i, : len(row)] = list(row)
        try:
            as_float = arr.astype(np.float64)
        except (TypeError, ValueError):
            return arr
        return as_float
    if arr.ndim != 2:
        raise ValueError(f"data must be 2-dimensional (units × raters); got shape {arr.shape}")
    return arr


def code_table(data: Any, categories: Sequence[Category] | None = None) -> CodedTable:
    """Integer-code a units × raters table (list of lists, ndarray or DataFrame).

    Rows are units (items), columns raters; ``None``/``NaN``/``pd.NA`` is a missing rating.
    """
    arr = _as_2d(data)
    codes, cats = code_values(arr.reshape(-1), categories)
    return CodedTable(codes=codes.reshape(arr.shape), categories=cats)


def value_counts(unit: IntArray, code: IntArray, *, n_units: int, q: int) -> FloatArray:
    """Per-unit value counts from long-format codes.

    Args:
        unit: unit index of each judgment, shape (N,), in ``0..n_units-1``.
        code: value code of each judgment, shape (N,), ``-1`` for missing (ignored).

    Returns:
        counts, shape (n_units, q): ``counts[u, k]`` judgments of unit ``u`` with value ``k``.
    """
    keep = code >= 0
    flat = unit[keep] * q + code[keep]
    counts = np.bincount(flat, minlength=n_units * q).astype(np.float64)
    return counts.reshape(n_units, q)


def table_counts(table: CodedTable) -> FloatArray:
    """Per-unit value counts of a coded units × raters table, shape (U, q)."""
    n_units, n_raters = table.codes.shape
    unit = np.repeat(np.arange(n_units, dtype=np.intp), n_raters)
    return value_counts(unit, table.codes.reshape(-1), n_units=n_units, q=table.q)


def require_pairable(counts: FloatArray, *, what: str) -> None:
    """Raise :class:`InsufficientDataError` unless some unit carries two or more values."""
    if counts.size == 0 or not (counts.sum(axis=1) >= 2).any():
        raise InsufficientDataError(
            f"{what} needs at least one unit with two or more ratings; "
            f"none of the {counts.shape[0]} unit(s) has two (no pairable values)"
        )
