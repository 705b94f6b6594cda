"""Intra-annotator consistency: an annotator's two judgments of the same item (re-tests).

The coefficient is Cohen's kappa of (first, second) pairs with the dimension's agreement
weights (unweighted for nominal dimensions, weighted for ordinal and interval ones: the same
weights as every other kappa of the dimension). Its interval resamples the re-test pairs
(each pair is a unit) with the bootstrap of :mod:`connector.metrics.bootstrap` (BCa by
default); a pair's pattern is its cell of the q × q table, so there are at most q² patterns.

References:
    Cohen (1960), doi:10.1177/001316446002000104 — applied to (first, second) judgment pairs.
    Efron & Tibshirani (1993), ch. 14.3 (BCa), doi:10.1201/9780429246593.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from connector.metrics.bootstrap import (
    DEFAULT_INTERVAL_METHOD,
    IntervalMethod,
    bootstrap_interval,
)
from connector.metrics.cohen import kappa_from_tables

__all__ = ["Consistency", "retest_consistency", "retest_kappa_interval"]

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.intp]
_NAN_PAIR = (float("nan"), float("nan"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Consistency:
    """Agreement of first and repeated judgments: pooled (floats) and per annotator (shape (A,)).

    ``kappa_ci`` and ``annotator_kappa_ci`` (shape (A, 2)) are NaN when no interval was asked
    (``resamples=0``) or none is defined (one pair; every resample undefined; see
    :func:`retest_kappa_interval`).
    """

    n_pairs: int
    agreement: float
    kappa: float
    kappa_ci: tuple[float, float]
    annotator_n_pairs: IntArray
    annotator_agreement: FloatArray
    annotator_kappa: FloatArray
    annotator_kappa_ci: FloatArray


def retest_kappa_interval(
    table: FloatArray,
    w: FloatArray,
    *,
    resamples: int,
    seed: int = 0,
    confidence: float = 0.95,
    method: IntervalMethod = DEFAULT_INTERVAL_METHOD,
) -> tuple[float, float]:
    """Bootstrap interval of Cohen's kappa of one (first, second) table, resampling pairs.

    Args:
        table: counts of (first, second) value codes, shape (q, q).
        w: agreement weights, shape (q, q).
        resamples: bootstrap resamples; 0 for no interval.

    Returns:
        ``(low, high)``; ``(nan, nan)`` with no resamples, fewer than 2 pairs, or when the
        interval is undefined (kappa undefined on every resample, e.g. one value throughout;
        BCa undefined when every resample falls on one side of the estimate).
    """
    q = w.shape[0]
    flat = table.reshape(-1)
    if resamples < 1 or flat.sum() < 2:
        return _NAN_PAIR
    cells = np.flatnonzero(flat > 0)
    features = np.zeros((len(cells), q * q))
    features[np.arange(len(cells)), cells] = 1.0

    def kappa(totals: FloatArray) -> FloatArray:
        return kappa_from_tables(totals.reshape(*totals.shape[:-1], q, q), w)

    return bootstrap_interval(
        kappa,
        features,
        flat[cells].astype(np.float64),
        method=method,
        resamples=resamples,
        seed=seed,
        confidence=confidence,
    )


def retest_consistency(
    first: IntArray,
    second: IntArray,
    annotator: IntArray,
    *,
    n_annotators: int,
    w: FloatArray,
    resamples: int = 0,
    seed: int = 0,
    confidence: float = 0.95,
    method: IntervalMethod = DEFAULT_INTERVAL_METHOD,
) -> Consistency:
    """Cohen's kappa and agreement between an annotator's first and repeated judgments.

    Args:
        first: value code of the first judgment of each re-tested (item, annotator), shape (M,).
        second: value code of the repeat, shape (M,).
        annotator: annotator index of each pair, shape (M,).
        w: agreement weights, shape (q, q).
        resamples: bootstrap resamples of the pairs for the intervals (0: none).
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

    def interval(table: FloatArray) -> tuple[float, float]:
        return retest_kappa_interval(
            table, w, resamples=resamples, seed=seed, confidence=confidence, method=method
        )

    per_ci = np.full((n_annotators, 2), np.nan)
    for a in np.flatnonzero(n >= 2).tolist():
        per_ci[a] = interval(tables[a])
    return Consistency(
        n_pairs=int(total),
        agreement=float(np.trace(pooled) / total) if total else float("nan"),
        kappa=float(kappa_from_tables(pooled, w)),
        kappa_ci=interval(pooled),
        annotator_n_pairs=n.astype(np.intp),
        annotator_agreement=np.asarray(per, dtype=np.float64),
        annotator_kappa=kappa_from_tables(tables, w),
        annotator_kappa_ci=per_ci,
    )
