"""Bootstrap confidence intervals by resampling items, done on unit *patterns*.

Every coefficient of the engine is a function of sums over units of per-unit features that
depend only on the unit's value counts. Units with the same counts (with 5 raters and 3 values
there are at most a few dozen distinct count rows, however many items) are interchangeable, so
resampling U items with replacement is the same in distribution as drawing the number of times
each distinct pattern is picked from ``Multinomial(U, multiplicity / U)``. A resample is then a
weighted sum of pattern features, and 1,000 resamples cost a (1000 × P) @ (P × f) product.

References:
    Efron, B., & Tibshirani, R. J. (1993). An Introduction to the Bootstrap, ch. 13
    (percentile intervals). Chapman & Hall/CRC. https://doi.org/10.1201/9780429246593
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = [
    "DEFAULT_RESAMPLES",
    "UnitPatterns",
    "bootstrap_totals",
    "percentile_interval",
    "unit_patterns",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]
DEFAULT_RESAMPLES = 1000
_CHUNK_CELLS = 4_000_000  # resamples × patterns per chunk (32 MB of float64)


@dataclass(frozen=True, slots=True)
class UnitPatterns:
    """Distinct per-unit count rows and how many units share each.

    Attributes:
        counts: shape (P, q), the distinct rows, sorted.
        multiplicity: shape (P,), units per row; sums to the number of units.
    """

    counts: FloatArray
    multiplicity: FloatArray

    @property
    def n_units(self) -> int:
        return int(self.multiplicity.sum())


def unit_patterns(counts: FloatArray) -> UnitPatterns:
    """Collapse per-unit value counts (shape (U, q)) into distinct patterns."""
    if counts.shape[0] == 0:
        return UnitPatterns(np.zeros((0, counts.shape[1])), np.zeros(0))
    as_int = counts.astype(np.int64)
    base = int(as_int.max()) + 1
    q = counts.shape[1]
    if q * np.log2(max(base, 2)) < 62:
        key = as_int @ (base ** np.arange(q, dtype=np.int64))
        _, first, multiplicity = np.unique(key, return_index=True, return_counts=True)
        rows = as_int[first]
    else:
        rows, multiplicity = np.unique(as_int, axis=0, return_counts=True)
    return UnitPatterns(rows.astype(np.float64), multiplicity.astype(np.float64))


def bootstrap_totals(
    features: FloatArray,
    multiplicity: FloatArray,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int | np.random.Generator | None = 0,
) -> FloatArray:
    """Feature totals of ``resamples`` bootstrap resamples of the units, shape (B, f).

    Args:
        features: per-pattern features, shape (P, f).
        multiplicity: units per pattern, shape (P,).
        resamples: B, the number of resamples.
        seed: seed or Generator; the same seed gives the same resamples.
    """
    if resamples < 1:
        raise ValueError(f"resamples must be a positive integer; got {resamples}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n_units = int(multiplicity.sum())
    totals = np.empty((resamples, features.shape[1]))
    if n_units == 0:
        totals[:] = 0.0
        return totals
    p = multiplicity / multiplicity.sum()
    chunk = max(1, _CHUNK_CELLS // max(1, len(p)))
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        draws = rng.multinomial(n_units, p, size=stop - start).astype(np.float64)
        totals[start:stop] = draws @ features
    return totals


def percentile_interval(samples: FloatArray, *, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile interval of bootstrap estimates; NaN estimates (0/0 resamples) are ignored.

    Returns ``(nan, nan)`` when every resample is undefined.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1); got {confidence}")
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return (float("nan"), float("nan"))
    tail = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(finite, [tail, 1.0 - tail])
    return (float(lo), float(hi))


def bootstrap_interval(
    estimator: Callable[[FloatArray], FloatArray],
    features: FloatArray,
    multiplicity: FloatArray,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int | np.random.Generator | None = 0,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Percentile interval of ``estimator`` applied to bootstrap feature totals."""
    totals = bootstrap_totals(features, multiplicity, resamples=resamples, seed=seed)
    return percentile_interval(estimator(totals), confidence=confidence)
