"""Annotator status from gold evidence: candidate → qualified, or flagged for retraining.

Decided from the report's per-annotator gold figures, pooled over the rubric's dimensions,
and only once an annotator has the rubric's minimum number of gold judgments: never from one
unlucky item. Between the retrain and qualify thresholds the current status stands
(hysteresis), so an annotator does not flap between states. Every decision carries its evidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from connector.metrics.stats import wilson_interval
from connector.rubric import Rubric

__all__ = ["GoldEvidence", "Status", "StatusChange", "decide_statuses", "gold_evidence"]

Status = Literal["candidate", "qualified", "probation", "retraining", "suspended"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GoldEvidence:
    n: int
    correct: int
    per_dimension: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.n if self.n else None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusChange:
    annotator: str
    previous: str | None
    status: str
    evidence: Mapping[str, Any]


def gold_evidence(report: Mapping[str, Any]) -> dict[str, GoldEvidence]:
    """Gold judgments and correct ones per annotator, pooled over dimensions."""
    evidence: dict[str, GoldEvidence] = {}
    for annotator in report["annotators"]:
        n = correct = 0
        per: dict[str, Mapping[str, Any]] = {}
        for name, figures in annotator["dimensions"].items():
            gold = figures.get("gold")
            if gold:
                n += gold["n"]
                correct += round(gold["accuracy"] * gold["n"])
                per[name] = gold
        evidence[annotator["annotator"]] = GoldEvidence(n=n, correct=correct, per_dimension=per)
    return evidence


def decide_statuses(
    report: Mapping[str, Any], rubric: Rubric, current: Mapping[str, str]
) -> list[StatusChange]:
    """Status changes (only changes) for every annotator in the report."""
    thresholds = rubric.thresholds
    changes: list[StatusChange] = []
    for annotator, gold in gold_evidence(report).items():
        previous = current.get(annotator)
        status = previous or "candidate"
        accuracy = gold.accuracy
        if gold.n >= thresholds.min_gold_judgments and accuracy is not None:
            if accuracy >= thresholds.qualify_gold_accuracy:
                status = "qualified"
            elif accuracy < thresholds.retrain_gold_accuracy:
                status = "retraining"
        if status == previous:
            continue
        low, high = wilson_interval(gold.correct, gold.n)
        changes.append(
            StatusChange(
                annotator=annotator,
                previous=previous,
                status=status,
                evidence={
                    "gold_judgments": gold.n,
                    "gold_correct": gold.correct,
                    "gold_accuracy": accuracy,
                    "wilson_95": [low, high] if gold.n else None,
                    "rubric": rubric.ref,
                    "rubric_hash": rubric.content_hash,
                    "thresholds": {
                        "qualify_gold_accuracy": thresholds.qualify_gold_accuracy,
                        "retrain_gold_accuracy": thresholds.retrain_gold_accuracy,
                        "min_gold_judgments": thresholds.min_gold_judgments,
                    },
                    "per_dimension": dict(gold.per_dimension),
                },
            )
        )
    return changes
