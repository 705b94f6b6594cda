"""Small exact statistics the engine needs: Wilson intervals and the exact binomial test.

Kept in numpy so the core package needs no SciPy.

References:
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
    inference. JASA, 22(158), 209–212. https://doi.org/10.1080/01621459.1927.10502953
"""

from __future__ import annotations

import math
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["Z95", "binomial_test", "wilson_interval"]

FloatArray: TypeAlias = npt.NDArray[np.float64]
Z95 = 1.959963984540054
"""The standard normal quantile of a two-sided 95% interval."""
_Z95 = Z95


def wilson_interval(successes: float, trials: float, *, z: float = _Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion (95% by default); ``(nan, nan)`` with no trials.

    >>> tuple(round(x, 4) for x in wilson_interval(8, 10))
    (0.4902, 0.9433)
    """
    if trials <= 0:
        return (float("nan"), float("nan"))
    p = successes / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2.0 * trials)) / denom
    half = z * math.sqrt(p * (1.0 - p) / trials + z * z / (4.0 * trials * trials)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def _log_binomial_pmf(n: int, p: float) -> FloatArray:
    k = np.arange(n + 1, dtype=np.float64)
    log_choose = np.concatenate(([0.0], np.cumsum(np.log((n - k[1:] + 1.0) / k[1:]))))
    with np.errstate(divide="ignore"):
        return np.asarray(log_choose + k * np.log(p) + (n - k) * np.log1p(-p), dtype=np.float64)


def binomial_test(successes: int, trials: int, p: float = 0.5) -> float:
    """Exact two-sided binomial test: P(outcomes no more likely than the one observed).

    Same definition as ``scipy.stats.binomtest(...).pvalue``; ``nan`` with no trials.

    >>> round(binomial_test(7, 10), 4)
    0.3438
    """
    if trials <= 0:
        return float("nan")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must lie in [0, 1]; got {p}")
    if p in (0.0, 1.0):
        expected = 0 if p == 0.0 else trials
        return 1.0 if successes == expected else 0.0
    log_pmf = _log_binomial_pmf(trials, p)
    observed = log_pmf[successes]
    tolerance = 1e-7  # relative, as SciPy does, so ties in probability count as "as extreme"
    as_extreme = log_pmf <= observed + np.log1p(tolerance)
    peak = log_pmf.max()
    total = float(np.exp(log_pmf[as_extreme] - peak).sum() * np.exp(peak))
    return min(1.0, total)
