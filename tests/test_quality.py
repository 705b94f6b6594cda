"""Annotator status decisions from gold evidence."""

from __future__ import annotations

from typing import Any

import pytest

from connector.quality import decide_statuses, gold_evidence
from connector.rubric import load_rubric

RUBRIC = load_rubric("rubrics/rlhf-pairwise/v2.yaml")  # qualify 0.85, retrain 0.80, min 20


def report(**gold: tuple[int, float]) -> dict[str, Any]:
    return {
        "annotators": [
            {
                "annotator": name,
                "dimensions": {"overall": {"gold": {"n": n, "accuracy": acc}}},
            }
            for name, (n, acc) in gold.items()
        ]
    }


def test_too_few_gold_judgments_keeps_candidate() -> None:
    changes = decide_statuses(report(ann=(19, 1.0)), RUBRIC, {})
    assert [(c.annotator, c.status) for c in changes] == [("ann", "candidate")]
    assert decide_statuses(report(ann=(19, 1.0)), RUBRIC, {"ann": "candidate"}) == []


def test_qualify_and_retrain_thresholds() -> None:
    changes = decide_statuses(
        report(good=(20, 0.85), bad=(25, 0.76), middle=(30, 0.8333333)), RUBRIC, {}
    )
    status = {c.annotator: c.status for c in changes}
    assert status == {"good": "qualified", "bad": "retraining", "middle": "candidate"}


def test_between_thresholds_status_stands() -> None:
    assert decide_statuses(report(ann=(40, 0.82)), RUBRIC, {"ann": "qualified"}) == []


def test_evidence_is_recorded() -> None:
    change = decide_statuses(report(ann=(20, 0.9)), RUBRIC, {"ann": "candidate"})[0]
    assert change.previous == "candidate"
    assert change.evidence["gold_judgments"] == 20
    assert change.evidence["gold_correct"] == 18
    assert change.evidence["wilson_95"][0] == pytest.approx(0.699, abs=1e-3)
    assert change.evidence["rubric_hash"] == RUBRIC.content_hash


def test_gold_pooled_over_dimensions() -> None:
    data = report(ann=(10, 0.9))
    data["annotators"][0]["dimensions"]["strength"] = {"gold": {"n": 10, "accuracy": 0.5}}
    evidence = gold_evidence(data)["ann"]
    assert (evidence.n, evidence.correct) == (20, 14)
