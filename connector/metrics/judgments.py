"""Long-format judgments of one dimension, integer-coded once for every per-annotator figure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from connector.metrics.table import value_counts

__all__ = ["CodedJudgments", "group_pairs"]

IntArray: TypeAlias = npt.NDArray[np.intp]
FloatArray: TypeAlias = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, kw_only=True)
class CodedJudgments:
    """One dimension's judgments, at most one per (item, annotator).

    Attributes:
        item: item index of each judgment, shape (N,), in ``0..n_items-1``.
        annotator: annotator index, shape (N,), in ``0..n_annotators-1``.
        value: value code, shape (N,), in ``0..q-1``.
        gold: the item's gold value code, shape (N,), ``-1`` where the item has no gold.
    """

    item: IntArray
    annotator: IntArray
    value: IntArray
    gold: IntArray
    n_items: int
    n_annotators: int
    q: int

    def counts(self) -> FloatArray:
        """Per-item value counts, shape (n_items, q)."""
        return value_counts(self.item, self.value, n_units=self.n_items, q=self.q)


def group_pairs(group: IntArray) -> tuple[IntArray, IntArray]:
    """All unordered pairs of positions that share a group, as index arrays ``(first, second)``.

    Runs in O(N · m) for groups of at most m members, without a Python loop over groups.
    """
    order = np.argsort(group, kind="stable")
    sorted_group = group[order]
    n = len(order)
    firsts: list[IntArray] = []
    seconds: list[IntArray] = []
    offset = 1
    while offset < n:
        same = np.flatnonzero(sorted_group[:-offset] == sorted_group[offset:])
        if same.size == 0:
            break
        firsts.append(order[same])
        seconds.append(order[same + offset])
        offset += 1
    if not firsts:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty
    return np.concatenate(firsts), np.concatenate(seconds)
