"""Majority vote per item: the most frequent value, its share, and the vote shares (soft label).

A tie (two or more values share the top count) is reported as a tie, with no label: it is never
broken silently. On a preference dimension ``tie`` is a value like ``a`` and ``b``; a majority
*tie* is an equal top count, whatever the values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["MajorityVote", "majority_vote"]

IntArray: TypeAlias = npt.NDArray[np.intp]
FloatArray: TypeAlias = npt.NDArray[np.float64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True, kw_only=True)
class MajorityVote:
    """Majority vote over items.

    Attributes:
        label: code of the most frequent value, shape (n_items,); ``-1`` on a tie or on an item
            with no vote.
        tie: whether two or more values share the top count, shape (n_items,).
        confidence: the top count over the item's votes (the winning share; on a tie the share
            of each tied value), shape (n_items,); NaN on an item with no vote.
        shares: vote shares, shape (n_items, q), each row summing to 1 (NaN with no vote).
        counts: votes per value, shape (n_items, q).
    """

    label: IntArray
    tie: BoolArray
    confidence: FloatArray
    shares: FloatArray
    counts: FloatArray


def majority_vote(counts: npt.ArrayLike) -> MajorityVote:
    """Majority vote from per-item value counts.

    Args:
        counts: votes per item and value, shape (n_items, q).

    Returns:
        :class:`MajorityVote`; ``label`` is ``-1`` where the top count is shared (a tie) or the
        item has no vote.

    Raises:
        ValueError: ``counts`` is not two-dimensional or holds a negative count.

    >>> mv = majority_vote([[2, 1, 0], [1, 1, 0], [0, 0, 3]])
    >>> mv.label.tolist(), mv.tie.tolist(), mv.confidence.round(3).tolist()
    ([0, -1, 2], [False, True, False], [0.667, 0.5, 1.0])
    """
    table = np.asarray(counts, dtype=np.float64)
    if table.ndim != 2:
        raise ValueError(f"counts must be (n_items, q), got shape {table.shape}")
    if (table < 0).any():
        raise ValueError("counts must not be negative")
    total = table.sum(axis=1)
    top = table.max(axis=1, initial=0.0)
    voted = total > 0
    n_top = (table == top[:, None]).sum(axis=1)
    tie = voted & (n_top > 1)
    label = np.where(voted & ~tie, table.argmax(axis=1), -1).astype(np.intp)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = table / total[:, None]
        confidence = np.where(voted, top / total, np.nan)
    return MajorityVote(label=label, tie=tie, confidence=confidence, shares=shares, counts=table)
