"""The validation gate of a rubric version: the one owner of whether a version's validation
evidence lets it go to production for a project.

Evidence. The version's validation batches (kind ``validation``, pushed under the version's
content hash), their own items only: the gold and re-test tasks mixed into those batches are
left out, and so are gold items. Each annotator's first judgment of an item counts (the
report's coding rule, :func:`connector.report.build.first_judgments`; a re-test copy or a
second annotation of the same item by the same annotator does not).

Complete. Every validation item has first judgments from at least the rubric's
``annotators_per_item`` distinct annotators (on any dimension: a dimension left empty, such as
a strength after a tie, does not make an item incomplete).

Decision, per dimension of the rubric (every dimension decides, ``gating: false`` ones too: that
flag is about annotators' gold, not about whether the guidelines work), on the BCa interval of
Krippendorff's alpha over the validation items (:func:`connector.metrics.summarise_agreement`):

- accept when the interval's lower bound reaches the dimension's target
  (:meth:`Rubric.target_alpha_for`);
- refuse when its upper bound is below the target;
- otherwise too thin to decide ("undecided"), with how many more items would decide it: the
  interval's half-width on the side facing the target, ``h``, shrinks as ``1/sqrt(n)``, so with
  alpha staying where it is the bound reaches the target at
  ``n' = ceil(n (h / |alpha − target|)²)`` pairable items: ``n' − n`` more items, each
  ``annotators_per_item`` more judgments (:func:`items_to_decide`). Alpha exactly at the target
  cannot be decided by this rule (no number is given); below
  :data:`~connector.metrics.agreement.MIN_INTERVAL_ITEMS` pairable items the number is what
  reaches that minimum; alpha undefined (no variation at all) gives no number either.

The version's state is ``accepted`` (complete, every dimension accepted), ``incomplete``,
``refused`` (some dimension refused), ``undecided`` or ``no_validation_batch``.

Promotion, and the refusal of production pushes before it: :mod:`connector.calibration.promotion`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from connector.calibration.comparison import VersionComparison, compare_versions, describe
from connector.errors import ConnectorError
from connector.metrics.agreement import MIN_INTERVAL_ITEMS, AgreementSummary, summarise_agreement
from connector.metrics.bootstrap import DEFAULT_RESAMPLES
from connector.metrics.weights import agreement_weights, weights_for_level
from connector.report.build import first_judgments
from connector.rubric import Rubric
from connector.store import Batch, Store

__all__ = [
    "DimensionGate",
    "GateError",
    "GateReport",
    "GateState",
    "ItemShortfall",
    "decide_dimension",
    "evaluate_gate",
    "items_to_decide",
]

GateState = Literal["accepted", "refused", "undecided", "incomplete", "no_validation_batch"]
Decision = Literal["accept", "refuse", "undecided"]


class GateError(ConnectorError, ValueError):
    """A push or promotion the validation gate refuses (the message says what to do)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DimensionGate:
    """One dimension's decision, with alpha, its interval and what would decide it."""

    dimension: str
    target: float
    alpha: float
    lower: float
    upper: float
    ci_method: str | None
    n_items: int
    n_judgments: int
    decision: Decision
    reason: str
    more_items: int | None = None
    more_judgments: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension,
            "target_alpha": self.target,
            "alpha": _num(self.alpha),
            "lower": _num(self.lower),
            "upper": _num(self.upper),
            "ci_method": self.ci_method,
            "n_pairable_items": self.n_items,
            "n_judgments": self.n_judgments,
            "decision": self.decision,
            "reason": self.reason,
            "more_items": self.more_items,
            "more_judgments": self.more_judgments,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemShortfall:
    """A validation item with fewer annotators than the rubric asks."""

    item_key: str
    annotators: int


