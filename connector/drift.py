"""Drift of an annotator's quality: a Bernoulli CUSUM on streams of right/wrong judgments.

Two streams per annotator, each a 0/1 array in ``submitted_at`` order:

- **gold**: 1 where a judgment of a gold item equals the gold value, 0 where it does not;
- **consensus**: 1 where a judgment equals the strict majority of the *other* annotators of
  the item on that dimension, 0 where it does not; judgments whose item has fewer than
  ``min_others`` other judgments, or whose others hold no strict majority (more than half of
  them), are left out. (The report's ``leave_one_out`` uses the plurality instead; a strict
  majority is the firmer reference for a chart that may put someone on probation.)

Only an annotator's first judgment of an item on a dimension counts (re-tests are consistency
evidence, not new gold evidence), as in the report.

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

Design. :func:`gold_design` takes ``p0`` = the rubric's qualify threshold and ``p1`` = its
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
within a few dozen gold judgments. :func:`consensus_design` uses the pool's own agreement rate
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
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from connector.rubric import Rubric

__all__ = [
    "DEFAULT_ARL0",
    "CusumResult",
    "DriftDesign",
    "Stream",
    "average_run_length",
    "consensus_design",
    "consensus_streams",
    "cusum",
    "decision_limit",
    "design",
    "gold_design",
    "gold_streams",
    "pool_rate",
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


def gold_design(rubric: Rubric, *, arl0: float = DEFAULT_ARL0) -> DriftDesign:
    """The gold chart: ``p0`` = qualify threshold, ``p1`` = retrain threshold of the rubric."""
    t = rubric.thresholds
    return design(t.qualify_gold_accuracy, t.retrain_gold_accuracy, arl0=arl0)


def consensus_design(
    pool_rate: float, rubric: Rubric, *, arl0: float = DEFAULT_ARL0
) -> DriftDesign | None:
    """The consensus chart: ``p0`` = the pool's agreement with consensus (to 0.01), ``p1`` =
    ``p0`` minus the rubric's qualify - retrain gap; None when that leaves no valid pair."""
    t = rubric.thresholds
    gap = t.qualify_gold_accuracy - t.retrain_gold_accuracy
    p0 = round(min(max(pool_rate, 0.0), 0.99), 2)
    p1 = round(p0 - gap, 4)
    if not (0.0 < p1 < p0 < 1.0):
        return None
    return design(p0, p1, arl0=arl0)


# --- streams from a judgments table ----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Stream:
    """One annotator's 0/1 outcomes, oldest first; every array has shape (N,).

    Attributes:
        annotator: who judged.
        successes: 1 right (equals gold / the others' majority), 0 wrong; int8.
        item_id, dimension, batch: where each judgment comes from (``batch`` None if unknown).
        submitted_at: when it was submitted (NaT if unknown), datetime64[ns] in UTC.
    """

    annotator: str
    successes: npt.NDArray[np.int8]
    item_id: ObjectArray
    dimension: ObjectArray
    batch: ObjectArray
    submitted_at: npt.NDArray[np.datetime64]

    def __len__(self) -> int:
        return int(self.successes.shape[0])

    @property
    def correct(self) -> int:
        return int(self.successes.sum())

    def select(self, mask: npt.NDArray[np.bool_]) -> Stream:
        """The judgments where ``mask`` is true, order kept."""
        return Stream(
            annotator=self.annotator,
            successes=self.successes[mask],
            item_id=self.item_id[mask],
            dimension=self.dimension[mask],
            batch=self.batch[mask],
            submitted_at=self.submitted_at[mask],
        )

    @classmethod
    def empty(cls, annotator: str) -> Stream:
        return cls(
            annotator=annotator,
            successes=np.zeros(0, dtype=np.int8),
            item_id=np.empty(0, dtype=object),
            dimension=np.empty(0, dtype=object),
            batch=np.empty(0, dtype=object),
            submitted_at=np.empty(0, dtype="datetime64[ns]"),
        )


