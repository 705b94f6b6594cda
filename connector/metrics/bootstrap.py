"""Bootstrap confidence intervals by resampling items, done on unit *patterns*.

Every coefficient of the engine is a function of sums over units of per-unit features that
depend only on the unit's value counts. Units with the same counts (with 5 raters and 3 values
there are at most a few dozen distinct count rows, however many items) are interchangeable, so
resampling U items with replacement is the same in distribution as drawing the number of times
each distinct pattern is picked from ``Multinomial(U, multiplicity / U)``. A resample is then a
weighted sum of pattern features, and 1,000 resamples cost a (1000 × P) @ (P × f) product.

Intervals are BCa (bias-corrected and accelerated) by default: the percentile interval's levels
shifted by the bias-correction ``z0`` (where the estimate falls in the bootstrap distribution)
and the acceleration ``a`` (the skewness of the leave-one-item-out estimates). At 50 items the
percentile interval of alpha runs narrow (tests/test_bootstrap.py measures its coverage); BCa
holds it. The jackknife is cheap on patterns too: leaving out one item of pattern p leaves the
totals minus that pattern's features, so there are P distinct leave-one-out estimates, each
weighted by its multiplicity.

References:
    Efron, B., & Tibshirani, R. J. (1993). An Introduction to the Bootstrap, ch. 13
    (percentile intervals) and ch. 14.3 (BCa). Chapman & Hall/CRC.
    https://doi.org/10.1201/9780429246593
    Efron, B. (1987). Better bootstrap confidence intervals. JASA 82(397), 171–185.
    https://doi.org/10.1080/01621459.1987.10478410
    DiCiccio, T. J., & Efron, B. (1996). Bootstrap confidence intervals. Statistical Science
    11(3), 189–228. https://doi.org/10.1214/ss/1032280214
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr, ndtri

from connector.metrics._options import choose

__all__ = [
    "DEFAULT_INTERVAL_METHOD",
    "DEFAULT_RESAMPLES",
    "INTERVAL_METHODS",
    "IntervalMethod",
    "UnitPatterns",
    "acceleration",
    "bca_interval",
    "bootstrap_interval",
    "bootstrap_totals",
    "check_interval_method",
    "leave_one_out_totals",
    "percentile_interval",
    "unit_patterns",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntervalMethod: TypeAlias = Literal["bca", "percentile"]
INTERVAL_METHODS: tuple[IntervalMethod, ...] = ("bca", "percentile")
DEFAULT_INTERVAL_METHOD: IntervalMethod = "bca"
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


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1); got {confidence}")


def percentile_interval(samples: FloatArray, *, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile interval of bootstrap estimates; NaN estimates (0/0 resamples) are ignored.

    Returns ``(nan, nan)`` when every resample is undefined.
    """
    _check_confidence(confidence)
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return (float("nan"), float("nan"))
    tail = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(finite, [tail, 1.0 - tail])
    return (float(lo), float(hi))


def leave_one_out_totals(features: FloatArray, multiplicity: FloatArray) -> FloatArray:
    """Feature totals with one unit of each pattern left out, shape (P, f): row p is the
    totals of every unit minus one unit of pattern p (the jackknife on patterns)."""
    totals: FloatArray = multiplicity @ features
    return totals[None, :] - features


def acceleration(leave_one_out: FloatArray, multiplicity: FloatArray) -> float:
    """BCa's acceleration from the jackknife (Efron & Tibshirani 1993, eq. 14.15).

    ``a = Σ d³ / (6 (Σ d²)^{3/2})`` with ``d = θ̄ − θ_(i)`` over the units i, here over the
    patterns weighted by their multiplicity.

    Args:
        leave_one_out: θ_(p), the estimate without one unit of pattern p, shape (P,).
        multiplicity: units per pattern, shape (P,).

    Returns:
        The acceleration; 0.0 when every leave-one-out estimate is the same (no skewness to
        correct, e.g. perfect agreement). Undefined (NaN) leave-one-out estimates are left out.
    """
    keep = (multiplicity > 0) & np.isfinite(leave_one_out)
    if not keep.any():
        return 0.0
    theta, weight = leave_one_out[keep], multiplicity[keep]
    d = float(weight @ theta) / float(weight.sum()) - theta
    squares = float(weight @ d**2)
    if squares <= 0.0:
        return 0.0
    return float(weight @ d**3) / (6.0 * float(np.sqrt(squares)) ** 3)


def bca_interval(
    samples: FloatArray,
    estimate: float,
    accel: float,
    *,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Bias-corrected and accelerated interval (Efron 1987; Efron & Tibshirani 1993, ch. 14.3).

    ``z0 = Φ⁻¹(share of resamples below the estimate)``, ties counting half (as
    ``scipy.stats.bootstrap`` does); the interval is the bootstrap quantiles at
    ``Φ(z0 + (z0 + z_α) / (1 − a (z0 + z_α)))`` for ``z_α`` at both tails.

    Args:
        samples: bootstrap estimates, shape (B,); NaN ones (0/0 resamples) are ignored.
        estimate: the estimate on all units.
        accel: the acceleration, :func:`acceleration`.
        confidence: two-sided coverage.

    Returns:
        ``(nan, nan)`` when BCa is undefined: the estimate or every resample is undefined, or
        every resample lies strictly on one side of the estimate (``z0`` infinite), or the
        acceleration is so large that ``1 − a (z0 + z_α) ≤ 0``.
    """
    _check_confidence(confidence)
    finite = samples[np.isfinite(samples)]
    if finite.size == 0 or not np.isfinite(estimate):
        return (float("nan"), float("nan"))
    share = (np.count_nonzero(finite < estimate) + np.count_nonzero(finite <= estimate)) / (
        2.0 * finite.size
    )
    if not 0.0 < share < 1.0:
        return (float("nan"), float("nan"))
    z0 = float(ndtri(share))
    tail = (1.0 - confidence) / 2.0
    z = np.array([ndtri(tail), -ndtri(tail)]) + z0
    if np.any(1.0 - accel * z <= 0.0):
        return (float("nan"), float("nan"))
    levels = ndtr(z0 + z / (1.0 - accel * z))
    lo, hi = np.quantile(finite, levels)
    return (float(lo), float(hi))


def check_interval_method(method: object) -> IntervalMethod:
    """``method`` as an :data:`IntervalMethod`; raises :class:`~connector.errors.OptionError`
    (a ValueError) listing the valid ones."""
    return choose("interval_method", method, INTERVAL_METHODS)


def bootstrap_interval(
    estimator: Callable[[FloatArray], FloatArray],
    features: FloatArray,
    multiplicity: FloatArray,
    *,
    method: IntervalMethod = DEFAULT_INTERVAL_METHOD,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int | np.random.Generator | None = 0,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Interval (BCa or percentile) of ``estimator`` over bootstrap resamples of the units.

    Args:
        estimator: feature totals, shape (..., f), to estimates, shape (...).
        features: per-pattern features, shape (P, f).
        multiplicity: units per pattern, shape (P,).
        method: ``"bca"`` or ``"percentile"``.

    Raises:
        OptionError: an unknown ``method``.
        ValueError: ``resamples`` < 1, ``confidence`` outside (0, 1).
    """
    method = check_interval_method(method)
    totals = bootstrap_totals(features, multiplicity, resamples=resamples, seed=seed)
    samples = estimator(totals)
    if method == "percentile":
        return percentile_interval(samples, confidence=confidence)
    estimate = float(estimator(multiplicity @ features))
    accel = acceleration(estimator(leave_one_out_totals(features, multiplicity)), multiplicity)
    return bca_interval(samples, estimate, accel, confidence=confidence)
