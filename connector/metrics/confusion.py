"""Which values annotators confuse: pair counts of judgments on the same item."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from connector.metrics.table import Category

__all__ = ["ConfusionPair", "confusion_pairs", "pair_confusion"]

FloatArray: TypeAlias = npt.NDArray[np.float64]


def pair_confusion(counts: FloatArray) -> FloatArray:
    """Unordered pairs of judgments of the same item by value, shape (q, q), symmetric.

    ``M[c, k]`` (c ≠ k) counts pairs where one judgment is ``c`` and the other ``k``;
    ``M[c, c]`` counts agreeing pairs on ``c``. The upper triangle sums to all pairs.

    Args:
        counts: per-item value counts, shape (U, q).
    """
    m = counts.T @ counts
    diag = np.diag_indices_from(m)
    m[diag] = (m[diag] - counts.sum(axis=0)) / 2.0
    return np.asarray(m, dtype=np.float64)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfusionPair:
    first: Category
    second: Category
    count: float
    share: float


def confusion_pairs(
    matrix: FloatArray, categories: Sequence[Category], *, top: int = 5
) -> list[ConfusionPair]:
    """The ``top`` most frequent disagreeing value pairs, with their share of all pairs."""
    q = len(categories)
    total = float(np.triu(matrix).sum())
    rows, cols = np.triu_indices(q, k=1)
    order = np.argsort(-matrix[rows, cols], kind="stable")[:top]
    return [
        ConfusionPair(
            first=categories[rows[i]],
            second=categories[cols[i]],
            count=float(matrix[rows[i], cols[i]]),
            share=float(matrix[rows[i], cols[i]]) / total if total else float("nan"),
        )
        for i in order
        if matrix[rows[i], cols[i]] > 0
    ]
