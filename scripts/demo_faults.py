"""The demo's annotators (real crowd votes and four planted faults) and whether the connector
found each fault, read from the connector's own outputs (status decisions and the report).

Annotators, in the order of Label Studio's demo users (annotator1 … annotator8):

- ``crowd1`` … ``crowd4``: the real UKPConvArg1 crowd votes of each pair (votes 1–4);
- ``drift``: accurate (the pair's fifth real vote), then careless (random) from the second
  production batch on: the gold CUSUM must alarm before the hard threshold (the Wilson bound
  over at least ``min_gold_judgments``) can;
- ``random``: answers at random, then, after retraining, well (the fifth real vote);
- ``left``: always clicks the response shown on the left;
- ``tie``: answers ``tie`` far more often than the pool (70 %; otherwise the fifth vote).

A fault is *found* when the connector says so with the fault's reason; the rules are below,
one function per fault, each reading only what the connector stored or reported.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connector.report import FLAGGED_STATUSES, flagged_annotators
from connector.store import StatusDecision

__all__ = ["ANNOTATORS", "FAULTS", "Verdict", "answer", "verdicts"]

ANNOTATORS = ("crowd1", "crowd2", "crowd3", "crowd4", "drift", "random", "left", "tie")
FAULTS = ("left", "random", "drift", "tie")
TIE_SHARE = 0.7
CHOICES = ("a", "b", "tie")


def answer(
    role: str, phase: int, votes: Sequence[str], display_left: str, rng: random.Random
) -> str:
    """The canonical value (``a``/``b``/``tie``) ``role`` gives an item in ``phase``.

    Phase 1 is the calibration batch, phase 2 the second production batch and the retraining
    batches. ``votes`` are the item's real crowd votes (canonical), ``display_left`` the side
    Label Studio shows on the left.
    """
    fifth = votes[4] if len(votes) > 4 else votes[0]
    if role.startswith("crowd"):
        index = int(role.removeprefix("crowd")) - 1
        return votes[index % len(votes)]
    if role == "drift":
        return fifth if phase == 1 else rng.choice(CHOICES)
    if role == "random":
        return rng.choice(CHOICES) if phase == 1 else fifth
    if role == "left":
        return display_left
    if role == "tie":
        return "tie" if rng.random() < TIE_SHARE else fifth
    raise ValueError(f"unknown demo annotator role {role!r}; known: {', '.join(ANNOTATORS)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """Whether a planted fault was found, and the connector's words for it."""

    fault: str
    annotator: str
    found: bool
    evidence: str

    def line(self) -> str:
        mark = "FOUND" if self.found else "FAILURE: NOT FOUND"
        return f"planted fault {self.fault!r} ({self.annotator}): {mark}: {self.evidence}"


def _figures(report: Mapping[str, Any], annotator: str, dimension: str) -> Mapping[str, Any]:
    for entry in report.get("annotators", []):
        if entry.get("annotator") == annotator:
            return dict(entry.get("dimensions", {}).get(dimension) or {})
    return {}


def _flag_reasons(report: Mapping[str, Any], annotator: str) -> list[str]:
    return [
        reason
        for f in flagged_annotators(report)
        if f.annotator == annotator
        for reason in f.reasons
    ]


def _random(history: Sequence[StatusDecision], annotator: str) -> Verdict:
    """Found: the lifecycle flagged the annotator on its gold accuracy (no drift alarm)."""
    for d in history:
        reason = str(d.evidence.get("reason", ""))
        if d.status in FLAGGED_STATUSES and "Wilson upper bound" in reason:
            return Verdict(
                fault="random", annotator=annotator, found=True, evidence=f"{d.status}: {reason}"
            )
    return Verdict(
        fault="random",
        annotator=annotator,
        found=False,
        evidence="no status decision flagged this annotator on gold accuracy",
    )


def _drift(history: Sequence[StatusDecision], annotator: str) -> Verdict:
    """Found: qualified → probation on a gold CUSUM alarm while the hard threshold had not been
    reached (fewer than the rubric's minimum gold judgments since qualifying, or a Wilson upper
    bound still at or above the qualify threshold)."""
    for d in history:
        drift = d.evidence.get("gold_drift") or {}
        if not (d.status == "probation" and drift.get("alarm_at") is not None):
            continue
        thresholds = d.evidence.get("thresholds") or {}
        n, wilson = int(d.evidence.get("gold_judgments") or 0), d.evidence.get("wilson") or [0, 1]
        hard = n >= int(thresholds.get("min_gold_judgments", 0)) and wilson[1] < float(
            thresholds.get("qualify_gold_accuracy", 0)
        )
        return Verdict(
            fault="drift",
            annotator=annotator,
            found=not hard,
            evidence=(
                f"{d.evidence.get('reason')}"
                + ("" if not hard else " (but the hard threshold was reached too)")
            ),
        )
    return Verdict(
        fault="drift", annotator=annotator, found=False, evidence="no gold drift alarm was stored"
    )


def _named_in_flag(
    report: Mapping[str, Any], annotator: str, fault: str, phrase: str, figure: str
) -> Verdict:
    """Found: a reason the report flags ``annotator`` for contains ``phrase`` (the wording of
    :func:`connector.report.sections.side_preference` or ``non_decisive_excess``); ``figure``
    says what the report holds when no flag names it."""
    reasons = _flag_reasons(report, annotator)
    named = [r for r in reasons if phrase in r]
    return Verdict(
        fault=fault,
        annotator=annotator,
        found=bool(named),
        evidence=(
            "; ".join(named)
            if named
            else f"{figure} is in the report, but no flag names it "
            f"(flagged for: {'; '.join(reasons) or 'nothing'})"
        ),
    )


def _share(value: object) -> str:
    return f"{value:.0%}" if isinstance(value, float) else "—"


def _left(report: Mapping[str, Any], annotator: str, dimension: str) -> Verdict:
    """Found: the report flags the annotator for choosing the left side."""
    bias = _figures(report, annotator, dimension).get("position_bias") or {}
    figure = f"left share {_share(bias.get('left_share'))}"
    return _named_in_flag(report, annotator, "left", "shown on the left", figure)


def _tie(report: Mapping[str, Any], annotator: str, dimension: str) -> Verdict:
    """Found: the report flags the annotator for its tie (non-decisive) rate."""
    rate = _figures(report, annotator, dimension).get("non_decisive_rate")
    return _named_in_flag(
        report, annotator, "tie", "non-decisive values", f"tie rate {_share(rate)}"
    )


def verdicts(
    report: Mapping[str, Any],
    history: Mapping[str, Sequence[StatusDecision]],
    names: Mapping[str, str],
    dimension: str,
) -> list[Verdict]:
    """One verdict per planted fault. ``names`` maps a role to its annotator's name in the
    connector; ``history`` holds each annotator's stored status decisions, oldest first."""
    return [
        _left(report, names["left"], dimension),
        _random(history.get(names["random"], ()), names["random"]),
        _drift(history.get(names["drift"], ()), names["drift"]),
        _tie(report, names["tie"], dimension),
    ]