@dataclass(frozen=True, slots=True, kw_only=True)
class GateReport:
    """The gate of one rubric version for one project."""

    project_key: str
    rubric_ref: str
    rubric_hash: str
    state: GateState
    batch_ids: tuple[str, ...]
    n_items: int
    annotators_per_item: int
    shortfall: tuple[ItemShortfall, ...]
    dimensions: tuple[DimensionGate, ...]
    comparison: VersionComparison | None
    comparison_note: str | None

    @property
    def accepted(self) -> bool:
        return self.state == "accepted"

    @property
    def missing_judgments(self) -> int:
        return sum(self.annotators_per_item - s.annotators for s in self.shortfall)

    def missing(self) -> list[str]:
        """What stands between the version and production, one line each (empty if accepted)."""
        if self.state == "no_validation_batch":
            return [
                f"no validation batch was pushed under {self.rubric_ref}: push one with "
                f"iaa-connector push {self.project_key} --items FILE --kind validation"
            ]
        lines = []
        if self.shortfall:
            shown = ", ".join(f"{s.item_key} ({s.annotators})" for s in self.shortfall[:5])
            more = f" and {len(self.shortfall) - 5} more" if len(self.shortfall) > 5 else ""
            lines.append(
                f"validation batch incomplete: {len(self.shortfall)} of {self.n_items} items "
                f"have fewer than {self.annotators_per_item} annotators ({shown}{more}); "
                f"{self.missing_judgments} judgment(s) missing; sync after they are judged"
            )
        for d in self.dimensions:
            if d.decision != "accept":
                lines.append(f"{d.dimension}: {d.reason}")
        return lines

    def as_json(self) -> dict[str, Any]:
        return {
            "project": self.project_key,
            "rubric": self.rubric_ref,
            "rubric_hash": self.rubric_hash,
            "state": self.state,
            "batches": list(self.batch_ids),
            "n_items": self.n_items,
            "annotators_per_item": self.annotators_per_item,
            "incomplete_items": [
                {"item": s.item_key, "annotators": s.annotators} for s in self.shortfall
            ],
            "missing_judgments": self.missing_judgments,
            "dimensions": [d.as_json() for d in self.dimensions],
            "comparison": None if self.comparison is None else self.comparison.as_json(),
            "comparison_note": self.comparison_note,
            "missing": self.missing(),
        }

    def lines(self) -> list[str]:
        """The report as text lines (the console and the Markdown file print these)."""
        lines = [
            f"validation gate of {self.rubric_ref} for project {self.project_key}: {self.state}",
            f"batches: {', '.join(self.batch_ids) or 'none'}; {self.n_items} validation items, "
            f"{self.annotators_per_item} annotators each asked",
        ]
        for d in self.dimensions:
            lines.append(
                f"  {d.dimension}: alpha {_fmt(d.alpha)} [{_fmt(d.lower)}, {_fmt(d.upper)}] "
                f"({d.ci_method or 'no interval'}), target {d.target:.2f}, "
                f"{d.n_items} pairable items: {d.decision}"
            )
        lines.extend(f"missing: {line}" for line in self.missing())
        if self.comparison is not None:
            lines.extend(describe(self.comparison))
        elif self.comparison_note:
            lines.append(f"comparison: {self.comparison_note}")
        return lines

    def as_markdown(self) -> str:
        return "\n".join(["# " + self.lines()[0], "", *(f"    {x}" for x in self.lines()[1:])])


