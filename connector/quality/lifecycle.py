"""The annotator status machine: candidate → qualified ⇄ probation → retraining → qualified.

One state per annotator and rubric, moved one step at a time by :func:`decide` from the
annotator's gold stream (:func:`connector.quality.streams.gold_streams`: right/wrong per gold
judgment, oldest first). Every :class:`Transition` carries its evidence.

Every dimension decides on its own gold
---------------------------------------
The window is split by dimension, and each rule below reads each *gating* dimension alone: its
own counts, Wilson bounds and CUSUM chart (a pooled rate would let an annotator excellent on
``overall`` and careless on ``safety`` qualify). "At least m judgments" is per dimension; a
dimension with fewer is *pending*: it blocks nothing, and the reason says so. So:

- a status moves *down* (retraining, probation) when **any** gating dimension meets the rule;
- it moves *up* (qualified) when **every** gating dimension with at least m judgments
  qualifies, and at least one has them; leaving probation also needs every gating dimension
  with gold to have ``policy.window`` judgments since probation began (none may be pending);
- a retraining batch is complete when its gold *items* (``batch_gold``) are judged, then
  decided per dimension in the same way (with ``min(m, batch_gold)`` as the minimum).

A rubric dimension marked ``gating: false`` (e.g. a strength scale) is reported in the
evidence, never decides; a dimension the rubric does not name gates. Each transition names the
dimensions that decided (:attr:`Transition.dimensions`, ``decided_by`` in the stored evidence)
and the reason starts each dimension's part with its name. The pooled figures stay in the
evidence as a summary. With d gating dimensions there are d charts, so the false-alarm rate of
"any chart alarms" is up to d times one chart's (ARL0 500 judgments per dimension).

Notation: ``q`` = qualify threshold (0.85), ``r`` = retrain threshold (0.80), ``m`` = minimum
gold judgments (20) of the rubric; bounds are Wilson bounds at ``z = 1.645``, i.e. one-sided 95%
(the ends of the two-sided 90% interval). The *window* is the gold evidence since the current
status began (all of it for a candidate). Judgments of retraining batches are never part of the
window: they are evaluated on their own.

Rules
-----
- **qualifies** (a window or a retraining batch): accuracy ≥ q *and* Wilson lower bound ≥ r,
  i.e. the annotator is at the qualify level and we are 95% sure they are not at the retrain
  level. Demanding a lower bound ≥ q would take 19/20 to fail (bound 0.80) and ~150 judgments
  at 0.93 to pass; the point estimate alone passes half of annotators who sit exactly on q.
  This rule passes 19/20, 28/30, 37/40, 45/50, 54/60, 70/80, 87/100.
- candidate → **qualified**: at least m gold judgments and the window qualifies.
- candidate → **retraining**: at least m gold judgments and the Wilson upper bound < r.
- qualified → **probation**: the gold CUSUM (:func:`connector.quality.streams.gold_design`: p0 = q,
  p1 = r, ARL0 = 500), restarted when the status began, alarms; or at least m judgments in the
  window and the Wilson upper bound < q.
- probation → **retraining**: at least m judgments in the window and the Wilson upper bound < r;
  or, after at least ``policy.window`` (default m) judgments, the chart, restarted when
  probation began, has alarmed again ("continued alarm").
- probation → **qualified**: at least ``policy.window`` judgments since probation began, no
  alarm of the restarted chart, and the window qualifies (the same rule as qualifying, so no
  flapping around q).
- retraining: waits for a calibration batch (:func:`needs_retraining_batch` names who needs
  one, :func:`assign_retraining_batch` records its id); once the annotator has judged its
  gold items (``batch_gold``, default m) it is evaluated alone: if it qualifies → **qualified**,
  otherwise a failure, and the annotator waits for a new batch.
- → **suspended**: at the ``policy.max_retraining_failures``-th (2nd) failed retraining batch,
  or when a ``policy.max_retraining_episodes + 1``-th (3rd) retraining episode would start.
  Suspension ends only by hand.

Hysteresis: between the bounds a status stands (a qualified annotator at 0.82 stays qualified
until the chart or the upper bound says otherwise). Never from one unlucky item: every rule
needs m judgments, and the chart needs six or seven errors in a row (more, spread out).

The consensus chart (agreement with the others' majority) is reported in the evidence but
does not move a status: the majority can be wrong and a careful annotator may disagree with it.

Windows are counted in gold judgments: a status records how many regular gold judgments the
annotator had when it began (``since``). A judgment that arrives late with an earlier
``submitted_at``, or one deleted on the platform, shifts the window by one judgment.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Literal, cast, get_args

import numpy as np
import pandas as pd

from connector.metrics.cusum import (
    DEFAULT_ARL0,
    DriftDesign,
    design,
)
from connector.metrics.stats import wilson_interval
from connector.quality.streams import (
    Stream,
    consensus_design,
    consensus_streams,
    gold_streams,
    pool_rate,
)
from connector.rubric import Rubric

__all__ = [
    "Z_ONE_SIDED_95",
    "AnnotatorEvidence",
    "DimensionEvidence",
    "DriftEvidence",
    "Event",
    "Evidence",
    "Policy",
    "Status",
    "StatusChange",
    "StatusState",
    "Transition",
    "annotator_evidence",
    "assign_retraining_batch",
    "decide",
    "decide_all",
    "first_decisions",
    "needs_retraining_batch",
    "qualifies",
    "rescore",
]

Status = Literal["candidate", "qualified", "probation", "retraining", "suspended"]
Z_ONE_SIDED_95 = 1.6448536269514722
Event = Literal["status", "batch_assigned", "batch_failed"]
_STATUSES: tuple[str, ...] = get_args(Status)


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """How the status machine reads the evidence (the thresholds come from the rubric).

    Attributes:
        z: Wilson bound multiplier (1.645: one-sided 95%).
        arl0: in-control average run length of the gold chart, in gold judgments.
        window: gold judgments after probation began before it can end (default: the rubric's
            ``min_gold_judgments``).
        retraining_batch_gold: gold items judged that complete a retraining batch (default:
            the rubric's ``min_gold_judgments``).
        max_retraining_failures: the failed retraining batch that suspends (2: the second).
        max_retraining_episodes: retraining episodes allowed; needing one more suspends.
    """

    z: float = Z_ONE_SIDED_95
    arl0: float = DEFAULT_ARL0
    window: int | None = None
    retraining_batch_gold: int | None = None
    max_retraining_failures: int = 2
    max_retraining_episodes: int = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class AnnotatorEvidence:
    """What the status machine reads about one annotator.

    ``gold`` holds every gold judgment (retraining batches included, told apart by ``batch``);
    ``consensus`` the agreement with the others' majority, with the chart designed for it.
    """

    annotator: str
    gold: Stream
    consensus: Stream | None = None
    consensus_design: DriftDesign | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusState:
    """An annotator's current status and the bookkeeping the next decision needs.

    Attributes:
        since: regular gold judgments the annotator had when this status began.
        episodes: retraining episodes so far; failures: failed retraining batches so far.
        batch_id: the retraining batch waited for (None: one should be pushed).
        batch_gold: gold items whose judgments complete ``batch_id``.
        retraining_batches: every retraining batch of the annotator, kept out of the windows.
        decided_by: the dimensions that decided the current status (kept while a retraining
            batch is assigned, so every surface still names them).
    """

    annotator: str
    status: Status
    since: int = 0
    episodes: int = 0
    failures: int = 0
    batch_id: str | None = None
    batch_gold: int | None = None
    retraining_batches: tuple[str, ...] = ()
    decided_by: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "since": self.since,
            "episodes": self.episodes,
            "failures": self.failures,
            "batch_id": self.batch_id,
            "batch_gold": self.batch_gold,
            "retraining_batches": list(self.retraining_batches),
            "decided_by": list(self.decided_by),
        }

    @classmethod
    def from_record(cls, annotator: str, status: str, evidence: Mapping[str, Any]) -> StatusState:
        """The state stored in a status decision's evidence (``evidence["state"]``).

        Decisions written before this module (no ``state``) start their window at zero.

        Raises:
            ValueError: ``status`` is not an annotator status.
        """
        if status not in _STATUSES:
            raise ValueError(f"status {status!r} is not one of {', '.join(_STATUSES)}")
        stored = evidence.get("state")
        if not isinstance(stored, Mapping):
            return cls(annotator=annotator, status=cast(Status, status))
        batch_gold = stored.get("batch_gold")
        batch_id = stored.get("batch_id")
        return cls(
            annotator=annotator,
            status=cast(Status, status),
            since=int(stored.get("since") or 0),
            episodes=int(stored.get("episodes") or 0),
            failures=int(stored.get("failures") or 0),
            batch_id=None if batch_id is None else str(batch_id),
            batch_gold=None if batch_gold is None else int(batch_gold),
            retraining_batches=tuple(str(b) for b in stored.get("retraining_batches") or ()),
            decided_by=tuple(str(d) for d in stored.get("decided_by") or ()),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DriftEvidence:
    """A CUSUM chart as read for a decision: its design, last statistic and first alarm."""

    statistic: float
    alarm_at: int | None
    judgments: int
    design: DriftDesign

    @property
    def alarm(self) -> bool:
        return self.alarm_at is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "statistic": self.statistic,
            "alarm_at": self.alarm_at,
            "judgments": self.judgments,
            **self.design.as_dict(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class DimensionEvidence:
    """One dimension's gold window as read for a decision: its counts, Wilson interval (at
    the decision's ``z``; None without judgments) and, for qualified and probation decisions,
    its own CUSUM chart. ``gating`` False: reported, never deciding (``gating_reason`` says
    why)."""

    dimension: str
    gating: bool
    judgments: int
    correct: int
    interval: tuple[float, float] | None
    drift: DriftEvidence | None = None
    gating_reason: str | None = None

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.judgments if self.judgments else None

    @property
    def lower(self) -> float:
        return self.interval[0] if self.interval else math.nan

    @property
    def upper(self) -> float:
        return self.interval[1] if self.interval else math.nan

    def as_dict(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension,
            "gating": self.gating,
            "gating_reason": self.gating_reason,
            "gold_judgments": self.judgments,
            "gold_correct": self.correct,
            "gold_accuracy": self.accuracy,
            "wilson": list(self.interval) if self.interval else None,
            "gold_drift": self.drift.as_dict() if self.drift else None,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """The figures a transition was decided from.

    ``judgments``/``correct``/``accuracy``/``interval`` describe the ``window`` (the gold
    judgments since the status began, or the retraining batch); ``total_*`` all regular gold.
    ``interval`` is the Wilson interval at ``z`` (None without judgments). Those pooled
    figures are a summary: the decision reads ``dimensions`` (the same window per dimension,
    rubric order); ``gold_drift`` is the chart of the gating dimension nearest its alarm (the
    first alarmed one if any).
    """

    window: str
    judgments: int
    correct: int
    accuracy: float | None
    interval: tuple[float, float] | None
    z: float
    total_judgments: int
    total_correct: int
    gold_drift: DriftEvidence | None
    consensus_drift: DriftEvidence | None
    qualify_gold_accuracy: float
    retrain_gold_accuracy: float
    min_gold_judgments: int
    rubric: str
    rubric_hash: str
    dimensions: tuple[DimensionEvidence, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "window": self.window,
            "gold_judgments": self.judgments,
            "gold_correct": self.correct,
            "gold_accuracy": self.accuracy,
            "wilson": list(self.interval) if self.interval else None,
            "wilson_z": self.z,
            "total_gold_judgments": self.total_judgments,
            "total_gold_correct": self.total_correct,
            "gold_drift": self.gold_drift.as_dict() if self.gold_drift else None,
            "consensus_drift": self.consensus_drift.as_dict() if self.consensus_drift else None,
            "thresholds": {
                "qualify_gold_accuracy": self.qualify_gold_accuracy,
                "retrain_gold_accuracy": self.retrain_gold_accuracy,
                "min_gold_judgments": self.min_gold_judgments,
            },
            "rubric": self.rubric,
            "rubric_hash": self.rubric_hash,
            "dimensions": [d.as_dict() for d in self.dimensions],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """A status decision: from ``previous`` to ``status`` (the same status for the retraining
    bookkeeping events ``batch_assigned`` and ``batch_failed``), with the reason as a sentence,
    the evidence and the new state. ``dimensions`` names the dimensions that decided (the
    failing, drifting or pending ones; every gating one for a qualification)."""

    annotator: str
    previous: Status | None
    status: Status
    reason: str
    evidence: Evidence
    state: StatusState
    event: Event = "status"
    dimensions: tuple[str, ...] = ()

    def evidence_dict(self) -> dict[str, Any]:
        """JSON-able evidence for :class:`connector.store.StatusDecision` (with the state)."""
        return {
            **self.evidence.as_dict(),
            "previous": self.previous,
            "event": self.event,
            "reason": self.reason,
            "decided_by": list(self.dimensions),
            "state": self.state.as_dict(),
        }


# --- rules ---------------------------------------------------------------------------------


def qualifies(correct: int, n: int, rubric: Rubric, *, z: float = Z_ONE_SIDED_95) -> bool:
    """Accuracy ≥ the qualify threshold and Wilson lower bound (at ``z``) ≥ the retrain one."""
    if n <= 0:
        return False
    t = rubric.thresholds
    return (
        correct / n >= t.qualify_gold_accuracy
        and wilson_interval(correct, n, z=z)[0] >= t.retrain_gold_accuracy
    )


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


class _Reader:
    """One decision's view of the evidence."""

    def __init__(
        self, history: AnnotatorEvidence, state: StatusState, rubric: Rubric, policy: Policy
    ) -> None:
        self.history, self.state, self.rubric, self.policy = history, state, rubric, policy
        self.t = rubric.thresholds
        gold = history.gold
        special = {*state.retraining_batches, *([state.batch_id] if state.batch_id else [])}
        in_batch = np.array([b in special for b in gold.batch], dtype=bool)
        self.regular = gold.select(~in_batch)
        self.window_name = "all gold judgments"
        self.window = self.regular
        self.drift: DriftEvidence | None = None
        self.dimensions: tuple[DimensionEvidence, ...] = ()

    @cached_property
    def design(self) -> DriftDesign:
        """The gold chart's design, computed only for an annotator who has gold judgments."""
        return design(
            self.t.qualify_gold_accuracy, self.t.retrain_gold_accuracy, arl0=self.policy.arl0
        )

    def use_window(self, name: str, stream: Stream, *, chart: bool) -> None:
        """Read ``stream`` as the window, split by dimension, each with its own chart if
        ``chart``: every dimension with regular gold or gold in the window, rubric order
        first."""
        self.window_name, self.window = name, stream
        present = {*map(str, self.regular.dimension), *map(str, stream.dimension)}
        ordered = [d.name for d in self.rubric.dimensions if d.name in present]
        ordered += sorted(present - set(ordered))
        found = []
        for dimension in ordered:
            own = stream.select(np.asarray(stream.dimension == dimension, dtype=bool))
            n, k = len(own), own.correct
            gating = self.rubric.gates(dimension)
            found.append(
                DimensionEvidence(
                    dimension=dimension,
                    gating=gating,
                    gating_reason=None
                    if gating
                    else self.rubric.dimension(dimension).gating_reason,
                    judgments=n,
                    correct=k,
                    interval=wilson_interval(k, n, z=self.policy.z) if n else None,
                    drift=self.chart(own) if chart else None,
                )
            )
        self.dimensions = tuple(found)
        charts = [d.drift for d in self.gating if d.drift is not None]
        alarmed = [c for c in charts if c.alarm]
        nearest = sorted(charts, key=lambda c: -c.statistic / c.design.h)
        self.drift = (alarmed or nearest)[0] if charts else None

    def chart(self, stream: Stream) -> DriftEvidence:
        result = self.design.run(stream.successes)
        return DriftEvidence(
            statistic=result.last,
            alarm_at=result.alarm_at,
            judgments=len(stream),
            design=self.design,
        )

    @property
    def gating(self) -> tuple[DimensionEvidence, ...]:
        """The window's dimensions that decide (every dimension unless the rubric marks it
        ``gating: false``)."""
        return tuple(d for d in self.dimensions if d.gating)

    def dimension_counts(self, d: DimensionEvidence) -> str:
        accuracy = f" ({_pct(d.correct / d.judgments)})" if d.judgments else ""
        return (
            f"{d.dimension}: {d.correct}/{d.judgments} gold judgments right{accuracy} "
            f"({self.window_name})"
        )

    def since_status(self) -> Stream:
        start = min(self.state.since, len(self.regular))
        return self.regular.select(np.arange(len(self.regular)) >= start)

    @property
    def n(self) -> int:
        return len(self.window)

    @property
    def k(self) -> int:
        return self.window.correct

    def evidence(self) -> Evidence:
        n, k = self.n, self.k
        consensus = None
        if self.history.consensus is not None and self.history.consensus_design is not None:
            result = self.history.consensus_design.run(self.history.consensus.successes)
            consensus = DriftEvidence(
                statistic=result.last,
                alarm_at=result.alarm_at,
                judgments=len(self.history.consensus),
                design=self.history.consensus_design,
            )
        return Evidence(
            window=self.window_name,
            judgments=n,
            correct=k,
            accuracy=k / n if n else None,
            interval=wilson_interval(k, n, z=self.policy.z) if n else None,
            z=self.policy.z,
            total_judgments=len(self.regular),
            total_correct=self.regular.correct,
            gold_drift=self.drift,
            consensus_drift=consensus,
            qualify_gold_accuracy=self.t.qualify_gold_accuracy,
            retrain_gold_accuracy=self.t.retrain_gold_accuracy,
            min_gold_judgments=self.t.min_gold_judgments,
            rubric=self.rubric.ref,
            rubric_hash=self.rubric.content_hash,
            dimensions=self.dimensions,
        )

    def move(
        self,
        status: Status,
        reason: str,
        *,
        event: Event = "status",
        previous: Status | Literal["current"] | None = "current",
        dimensions: Iterable[DimensionEvidence] = (),
        **changes: Any,
    ) -> Transition:
        fresh = status != self.state.status
        names = tuple(d.dimension for d in dimensions)
        if event == "batch_assigned":  # bookkeeping: the status stands on what decided it
            names = self.state.decided_by
        state = replace(
            self.state,
            status=status,
            since=len(self.regular) if fresh else self.state.since,
            decided_by=names,
            **changes,
        )
        return Transition(
            annotator=self.history.annotator,
            previous=self.state.status if previous == "current" else previous,
            status=status,
            reason=reason,
            evidence=self.evidence(),
            state=state,
            event=event,
            dimensions=names,
        )

    def retrain(self, reason: str, dimensions: Iterable[DimensionEvidence]) -> Transition:
        episodes = self.state.episodes + 1
        if episodes > self.policy.max_retraining_episodes:
            return self.move(
                "suspended",
                f"{reason}; this would be retraining episode {episodes}, more than the "
                f"{self.policy.max_retraining_episodes} allowed",
                dimensions=dimensions,
            )
        return self.move(
            "retraining",
            reason,
            episodes=episodes,
            batch_id=None,
            batch_gold=None,
            dimensions=dimensions,
        )

    # --- the per-dimension rules --------------------------------------------------------

    def pending(self, enough: int) -> list[DimensionEvidence]:
        """Gating dimensions with fewer than ``enough`` judgments in the window: they block
        nothing, and a reason says they are pending."""
        return [d for d in self.gating if d.judgments < enough]

    def pending_note(self, enough: int) -> str:
        thin = self.pending(enough)
        if not thin:
            return ""
        names = ", ".join(f"{d.dimension} {d.judgments}/{enough}" for d in thin)
        return f"; pending (too little gold to decide): {names} gold judgments"

    def below(self, threshold: float, enough: int) -> list[DimensionEvidence]:
        """Gating dimensions with at least ``enough`` judgments whose Wilson upper bound is
        below ``threshold``."""
        return [d for d in self.gating if d.judgments >= enough and d.upper < threshold]

    def below_reason(self, found: list[DimensionEvidence], threshold: float) -> str:
        return "; ".join(
            f"{self.dimension_counts(d)}: the Wilson upper bound {_pct(d.upper)} is below "
            f"{_pct(threshold)}"
            for d in found
        )

    def qualifying(self, enough: int) -> tuple[bool, list[DimensionEvidence]]:
        """(whether the window qualifies, the dimensions that keep it from qualifying): every
        gating dimension with at least ``enough`` judgments qualifies (:func:`qualifies`), and
        at least one has that many."""
        ready = [d for d in self.gating if d.judgments >= enough]
        short = [
            d for d in ready if not qualifies(d.correct, d.judgments, self.rubric, z=self.policy.z)
        ]
        return bool(ready) and not short, short

    def qualified_reason(self, enough: int) -> str:
        q, r = _pct(self.t.qualify_gold_accuracy), _pct(self.t.retrain_gold_accuracy)
        ready = [d for d in self.gating if d.judgments >= enough]
        return "; ".join(
            f"{self.dimension_counts(d)}: at least {q}, and the Wilson lower bound "
            f"{_pct(d.lower)} is at least {r}"
            for d in ready
        ) + self.pending_note(enough)


def _alarm_text(reader: _Reader, d: DimensionEvidence, since: str) -> str:
    drift = d.drift
    if drift is None:  # pragma: no cover - callers pass charted dimensions
        raise ValueError(f"dimension {d.dimension!r} has no chart")
    return (
        f"gold drift alarm on {d.dimension}: the CUSUM reached {drift.statistic:.2f} ≥ h = "
        f"{drift.design.h:.2f} after {drift.judgments} gold judgments on {d.dimension} {since} "
        f"(first at judgment {(drift.alarm_at or 0) + 1}); {reader.dimension_counts(d)}"
    )


def _candidate_rules(reader: _Reader, *, prefix: str) -> Transition:
    """The candidate rules on the reader's window, per gating dimension: any dimension with
    at least m judgments and Wilson upper bound < r → retraining; every dimension with at
    least m judgments qualifying (and at least one) → qualified; else candidate. Dimensions
    with fewer than m judgments are pending: named, never blocking."""
    t = reader.t
    m = t.min_gold_judgments
    q, r = _pct(t.qualify_gold_accuracy), _pct(t.retrain_gold_accuracy)
    failing = reader.below(t.retrain_gold_accuracy, m)
    if failing:
        reason = prefix + reader.below_reason(failing, t.retrain_gold_accuracy)
        if reader.state.status == "retraining":
            return reader.move("retraining", reason, dimensions=failing)
        return reader.retrain(reason, failing)
    passes, short = reader.qualifying(m)
    if passes:
        return reader.move(
            "qualified",
            prefix + reader.qualified_reason(m),
            dimensions=reader.gating,
        )
    parts = [
        f"{reader.dimension_counts(d)}: not yet at least {q} with Wilson lower bound "
        f"{_pct(d.lower)} at least {r}"
        for d in short
    ]
    parts += [
        f"{reader.dimension_counts(d)}; qualifying needs at least {m}" for d in reader.pending(m)
    ]
    reason = "; ".join(parts) or (
        f"no gold judgments on a gating dimension ({reader.window_name}); qualifying needs at "
        f"least {m} on one"
    )
    return reader.move("candidate", prefix + reason, dimensions=[*short, *reader.pending(m)])


def decide(
    annotator_history: AnnotatorEvidence,
    current: StatusState | None,
    rubric: Rubric,
    *,
    policy: Policy | None = None,
) -> Transition | None:
    """The next status of one annotator, or None when the status stands.

    ``current`` is None for an annotator never decided: they become a candidate (or qualified
    or sent to retraining straight away, if the evidence says so). One step per call.
    """
    policy = policy or Policy()
    state = current or StatusState(annotator=annotator_history.annotator, status="candidate")
    if state.annotator != annotator_history.annotator:
        raise ValueError(
            f"the state belongs to {state.annotator!r}, the evidence to "
            f"{annotator_history.annotator!r}"
        )
    reader = _Reader(annotator_history, state, rubric, policy)
    t = rubric.thresholds
    m = t.min_gold_judgments
    window = policy.window or m
    q, r = _pct(t.qualify_gold_accuracy), _pct(t.retrain_gold_accuracy)

    if state.status == "candidate":
        reader.use_window("all gold judgments", reader.regular, chart=False)
        transition = _candidate_rules(reader, prefix="")
        if transition.status != "candidate" or current is None:
            return replace(transition, previous=state.status if current else None)
        return None

    if state.status == "qualified":
        reader.use_window("since qualified", reader.since_status(), chart=True)
        alarmed = [d for d in reader.gating if d.drift is not None and d.drift.alarm]
        if alarmed:
            return reader.move(
                "probation",
                "; ".join(_alarm_text(reader, d, "since qualified") for d in alarmed),
                dimensions=alarmed,
            )
        low = reader.below(t.qualify_gold_accuracy, m)
        if low:
            return reader.move(
                "probation", reader.below_reason(low, t.qualify_gold_accuracy), dimensions=low
            )
        return None

    if state.status == "probation":
        reader.use_window("since probation", reader.since_status(), chart=True)
        failing = reader.below(t.retrain_gold_accuracy, m)
        if failing:
            return reader.retrain(reader.below_reason(failing, t.retrain_gold_accuracy), failing)
        continued = [
            d
            for d in reader.gating
            if d.drift is not None and d.drift.alarm and d.judgments >= window
        ]
        if continued:
            return reader.retrain(
                "; ".join(
                    f"continued gold drift on {d.dimension}: the CUSUM restarted at probation "
                    f"alarmed again (at judgment {((d.drift.alarm_at if d.drift else 0) or 0) + 1})"
                    f"; {reader.dimension_counts(d)}"
                    for d in continued
                ),
                continued,
            )
        # Recovery waits for every gating dimension with gold: none may be left pending.
        waiting = [d for d in reader.gating if d.judgments < window]
        drifting = [d for d in reader.gating if d.drift is not None and d.drift.alarm]
        passes, _ = reader.qualifying(window)
        if not waiting and not drifting and passes:
            return reader.move(
                "qualified",
                f"recovered: {reader.qualified_reason(window)}; no drift alarm",
                dimensions=reader.gating,
            )
        return None

    if state.status == "retraining":
        if state.batch_id is None:
            return None
        gold = annotator_history.gold
        batch = gold.select(np.array([b == state.batch_id for b in gold.batch], dtype=bool))
        needed = state.batch_gold or policy.retraining_batch_gold or m
        # A batch is complete when its gold items are judged (on each item, every dimension
        # with a gold answer is one judgment); it is then decided per dimension.
        if len(set(map(str, batch.item_id))) < needed:
            return None
        reader.use_window(f"retraining batch {state.batch_id}", batch, chart=False)
        enough = min(m, needed)
        passes, short = reader.qualifying(enough)
        if passes:
            return reader.move(
                "qualified",
                f"passed {reader.window_name}: {reader.qualified_reason(enough)}",
                batch_id=None,
                batch_gold=None,
                dimensions=reader.gating,
            )
        failures = state.failures + 1
        named = short or reader.gating
        failed = (
            f"failed {reader.window_name}: "
            + "; ".join(reader.dimension_counts(d) for d in named)
            + f"; qualifying needs at least {q} with Wilson lower bound at least {r} on every "
            + ("gating dimension")
        )
        if failures >= policy.max_retraining_failures:
            return reader.move(
                "suspended",
                f"{failed}; retraining failure {failures} of {policy.max_retraining_failures}",
                failures=failures,
                batch_id=None,
                batch_gold=None,
                dimensions=named,
            )
        return reader.move(
            "retraining",
            f"{failed}; a new retraining batch is needed",
            event="batch_failed",
            failures=failures,
            batch_id=None,
            batch_gold=None,
            dimensions=named,
        )

    return None  # suspended: only a person ends a suspension


def rescore(
    annotator_history: AnnotatorEvidence,
    current: StatusState | None,
    rubric: Rubric,
    *,
    cause: str,
    policy: Policy | None = None,
) -> Transition | None:
    """Decide an annotator's status again from all their gold judgments, as for a candidate,
    because the gold answers they were judged on changed (``cause`` says how).

    A status decided on wrong gold must not stand by hysteresis ("qualified 24/24" on answers
    that are no longer gold): the annotator qualifies, goes to retraining or is a candidate
    again by the candidate rules, and the decision names the cause. Retraining episodes and
    failures are kept; a pending retraining batch is dropped (the rules decide afresh). A
    suspension is left to a person (None).
    """
    policy = policy or Policy()
    name = annotator_history.annotator
    state = current or StatusState(annotator=name, status="candidate")
    if state.status == "suspended":
        return None
    fresh = replace(state, status="candidate", since=0, batch_id=None, batch_gold=None)
    reader = _Reader(annotator_history, fresh, rubric, policy)
    reader.use_window("all gold judgments", reader.regular, chart=False)
    previous = state.status if current else None
    # Still in retraining if the rules send there again (no new episode for the same one).
    reader.state = replace(fresh, status="retraining") if state.status == "retraining" else fresh
    transition = _candidate_rules(reader, prefix=f"re-scored because {cause}: ")
    return replace(transition, previous=previous)


def assign_retraining_batch(
    annotator_history: AnnotatorEvidence,
    current: StatusState,
    rubric: Rubric,
    *,
    batch_id: str,
    gold_judgments: int | None = None,
    policy: Policy | None = None,
) -> Transition:
    """Record that ``batch_id`` was pushed for an annotator in retraining; its gold items
    (``gold_judgments`` of them, default the policy's or the rubric's minimum), judged on every
    dimension they have a gold answer for, will decide.

    Raises:
        ValueError: the annotator is not in retraining, or the batch id is empty.
    """
    policy = policy or Policy()
    if current.status != "retraining":
        raise ValueError(
            f"annotator {current.annotator!r} is {current.status}, not in retraining; "
            "retraining batches are for annotators in retraining"
        )
    if not batch_id:
        raise ValueError("batch_id must be a non-empty string")
    needed = gold_judgments or policy.retraining_batch_gold or rubric.thresholds.min_gold_judgments
    reader = _Reader(annotator_history, current, rubric, policy)
    reader.use_window("all gold judgments", reader.regular, chart=False)
    return reader.move(
        "retraining",
        f"waits for retraining batch {batch_id} ({needed} gold items)",
        event="batch_assigned",
        batch_id=batch_id,
        batch_gold=needed,
        retraining_batches=(*current.retraining_batches, batch_id),
    )


def needs_retraining_batch(
    transitions: Iterable[Transition], states: Mapping[str, StatusState] | None = None
) -> list[str]:
    """Annotators for whom a retraining batch should be pushed, sorted: those the transitions
    leave in retraining without a batch (and, if given, those ``states`` leave so)."""
    waiting = {t.annotator: t.state for t in transitions}
    merged = {**(states or {}), **waiting}
    return sorted(
        name for name, s in merged.items() if s.status == "retraining" and s.batch_id is None
    )


# --- from a judgments table ------------------------------------------------------------------


def annotator_evidence(
    frame: pd.DataFrame, rubric: Rubric, *, policy: Policy | None = None
) -> dict[str, AnnotatorEvidence]:
    """Gold and consensus streams of every annotator in a canonical judgments table."""
    policy = policy or Policy()
    gold = gold_streams(frame)
    consensus = consensus_streams(frame)
    rate = pool_rate(consensus)
    # The consensus chart is evidence that accompanies gold-driven transitions (it moves no
    # status by itself), and designing it costs a few Markov-chain solves: skip it without gold.
    has_gold = any(len(stream) for stream in gold.values())
    chart = (
        consensus_design(rate, rubric, arl0=policy.arl0) if rate is not None and has_gold else None
    )
    names = sorted({*frame["annotator"].astype(str), *gold, *consensus})
    return {
        name: AnnotatorEvidence(
            annotator=name,
            gold=gold.get(name) or Stream.empty(name),
            consensus=consensus.get(name),
            consensus_design=chart,
        )
        for name in names
    }


def decide_all(
    frame: pd.DataFrame,
    current: Mapping[str, StatusState],
    rubric: Rubric,
    *,
    policy: Policy | None = None,
) -> list[Transition]:
    """:func:`decide` for every annotator of the table (and every one with a state)."""
    evidence = annotator_evidence(frame, rubric, policy=policy)
    for name in current:
        evidence.setdefault(name, AnnotatorEvidence(annotator=name, gold=Stream.empty(name)))
    transitions = []
    for name in sorted(evidence):
        transition = decide(evidence[name], current.get(name), rubric, policy=policy)
        if transition is not None:
            transitions.append(transition)
    return transitions


def first_decisions(frame: pd.DataFrame, rubric: Rubric) -> list[Transition]:
    """The status :func:`decide` gives each annotator with gold judgments seen for the first
    time (no stored state): what an offline report shows. Reads the gold streams only (the
    consensus chart is evidence that moves no status)."""
    return [
        transition
        for name, stream in sorted(gold_streams(frame).items())
        if (transition := decide(AnnotatorEvidence(annotator=name, gold=stream), None, rubric))
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusChange:
    """A stored status change, as a sync reports it (the transition's evidence, JSON-ready)."""

    annotator: str
    previous: str | None
    status: str
    evidence: Mapping[str, Any]

    def describe(self) -> str:
        """One line for people: the move, or the retraining batch the status now waits for."""
        if self.evidence.get("event") == "batch_assigned":
            return f"{self.annotator}: {self.evidence.get('reason', 'retraining batch pushed')}"
        return f"{self.annotator}: {self.previous or '—'} → {self.status}"