def _value_key(value: Any) -> Any:
    """Compare values as the rubric does: 3, 3.0 and "3" are the same rating."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    text = str(value)
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def _value_keys(values: pd.Series) -> npt.NDArray[np.object_]:
    """:func:`_value_key` of every value, computed once per distinct value (and type)."""
    seen: dict[tuple[type, Any], Any] = {}
    keys = np.empty(len(values), dtype=object)
    for index, value in enumerate(values.to_numpy(dtype=object)):
        marker = (type(value), value)
        try:
            keys[index] = seen[marker]
        except KeyError:
            keys[index] = seen[marker] = _value_key(value)
        except TypeError:  # unhashable: a list or dict value
            keys[index] = _value_key(value)
    return keys


def _primary(frame: pd.DataFrame) -> pd.DataFrame:
    """First judgment per (item, dimension, annotator) by ``submitted_at``, rows sorted by time."""
    missing = [c for c in ("item_id", "annotator", "dimension", "value") if c not in frame]
    if missing:
        raise ValueError(f"the judgments table lacks column(s) {missing}; see judgments.COLUMNS")
    table = pd.DataFrame(
        {
            "item_id": frame["item_id"].astype(str).to_numpy(dtype=object),
            "annotator": frame["annotator"].astype(str).to_numpy(dtype=object),
            "dimension": frame["dimension"].astype(str).to_numpy(dtype=object),
            "value": _value_keys(frame["value"]),
            "gold": (
                _value_keys(frame["gold_value"])
                if "gold_value" in frame
                else np.full(len(frame), None, dtype=object)
            ),
            "batch": (
                frame["batch"].to_numpy(dtype=object)
                if "batch" in frame
                else np.full(len(frame), None, dtype=object)
            ),
            "submitted_at": (
                pd.to_datetime(frame["submitted_at"], utc=True)
                if "submitted_at" in frame
                else pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
            ).to_numpy(),
            "row": np.arange(len(frame)),
        }
    )
    table = table[table["value"].notna()]
    table = table.sort_values(
        ["submitted_at", "item_id", "dimension", "row"], na_position="first", kind="stable"
    )
    return table.drop_duplicates(["item_id", "dimension", "annotator"], keep="first")


def _streams(table: pd.DataFrame, outcome: npt.NDArray[np.int8]) -> dict[str, Stream]:
    streams: dict[str, Stream] = {}
    annotators = table["annotator"].to_numpy(dtype=object)
    names, codes = np.unique(annotators.astype(str), return_inverse=True)
    order = np.argsort(codes, kind="stable")  # table is in time order; keep it per annotator
    bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
    item = table["item_id"].to_numpy(dtype=object)
    dimension = table["dimension"].to_numpy(dtype=object)
    batch = np.array([None if pd.isna(b) else str(b) for b in table["batch"]], dtype=object)
    when = np.asarray(table["submitted_at"].to_numpy(dtype="datetime64[ns]"))
    for index, name in enumerate(names):
        rows = order[bounds[index] : bounds[index + 1]]
        streams[str(name)] = Stream(
            annotator=str(name),
            successes=outcome[rows],
            item_id=item[rows],
            dimension=dimension[rows],
            batch=batch[rows],
            submitted_at=when[rows],
        )
    return streams


def gold_streams(frame: pd.DataFrame) -> dict[str, Stream]:
    """Each annotator's gold correctness over all dimensions, in ``submitted_at`` order.

    ``frame`` is a canonical judgments table (:data:`connector.judgments.COLUMNS`); judgments
    without a ``gold_value`` are left out. Annotators with no gold judgment are absent.
    """
    if "gold_value" not in frame:
        return {}
    # Every judgment of a gold item carries its gold value: keep those rows before the first-
    # judgment pass (a tenth of a typical table), which then picks the same rows.
    table = _primary(frame[frame["gold_value"].notna()])
    table = table[table["gold"].notna()]
    if table.empty:
        return {}
    outcome = table["value"].to_numpy(dtype=object) == table["gold"].to_numpy(dtype=object)
    return _streams(table, outcome.astype(np.int8))


def consensus_streams(frame: pd.DataFrame, *, min_others: int = 2) -> dict[str, Stream]:
    """Each annotator's agreement with the strict majority of the other annotators.

    A judgment scores 1 when more than half of the other annotators of its item and dimension
    gave the same value, 0 when more than half gave one other value, and is left out when
    fewer than ``min_others`` others judged the item or no value holds such a majority.

    Raises:
        ValueError: ``min_others`` is below 1.
    """
    if min_others < 1:
        raise ValueError(f"min_others must be at least 1; got {min_others}")
    table = _primary(frame)
    if table.empty:
        return {}
    group = pd.factorize(pd.MultiIndex.from_arrays([table["item_id"], table["dimension"]]))[0]
    value = pd.factorize(table["value"].astype(str))[0]
    n_values = int(value.max()) + 1 if value.size else 1
    cell = group.astype(np.int64) * n_values + value
    cells, cell_of, cell_count = np.unique(cell, return_inverse=True, return_counts=True)
    size = np.bincount(group, minlength=int(group.max()) + 1 if group.size else 0)
    # the two largest value counts of every (item, dimension) group
    cell_group = cells // n_values
    by_count = np.lexsort((-cell_count, cell_group))
    sorted_group = cell_group[by_count]
    first = np.ones(len(by_count), dtype=bool)
    first[1:] = sorted_group[1:] != sorted_group[:-1]
    top = np.zeros(len(size), dtype=np.int64)
    top[sorted_group[first]] = cell_count[by_count][first]
    second_pos = np.flatnonzero(~first & np.concatenate(([False], first[:-1])))
    runner_up = np.zeros(len(size), dtype=np.int64)
    runner_up[sorted_group[second_pos]] = cell_count[by_count][second_pos]
    own = cell_count[cell_of]
    others = size[group] - 1
    with_own = own - 1  # the others who gave this judgment's value
    best_other = np.where(own == top[group], runner_up[group], top[group])
    agrees = 2 * with_own > others
    disagrees = 2 * best_other > others
    keep = (others >= min_others) & (agrees | disagrees)
    return _streams(table[keep], agrees[keep].astype(np.int8))


def pool_rate(streams: Mapping[str, Stream]) -> float | None:
    """Share of successes over every stream (None when there are no judgments)."""
    total = sum(len(s) for s in streams.values())
    return sum(s.correct for s in streams.values()) / total if total else None