def _num(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _fmt(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) else "—"


def items_to_decide(
    *, n_items: int, alpha: float, lower: float, upper: float, target: float
) -> int | None:
    """More pairable items for the interval's bound to reach the target with alpha unchanged.

    The half-width on the side facing the target (``alpha − lower`` when alpha ≥ target,
    ``upper − alpha`` otherwise) scales as ``1/sqrt(n)``; it equals ``|alpha − target|`` at
    ``n' = ceil(n (h / |alpha − target|)²)``. Returns ``n' − n`` (at least 1), or ``None`` when
    the rule gives no number: alpha equal to the target, or an undefined alpha or bound.
    """
    if not all(math.isfinite(v) for v in (alpha, lower, upper)) or alpha == target:
        return None
    half = alpha - lower if alpha > target else upper - alpha
    # (rounded to 1e-9 first: 0.10 / 0.05 is 2.0000000000000004 in floating point)
    needed = math.ceil(round(n_items * (half / abs(alpha - target)) ** 2, 9))
    return max(1, needed - n_items)


def decide_dimension(
    name: str, summary: AgreementSummary, *, target: float, annotators_per_item: int
) -> DimensionGate:
    """Accept, refuse or "too thin to decide" one dimension from its alpha interval."""
    alpha = summary.krippendorff_alpha
    point, (lower, upper) = alpha.value, alpha.ci95
    n = summary.n_pairable_items
    decision: Decision = "undecided"
    more: int | None = None

    def judgments(items: int) -> str:
        return f"{items} more items ({items * annotators_per_item} judgments)"

    if n < MIN_INTERVAL_ITEMS:
        more = MIN_INTERVAL_ITEMS - n
        reason = (
            f"{n} pairable items (items with two or more judgments): an interval needs at "
            f"least {MIN_INTERVAL_ITEMS}; {judgments(more)}"
        )
    elif not math.isfinite(point):
        reason = (
            "alpha is undefined: every judgment has the same value (no variation to measure "
            "agreement against); more varied items are needed, no count can be given"
        )
    elif not (math.isfinite(lower) and math.isfinite(upper)):
        reason = f"alpha {point:.3f} has no interval (every bootstrap resample is undefined)"
    elif lower >= target:
        decision = "accept"
        reason = f"lower bound {lower:.3f} reaches the target {target:.2f}"
    elif upper < target:
        decision = "refuse"
        reason = (
            f"alpha {point:.3f}, upper bound {upper:.3f} below the target {target:.2f}: "
            "agreement under this version is too low (revise the guidelines or retrain)"
        )
    else:
        more = items_to_decide(n_items=n, alpha=point, lower=lower, upper=upper, target=target)
        if more is None:
            reason = (
                f"alpha {point:.3f} equals the target {target:.2f}; interval "
                f"[{lower:.3f}, {upper:.3f}] too thin to decide and more items would not "
                "decide it predictably"
            )
        else:
            side, goal = ("lower", "reach") if point >= target else ("upper", "fall below")
            reason = (
                f"too thin to decide: alpha {point:.3f} [{lower:.3f}, {upper:.3f}] straddles "
                f"the target {target:.2f}; about {judgments(more)} for the {side} bound to "
                f"{goal} it if alpha holds"
            )
    return DimensionGate(
        dimension=name,
        target=target,
        alpha=point,
        lower=lower,
        upper=upper,
        ci_method=alpha.ci_method,
        n_items=n,
        n_judgments=summary.n_judgments,
        decision=decision,
        reason=reason,
        more_items=more,
        more_judgments=None if more is None else more * annotators_per_item,
    )


# --- evidence from the store ------------------------------------------------------------------


def _version_of_rows(frame: pd.DataFrame, batches: Sequence[Batch]) -> pd.Series[Any]:
    """The rubric hash each judgment counts under: its batch's (the version its task was pushed
    under) or, for a task no batch pushed, the judgment's own ``rubric_version``."""
    by_batch = {b.batch_id: b.rubric_hash for b in batches}
    own = frame["rubric_version"].astype(object)
    return frame["batch"].map(by_batch).where(frame["batch"].isin(by_batch), own)


def _validation_frame(
    store: Store, project_key: str, rubric: Rubric, batches: Sequence[Batch]
) -> tuple[pd.DataFrame, tuple[str, ...], list[str]]:
    """Every judgment of the validation items (under any version), the batch ids and the
    validation items; the validation batches' own judgments are those whose ``batch`` is one
    of the ids."""
    chosen = [b for b in batches if b.kind == "validation" and b.rubric_hash == rubric.content_hash]
    ids = tuple(b.batch_id for b in chosen)
    items: list[str] = []
    for batch in chosen:
        items.extend(
            i.item_key for i in store.batch_items(batch.batch_id) if i.role == "validation"
        )
    items = sorted(set(items))
    return store.judgments_frame(project_key, item_keys=items), ids, items


def _own(frame: pd.DataFrame, batch_ids: Sequence[str], items: Sequence[str]) -> pd.DataFrame:
    """The validation batches' own judgments: their validation items, gold left out."""
    keep = (
        frame["batch"].isin(batch_ids) & frame["item_id"].isin(items) & frame["gold_value"].isna()
    )
    return frame[keep].reset_index(drop=True)


def _shortfall(frame: pd.DataFrame, items: Sequence[str], needed: int) -> list[ItemShortfall]:
    if frame.empty:
        annotators: dict[Any, int] = {}
    else:
        annotators = frame.groupby("item_id", observed=True)["annotator"].nunique().to_dict()
    return [
        ItemShortfall(item_key=key, annotators=int(annotators.get(key, 0)))
        for key in items
        if annotators.get(key, 0) < needed
    ]


def _summary(frame: pd.DataFrame, rubric: Rubric, name: str, resamples: int) -> AgreementSummary:
    dimension = rubric.dimension(name)
    categories = list(dimension.values)
    coded = first_judgments(frame[frame["dimension"] == name], rubric).dimensions.get(name)
    counts = np.zeros((0, len(categories))) if coded is None else coded.counts()
    level_weights = weights_for_level(dimension.level)
    weights = agreement_weights(level_weights.name, categories, distances=level_weights.distances)
    return summarise_agreement(
        counts,
        categories=categories,
        level=dimension.level,
        weights=weights,
        resamples=resamples,
        seed=0,
        interval_method="bca",
    )


def evaluate_gate(
    store: Store,
    project_key: str,
    rubric: Rubric,
    *,
    previous: Rubric | None = None,
    resamples: int = DEFAULT_RESAMPLES,
) -> GateReport:
    """The gate of ``rubric`` for the project, compared with ``previous`` on matched items."""
    batches = store.project_batches(project_key)
    everything, batch_ids, items = _validation_frame(store, project_key, rubric, batches)
    frame = _own(everything, batch_ids, items)
    needed = rubric.calibration.annotators_per_item
    dimensions = tuple(
        decide_dimension(
            d.name,
            _summary(frame, rubric, d.name, resamples),
            target=rubric.target_alpha_for(d.name),
            annotators_per_item=needed,
        )
        for d in rubric.dimensions
    )
    shortfall = tuple(_shortfall(frame, items, needed))
    state: GateState
    if not batch_ids:
        state = "no_validation_batch"
    elif shortfall:
        state = "incomplete"
    elif any(d.decision == "refuse" for d in dimensions):
        state = "refused"
    elif any(d.decision == "undecided" for d in dimensions):
        state = "undecided"
    else:
        state = "accepted"
    comparison, note = None, None
    if previous is None:
        note = f"no earlier version of rubric {rubric.id} was used in project {project_key}"
    elif not batch_ids:
        note = "no validation batch to compare"
    else:
        version = _version_of_rows(everything, batches)
        old = everything[
            version.isin([previous.content_hash, previous.ref])
            & everything["gold_value"].isna()
            & everything["dimension"].isin([d.name for d in previous.dimensions])
        ]
        comparison = compare_versions(
            old.reset_index(drop=True), previous, frame, rubric, resamples=resamples
        )
    return GateReport(
        project_key=project_key,
        rubric_ref=rubric.ref,
        rubric_hash=rubric.content_hash,
        state=state,
        batch_ids=batch_ids,
        n_items=len(items),
        annotators_per_item=needed,
        shortfall=shortfall,
        dimensions=dimensions,
        comparison=comparison,
        comparison_note=note,
    )
