"""What the report singles out, for every renderer: findings and the heatmap's annotators.

- :func:`flagged_annotators`: annotators the lifecycle put in :data:`FLAGGED_STATUSES`, whose
  peer agreement is below the others' on the same items (:func:`peer_shortfall`), who pick one
  display side (:func:`side_preference`) or answer non-decisive values far more often than the
  others (:func:`non_decisive_excess`);
  :func:`flagged_table` lays them out and :func:`flag_rules` says the rules in one sentence;
- :func:`peer_network`: which annotators the annotator × annotator heatmap shows, in which order;
- :func:`alpha_estimate`, :func:`gold_estimates`: rows of the interval charts.

Change a threshold here, not in a renderer. Text is plain and *unescaped*.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connector.metrics.stats import binomial_test
from connector.report._format import (
    TextTable,
    annotators_of,
    dimensions_of,
    fmt_coef,
    fmt_coef_ci,
    fmt_count,
    fmt_percent,
    fmt_percent_ci,
    kappa_name,
    lookup,
    number,
    peer_difference_text,
    plural,
    significance_level,
    target_verdict,
)
from connector.report.svg import Estimate

__all__ = [
    "FLAGGED_STATUSES",
    "PEER_MARGIN",
    "PEER_MIN_PAIRS",
    "FlaggedAnnotator",
    "PeerNetwork",
    "alpha_estimate",
    "flag_rules",
    "flagged_annotators",
    "flagged_on",
    "flagged_statuses",
    "flagged_table",
    "gold_estimates",
    "gold_release_note",
    "gold_thresholds",
    "non_decisive_excess",
    "peer_network",
    "peer_shortfall",
    "side_preference",
]

FLAGGED_STATUSES = ("probation", "retraining", "suspended")
"""Statuses that flag an annotator on gold. The status is the annotator lifecycle's decision
(:mod:`connector.quality.lifecycle`, from the rubric's thresholds): the report, the platform
summary, the alerts and the CLI never re-derive it."""

PEER_MIN_PAIRS = 20
"""Peer agreement is only judged over at least this many pairs with other annotators (on items
where the others' agreement is known)."""

PEER_MARGIN = 0.10
"""Flag an annotator whose agreement with peers is below the agreement among the *other*
annotators on the same items (``peers.same_items`` of the report) by more than this, and whose
95% interval of that difference lies wholly below zero."""

HABIT_MIN_JUDGMENTS = 20
"""Side preference and non-decisive excess are only judged over at least this many of the
annotator's judgments (decisive ones, for the side)."""

HABIT_MARGIN = 0.20
"""Flag a side preference when the share of the left response is this far from one half, and a
non-decisive excess when the annotator's rate exceeds the other annotators' by this much; in
both cases only when the exact binomial test is significant at the report's level divided by
the number of annotators tested in the dimension (Bonferroni: one test per annotator)."""


# --------------------------------------------------------------------------- findings


@dataclass(frozen=True, slots=True, kw_only=True)
class FlaggedAnnotator:
    """An annotator worth a look in one dimension, and why (plain text)."""

    annotator: str
    dimension: str
    reasons: tuple[str, ...]
    gold: str
    peer_agreement: str
    peer_pairs: str


def gold_thresholds(report: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """The rubric's (qualify, retrain) gold accuracy, as the report records them."""
    thresholds = report.get("thresholds") or {}
    return (
        number(thresholds.get("qualify_gold_accuracy")),
        number(thresholds.get("retrain_gold_accuracy")),
    )


def gold_release_note(report: Mapping[str, Any]) -> str | None:
    """Why some annotators show no gold figures in a synced report (they are released in steps,
    :mod:`connector.quality.gold_release`), or None when every figure is shown."""
    waiting = [
        entry["gold_release"]
        for entry in report.get("annotators", [])
        if isinstance(entry.get("gold_release"), Mapping)
        and entry["gold_release"].get("released_at") is None
    ]
    if not waiting:
        return None
    every, hours = waiting[0].get("every"), waiting[0].get("hours")
    return (
        f"Gold figures of {plural(len(waiting), 'annotator')} are not released yet: per-annotator "
        f"gold figures are released at most once every {hours:g} h and only after at least "
        f"{every} new gold judgments, so that no single answer can be traced through this "
        "report. Statuses and flags are decided on the live figures."
    )


def flag_rules() -> str:
    """The rules of :func:`flagged_annotators` as one sentence."""
    return (
        f"Status {', '.join(FLAGGED_STATUSES)} (the annotator lifecycle's decision from the "
        "rubric's gold thresholds, with its reason), or agreement with peers more than "
        f"{100 * PEER_MARGIN:g} percentage points below the agreement among the other annotators "
        "on the same items, with the whole 95% interval of the difference below zero, over at "
        f"least {PEER_MIN_PAIRS} pairs; or, over at least {HABIT_MIN_JUDGMENTS} judgments, "
        f"choosing one display side at least {100 * HABIT_MARGIN:g} points away from half the "
        "time, or non-decisive values at least "
        f"{100 * HABIT_MARGIN:g} points more often than the others, each significant by an exact "
        "binomial test at the report's level divided by the number of annotators."
    )


def peer_shortfall(figures: Mapping[str, Any]) -> bool:
    """Whether an annotator's figures in one dimension flag them on peer agreement: at least
    :data:`PEER_MIN_PAIRS` pairs on items with a reference, agreement more than
    :data:`PEER_MARGIN` below the others' agreement on the same items, and the 95% interval of
    the difference wholly below zero. The one rule; every surface reads it."""
    same = lookup(figures, "peers", "same_items")
    pairs = number(lookup(same, "n_pairs"))
    difference = number(lookup(same, "difference"))
    ci = lookup(same, "ci95") or (None, None)
    high = number(ci[1]) if len(ci) == 2 else None
    return (
        pairs is not None
        and pairs >= PEER_MIN_PAIRS
        and difference is not None
        and difference < -PEER_MARGIN
        and high is not None
        and high < 0
    )


def _bonferroni(report: Mapping[str, Any], tested: int) -> float:
    return significance_level(report) / max(tested, 1)


def side_preference(figures: Mapping[str, Any], level: float) -> str | None:
    """Why an annotator's figures in one dimension flag a side preference, else None: at least
    :data:`HABIT_MIN_JUDGMENTS` decisive judgments with randomised sides, a left share at least
    :data:`HABIT_MARGIN` from one half, and its binomial test's p-value below ``level``. The one
    rule; every surface reads it."""
    bias = lookup(figures, "position_bias")
    n, share, p = (number(lookup(bias, key)) for key in ("n", "left_share", "p_value"))
    if n is None or share is None or p is None or n < HABIT_MIN_JUDGMENTS:
        return None
    if abs(share - 0.5) < HABIT_MARGIN or p >= level:
        return None
    side = "left" if share > 0.5 else "right"
    chosen = share if share > 0.5 else 1.0 - share
    return (
        f"chooses the response shown on the {side} in {fmt_percent(chosen)} of "
        f"{int(n):,} decisive judgments (p = {p:.2g})"
    )


def non_decisive_excess(
    figures: Mapping[str, Any], others_rate: float | None, level: float
) -> str | None:
    """Why an annotator's figures in one dimension flag a non-decisive excess (``tie`` far more
    often than the others), else None: at least :data:`HABIT_MIN_JUDGMENTS` judgments, a rate
    above ``others_rate`` (the other annotators' pooled rate) by at least :data:`HABIT_MARGIN`,
    and the binomial test of the annotator's count against ``others_rate`` below ``level``."""
    rate, n = number(lookup(figures, "non_decisive_rate")), number(lookup(figures, "n_judgments"))
    if rate is None or n is None or others_rate is None or n < HABIT_MIN_JUDGMENTS:
        return None
    if rate - others_rate < HABIT_MARGIN:
        return None
    p = binomial_test(round(rate * n), int(n), others_rate)
    if not p < level:
        return None
    return (
        f"answers non-decisive values in {fmt_percent(rate)} of {int(n):,} judgments against "
        f"{fmt_percent(others_rate)} for the others (p = {p:.2g})"
    )


def _others_rates(annotators: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, float | None]:
    """Each annotator's others' pooled non-decisive rate (None without other judgments)."""
    counts = {}
    for who, figures in annotators:
        rate, n = (
            number(lookup(figures, "non_decisive_rate")),
            number(lookup(figures, "n_judgments")),
        )
        if rate is not None and n:
            counts[who] = (rate * n, n)
    total = sum(c for c, _ in counts.values()), sum(n for _, n in counts.values())
    return {
        who: (total[0] - c) / (total[1] - n) if total[1] - n > 0 else None
        for who, (c, n) in counts.items()
    }


def flagged_statuses(report: Mapping[str, Any]) -> dict[str, tuple[str, str, frozenset[str]]]:
    """Annotators whose status is in :data:`FLAGGED_STATUSES`: (status, reason, dimensions).

    ``dimensions`` are the ones the lifecycle named as deciding (the report's
    ``status_dimensions``); empty when the decision names none (a decision stored before
    decisions were per dimension), which flags the annotator in every dimension they judged.
    """
    return {
        str(entry.get("annotator")): (
            str(entry["status"]),
            str(entry.get("status_reason") or ""),
            frozenset(str(d) for d in entry.get("status_dimensions") or ()),
        )
        for entry in report.get("annotators", [])
        if entry.get("status") in FLAGGED_STATUSES
    }


def flagged_on(flagged: Mapping[str, tuple[str, str, frozenset[str]]], who: str, dim: str) -> bool:
    """Whether :func:`flagged_statuses` flags ``who`` on dimension ``dim``."""
    found = flagged.get(who)
    return found is not None and (not found[2] or dim in found[2])


def flagged_annotators(report: Mapping[str, Any]) -> list[FlaggedAnnotator]:
    """Annotators of each dimension, most judgments first, who

    - are in one of :data:`FLAGGED_STATUSES` (the lifecycle's decision, taken per dimension:
      they are flagged in the dimensions that decided it, see :func:`flagged_statuses`), or
    - agree with their peers less than the other annotators agree among themselves on the same
      items (:func:`peer_shortfall`): like with like, so an annotator who judged the hard items
      is not flagged for their difficulty, or
    - pick one display side (:func:`side_preference`) or answer non-decisive values far more
      often than the others (:func:`non_decisive_excess`).
    """
    statuses = flagged_statuses(report)
    flagged = []
    for name, _ in dimensions_of(report):
        annotators = list(annotators_of(report, name))
        level = _bonferroni(report, len(annotators))
        others_rates = _others_rates(annotators)
        for who, figures in annotators:
            reasons = []
            if flagged_on(statuses, who, name):
                status, why, _ = statuses[who]
                reasons.append(f"{status}: {why}" if why else status)
            if peer_shortfall(figures):
                reasons.append("agrees with peers less than the others do on the same items")
            for habit in (
                side_preference(figures, level),
                non_decisive_excess(figures, others_rates.get(who), level),
            ):
                if habit is not None:
                    reasons.append(habit)
            if reasons:
                flagged.append(
                    FlaggedAnnotator(
                        annotator=who,
                        dimension=name,
                        reasons=tuple(reasons),
                        gold=fmt_percent_ci(
                            lookup(figures, "gold", "accuracy"), lookup(figures, "gold", "ci95")
                        ),
                        peer_agreement=peer_difference_text(figures),
                        peer_pairs=fmt_count(lookup(figures, "peers", "same_items", "n_pairs")),
                    )
                )
    return flagged


def flagged_table(flagged: Sequence[FlaggedAnnotator]) -> TextTable:
    """The flagged annotators as a table, in the order given."""
    return TextTable(
        columns=(
            "Annotator",
            "Dimension",
            "Why",
            "Gold accuracy [95% CI]",
            "Peer agreement vs others on the same items (difference [95% CI])",
            "Peer pairs",
        ),
        rows=tuple(
            (
                f.annotator,
                f.dimension,
                "; ".join(f.reasons),
                f.gold,
                f.peer_agreement,
                f.peer_pairs,
            )
            for f in flagged
        ),
        numeric=(False, False, False, True, True, True),
    )


# --------------------------------------------------------------------------- peer network


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerNetwork:
    """The annotators an annotator × annotator heatmap shows, and the pairs between them.

    ``shown`` is ordered so that annotators who share items sit next to each other;
    ``n_connected`` counts the annotators with at least one listed pair (``annotator_pairs``
    lists only pairs with at least ``min_shared_items`` shared items) and ``n_annotators``
    everyone who judged the dimension.
    """

    shown: tuple[str, ...]
    pairs: Mapping[frozenset[str], Mapping[str, Any]]
    n_connected: int
    n_annotators: int
    kappa: str = "κ"

    def matrix(self) -> tuple[list[list[float | None]], list[list[str]], list[list[str]]]:
        """Percent agreement of every shown pair (None: same annotator or not listed), the
        cells' texts (``"70.7"``) and their tooltips, each of shape ``(n, n)``."""
        values: list[list[float | None]] = []
        texts: list[list[str]] = []
        titles: list[list[str]] = []
        for a in self.shown:
            values.append([])
            texts.append([])
            titles.append([])
            for b in self.shown:
                pair = self.pairs.get(frozenset((a, b))) if a != b else None
                value = number(pair.get("percent_agreement")) if pair else None
                values[-1].append(value)
                texts[-1].append("" if value is None else f"{100 * value:.1f}")
                if pair is None:
                    titles[-1].append(
                        f"{a} (same annotator)" if a == b else f"{a} × {b}: too few shared items"
                    )
                else:
                    titles[-1].append(
                        f"{a} × {b}: {fmt_percent(value)} agreement, {self.kappa} "
                        f"{fmt_coef(pair.get('cohen_kappa'))}, "
                        f"{plural(pair.get('shared_items'), 'shared item')}"
                    )
        return values, texts, titles


def peer_network(report: Mapping[str, Any], dimension: str, *, limit: int) -> PeerNetwork:
    """At most ``limit`` annotators of ``dimension`` for the agreement heatmap.

    Chosen by how many listed pairs they have (then by judgments, then by name), so that the
    matrix is as full as it can be; annotators without any listed pair are left out. Ordered
    greedily: next comes the annotator with the most pairs to those already placed (then to the
    last placed), so connected annotators form blocks along the diagonal.
    """
    pairs: dict[frozenset[str], Mapping[str, Any]] = {}
    for pair in lookup(report, "annotator_pairs", dimension) or ():
        if isinstance(pair, Mapping) and str(pair.get("a")) != str(pair.get("b")):
            pairs[frozenset((str(pair.get("a")), str(pair.get("b"))))] = pair
    links: dict[str, set[str]] = {}
    for key in pairs:
        a, b = sorted(key)
        links.setdefault(a, set()).add(b)
        links.setdefault(b, set()).add(a)
    annotators = annotators_of(report, dimension)
    judgments = {who: number(figures.get("n_judgments")) or 0.0 for who, figures in annotators}
    ranked = sorted(links, key=lambda who: (-len(links[who]), -judgments.get(who, 0.0), who))
    chosen = ranked[:limit]
    rank = {who: i for i, who in enumerate(chosen)}
    remaining = set(chosen)
    within = {who: len(links[who] & remaining) for who in chosen}
    order: list[str] = []
    placed: set[str] = set()
    while remaining:
        last = links[order[-1]] if order else set()
        best = max(
            remaining,
            key=lambda w: (len(links[w] & placed), w in last, within[w], -rank[w]),
        )
        order.append(best)
        placed.add(best)
        remaining.remove(best)
    return PeerNetwork(
        shown=tuple(order),
        pairs={k: v for k, v in pairs.items() if k <= placed},
        n_connected=len(links),
        n_annotators=len(set(judgments) | set(links)),
        kappa=kappa_name(lookup(report, "dimensions", dimension) or {}),
    )


# --------------------------------------------------------------------------- chart rows


def alpha_estimate(label: str, stat: object, *, target: float | None, note: str) -> Estimate:
    """A Krippendorff's alpha ``{"value", "ci95"}`` as a chart row, red only when its interval
    lies wholly below ``target`` (:func:`~connector.report._format.target_verdict`): a wide
    interval that reaches the target, or too few items for an interval, is not a verdict."""
    value = number(lookup(stat, "value"))
    ci = lookup(stat, "ci95") or (None, None)
    why = lookup(stat, "no_interval")
    return Estimate(
        label=label,
        value=value,
        low=number(ci[0]),
        high=number(ci[1]),
        text=fmt_coef_ci(stat),
        note=f"{note}; no interval: {why}" if why else note,
        alert=target_verdict(stat, target) == "below",
    )


def gold_estimates(report: Mapping[str, Any], dimension: str) -> list[Estimate]:
    """Gold accuracy of every annotator of ``dimension`` with gold figures, as chart rows: surest
    failures first (lowest upper bound of the interval, then lowest accuracy); red when the
    lifecycle flags the annotator (:data:`FLAGGED_STATUSES`)."""
    statuses = flagged_statuses(report)
    kappa = kappa_name(lookup(report, "dimensions", dimension) or {})
    estimates = []
    for who, figures in annotators_of(report, dimension):
        gold = figures.get("gold")
        accuracy = number(lookup(gold, "accuracy"))
        if accuracy is None:
            continue
        ci = lookup(gold, "ci95") or (None, None)
        upper = number(ci[1])
        estimates.append(
            Estimate(
                label=who,
                value=accuracy,
                low=number(ci[0]),
                high=upper,
                text=fmt_percent_ci(accuracy, ci),
                note=(
                    f"{plural(lookup(gold, 'n'), 'gold item')}, "
                    f"{kappa} {fmt_coef(lookup(gold, 'cohen_kappa'))}"
                ),
                alert=flagged_on(statuses, who, dimension),
            )
        )
    estimates.sort(
        key=lambda e: (e.high if e.high is not None else e.value or 0.0, e.value or 0.0, e.label)
    )
    return estimates
