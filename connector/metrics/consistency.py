"""Intra-annotator consistency: an annotator's two judgments of the same item (re-tests).

References:
    Cohen (1960), doi:10.1177/001316446002000104 — applied to (first, second) judgment pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from connector.metrics.cohen import kappa_from_tables

__all__ = ["Consistency", "retest_consistency"]

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True, kw_only=True)
class Consistency:
    """Agreement of first and repeated judgments: pooled (floats) and per annotator (shape (A,))."""

    n_pairs: int
    agreement: float
    kappa: float
    annotator_n_pairs: IntArray
    annotator_agreement: FloatArray
    annotator_kappa: FloatArray


def retest_consistency(
    first: IntArray, second: IntArray, annotator: IntArray, *, n_annotators: int, w: FloatArray
) -> Consistency:
    """Cohen's kappa and agreement between an annotator's first and repeated judgments.

    Args:
        first: value code of the first judgment of each re-tested (item, annotator), shape (M,).
        second: value code of the repeat, shape (M,).
        annotator: annotator index of each pair, shape (M,).
        w: agreement weights, shape (q, q).
    """
    q = w.shape[0]
    flat = np.bincount((annotator * q + first) * q + second, minlength=n_annotators * q * q)
    tables = flat.reshape(n_annotators, q, q).astype(np.float64)
    n = tables.sum(axis=(1, 2))
    agree = np.trace(tables, axis1=1, axis2=2)
    pooled = tables.sum(axis=0)
    total = float(pooled.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        per = np.where(n > 0, agree / np.where(n > 0, n, 1), np.nan)
    return Consistency(
        n_pairs=int(total),
        agreement=float(np.trace(pooled) / total) if total else float("nan"),
        kappa=float(kappa_from_tables(pooled, w)),
        annotator_n_pairs=n.astype(np.intp),
        annotator_agreement=np.asarray(per, dtype=np.float64),
        annotator_kappa=kappa_from_tables(tables, w),
    )
