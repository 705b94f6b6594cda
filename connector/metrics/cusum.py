"""The Bernoulli CUSUM: a chart for a drop of a success rate, and its design.

The annotator streams it charts (gold and consensus, right/wrong per judgment) are built in
:mod:`connector.quality.streams`; this module is pure maths: arrays in, numbers out.

Chart. The primary chart is the Bernoulli CUSUM of Reynolds & Stoumbos (1999), the sequential
log-likelihood-ratio test of a drop of the success rate from the in-control level ``p0`` to the
out-of-control level ``p1 < p0``, restarted at zero whenever the evidence favours ``p0``::

    w(x) = log(p1 / p0)                if x = 1  (a success pulls the statistic down by b)
    w(x) = log((1 - p1) / (1 - p0))    if x = 0  (a failure pushes it up by a)
    S_0 = 0,  S_t = max(0, S_{t-1} + w(x_t)),  alarm at the first t with S_t >= h

in natural-log units (nats). The CUSUM rather than an EWMA chart because the change to detect
is known in advance (the rubric's qualify → retrain thresholds), and for a known step change
the CUSUM is optimal: it minimises the worst-case detection delay among charts with the same
in-control average run length (Moustakides 1986); an EWMA needs a smoothing constant on top of
its limit and reacts no faster to a step. Vectorised: with ``C_t = w_1 + … + w_t`` (``C_0 = 0``)
the recursion is ``S_t = C_t - min(C_0, …, C_t)``.

Design. :func:`connector.quality.streams.gold_design` takes ``p0`` = the rubric's qualify
threshold and ``p1`` = its
retrain threshold (defaults 0.85 and 0.80), and chooses ``h`` as the smallest limit whose
in-control average run length (at true accuracy exactly ``p0``) is at least ``arl0`` = 500
judgments, so an annotator sitting exactly on the qualify threshold sees a false alarm once in
about 500 gold judgments, and better annotators much less often (ARL > 5,000 at 0.90). For
0.85 → 0.80 this gives ``h = 1.835`` nats (a failure adds 0.288, so six or seven errors in a row,
or more spread out), ARL0 = 502 (simulated 509 ± 7), ARL1 = 123 at 0.80 (simulated 124 ± 1.5)
and 40 at 0.70 (simulated 40.1 ± 0.3), from seeded simulations in ``tests/test_drift.py``. On
an annotator whose accuracy slides from 0.95 to 0.70 over 200 gold judgments the chart alarms
at judgment 164 (median of 200 seeds), where the cumulative Wilson rule flags at 365. A drop of
five points is a small shift to catch, hence the long ARL1 at 0.80; larger drops are caught
within a few dozen gold judgments. :func:`~connector.quality.streams.consensus_design` uses the
pool's own agreement rate
as ``p0`` and the same drop (qualify - retrain) for ``p1``.

Average run lengths are computed by the Markov-chain method of Brook & Evans (1972): the
statistic is put on a lattice of step ``min(a, b) / 20`` and the expected time to absorption
solved exactly for that chain.

References:
    Reynolds, M. R. & Stoumbos, Z. G. (1999). A CUSUM chart for monitoring a proportion when
    inspecting continuously. Journal of Quality Technology, 31(1), 87–108.
    https://doi.org/10.1080/00224065.1999.11979900
    Brook, D. & Evans, D. A. (1972). An approach to the probability distribution of CUSUM run
    length. Biometrika, 59(3), 539–549. https://doi.org/10.1093/biomet/59.3.539
    Moustakides, G. V. (1986). Optimal stopping times for detecting changes in distributions.
    The Annals of Statistics, 14(4), 1379–1387. https://doi.org/10.1214/aos/1176350164
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = [
    "DEFAULT_ARL0",
    "CusumResult",
    "DriftDesign",
    "average_run_length",
    "cusum",
    "decision_limit",
    "design",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]
ObjectArray: TypeAlias = npt.NDArray[np.object_]

DEFAULT_ARL0 = 500.0
_LATTICE_STEPS = 20  # lattice points per smaller CUSUM step (Brook & Evans discretisation)
_MAX_STATES = 200_000


@dataclass(frozen=True, slots=True, kw_only=True)
class CusumResult:
    """A CUSUM path.

    Attributes:
        statistic: ``S_t`` after each judgment, shape (N,), in nats, never negative.
        alarm_at: index (0-based) of the first judgment with ``S_t >= h``; None if none.
    """

    statistic: FloatArray
    alarm_at: int | None

    @property
    def last(self) -> float:
        """The statistic after the last judgment (0.0 for an empty stream)."""
        return float(self.statistic[-1]) if len(self.statistic) else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class DriftDesign:
    """A Bernoulli CUSUM design: detect a drop of the success rate from ``p0`` to ``p1``.

    ``arl0`` is the in-control average run length the limit ``h`` achieves (at rate ``p0``),
    ``arl1`` the out-of-control one (at rate ``p1``), both from the Markov-chain method.
    """

    p0: float
    p1: float
    h: float
    arl0: float
    arl1: float

    def run(self, successes: npt.ArrayLike) -> CusumResult:
        """:func:`cusum` of ``successes`` under this design."""
        return cusum(np.asarray(successes), p0=self.p0, p1=self.p1, h=self.h)

    def as_dict(self) -> dict[str, float]:
        return {"p0": self.p0, "p1": self.p1, "h": self.h, "arl0": self.arl0, "arl1": self.arl1}


def _check_rates(p0: float, p1: float) -> None:
    if not (0.0 < p1 < p0 < 1.0):
        raise ValueError(
            f"a CUSUM for a drop needs 0 < p1 < p0 < 1; got p0={p0}, p1={p1} "
            "(p0 is the in-control success rate, p1 the lower rate to detect)"
        )


def _weights(p0: float, p1: float) -> tuple[float, float]:
    """``(a, b)``: what a failure adds and what a success takes away, in nats."""
    return math.log((1.0 - p1) / (1.0 - p0)), math.log(p0 / p1)


def cusum(successes: npt.ArrayLike, *, p0: float, p1: float, h: float) -> CusumResult:
    """Bernoulli CUSUM for a drop of the success rate from ``p0`` to ``p1``.

    Args:
        successes: 0/1 (or bool) per judgment, shape (N,), oldest first.
        p0: in-control success rate; p1: out-of-control success rate, ``0 < p1 < p0 < 1``.
        h: decision limit in nats, positive.

    Raises:
        ValueError: rates out of order, ``h`` not positive, or values other than 0 and 1.

    >>> result = cusum([1, 0, 0, 1, 0], p0=0.6, p1=0.4, h=1.0)
    >>> [round(float(s), 4) for s in result.statistic], result.alarm_at
    ([0.0, 0.4055, 0.8109, 0.4055, 0.8109], None)
    """
    _check_rates(p0, p1)
    if not h > 0.0:
        raise ValueError(f"the decision limit h must be positive; got {h}")
    x = np.asarray(successes)
    if x.ndim != 1:
        raise ValueError(f"successes must be one-dimensional; got shape {x.shape}")
    if x.size and not np.isin(x, (0, 1)).all():
        bad = np.flatnonzero(~np.isin(x, (0, 1)))
        raise ValueError(
            f"successes must be 0 or 1; positions {bad[:5].tolist()} hold {x[bad[:5]].tolist()}"
        )
    a, b = _weights(p0, p1)
    w = np.where(x.astype(bool), -b, a)
    c = np.cumsum(w, dtype=np.float64)
    statistic = np.maximum(
        c - np.minimum.accumulate(np.minimum(c, 0.0)), 0.0
    )  # exact zero after a reset, despite rounding
    alarms = np.flatnonzero(statistic >= h)
    return CusumResult(
        statistic=np.asarray(statistic, dtype=np.float64),
        alarm_at=int(alarms[0]) if alarms.size else None,
    )


# --- average run length and the decision limit --------------------------------------------


def _lattice(p0: float, p1: float) -> tuple[float, int, int]:
    a, b = _weights(p0, p1)
    step = min(a, b) / _LATTICE_STEPS
    return step, round(a / step), round(b / step)


def _arl_states(p: float, up: int, down: int, states: int) -> float:
    """Expected run length from 0 of the lattice chain with ``states`` transient states."""
    index = np.arange(states)
    q = np.zeros((states, states))
    rise = index + up
    inside = rise < states
    q[index[inside], rise[inside]] += 1.0 - p
    np.add.at(q, (index, np.maximum(index - down, 0)), p)
    expected = np.linalg.solve(np.eye(states) - q, np.ones(states))
    return float(expected[0])


def average_run_length(p: float, *, p0: float, p1: float, h: float) -> float:
    """Expected number of judgments until the CUSUM alarms when the true success rate is ``p``.

    Markov-chain method (Brook & Evans 1972) on a lattice of step ``min(a, b) / 20`` nats.

    Raises:
        ValueError: rates out of order, ``p`` outside [0, 1], or ``h`` not positive.
    """
    _check_rates(p0, p1)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must lie in [0, 1]; got {p}")
    if not h > 0.0:
        raise ValueError(f"the decision limit h must be positive; got {h}")
    step, up, down = _lattice(p0, p1)
    states = max(1, math.ceil(h / step - 1e-9))
    if p >= 1.0:
        return math.inf
    return _arl_states(p, up, down, states)


@lru_cache(maxsize=256)
def _limit(p0: float, p1: float, arl0: float) -> tuple[float, float]:
    step, up, down = _lattice(p0, p1)
    if _arl_states(p0, up, down, 1) >= arl0:
        return 0.5 * step, _arl_states(p0, up, down, 1)
    low, high = 1, up  # one failure from zero alarms when there are `up` states or fewer
    while _arl_states(p0, up, down, high) < arl0:
        low, high = high, high * 2
        if high > _MAX_STATES:
            raise ValueError(f"no decision limit reaches ARL0={arl0} for p0={p0}, p1={p1}")
    # Smallest state count whose ARL0 reaches the target. log ARL grows about linearly with the
    # limit, so interpolating on it (alternating with halving, which guarantees progress)
    # needs a third of the solves a plain bisection does; the bracket keeps the answer exact.
    target = math.log(arl0)
    log_low = math.log(_arl_states(p0, up, down, low))
    log_high = math.log(_arl_states(p0, up, down, high))
    interpolate = True
    while high - low > 1:
        if interpolate and log_high > log_low:
            guess = low + (target - log_low) * (high - low) / (log_high - log_low)
            middle = min(max(round(guess), low + 1), high - 1)
        else:
            middle = (low + high) // 2
        interpolate = not interpolate
        value = math.log(_arl_states(p0, up, down, middle))
        if value >= target:
            high, log_high = middle, value
        else:
            low, log_low = middle, value
    return (high - 0.5) * step, _arl_states(p0, up, down, high)


def decision_limit(p0: float, p1: float, *, arl0: float = DEFAULT_ARL0) -> float:
    """The smallest limit ``h`` (nats) whose in-control ARL at rate ``p0`` is at least ``arl0``.

    Raises:
        ValueError: rates out of order or ``arl0`` below 1.
    """
    _check_rates(p0, p1)
    if not arl0 >= 1.0:
        raise ValueError(f"arl0 must be at least 1 judgment; got {arl0}")
    return _limit(p0, p1, float(arl0))[0]


@lru_cache(maxsize=256)
def design(p0: float, p1: float, *, arl0: float = DEFAULT_ARL0) -> DriftDesign:
    """A CUSUM design for a drop ``p0 → p1`` with in-control ARL of at least ``arl0``
    (remembered: a design costs Markov-chain solves, and syncs ask for the same few)."""
    _check_rates(p0, p1)
    if not arl0 >= 1.0:
        raise ValueError(f"arl0 must be at least 1 judgment; got {arl0}")
    h, achieved = _limit(p0, p1, float(arl0))
    return DriftDesign(
        p0=p0,
        p1=p1,
        h=h,
        arl0=achieved,
        arl1=average_run_length(p1, p0=p0, p1=p1, h=h),
    )
