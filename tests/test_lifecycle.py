"""The annotator status machine: every transition, the non-transitions, and the evidence."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from connector.quality.lifecycle import (
    AnnotatorEvidence,
    Policy,
    StatusState,
    Transition,
    annotator_evidence,
    assign_retraining_batch,
    decide,
    decide_all,
    needs_retraining_batch,
    qualifies,
)
from connector.quality.streams import Stream
from connector.rubric import load_rubric

RUBRIC = load_rubric("rubrics/rlhf-pairwise/v2.yaml")  # qualify 0.85, retrain 0.80, min 20


def stream(bits: Sequence[int], *, batches: Sequence[str | None] | None = None) -> Stream:
    n = len(bits)
    return Stream(
        annotator="ann",
        successes=np.array(bits, dtype=np.int8),
        item_id=np.array([f"i{k}" for k in range(n)], dtype=object),
        dimension=np.array(["overall"] * n, dtype=object),
        batch=np.array(list(batches) if batches else [None] * n, dtype=object),
        submitted_at=np.arange(n).astype("datetime64[s]").astype("datetime64[ns]"),
    )


def history(bits: Sequence[int], batches: Sequence[str | None] | None = None) -> AnnotatorEvidence:
    return AnnotatorEvidence(annotator="ann", gold=stream(bits, batches=batches))


def state(status: str, **kwargs: object) -> StatusState:
    return StatusState.from_record("ann", status, {"state": {"status": status, **kwargs}})


def right(n: int) -> list[int]:
    return [1] * n


def wrong(n: int) -> list[int]:
    return [0] * n


def must(transition: Transition | None) -> Transition:
    assert transition is not None
    return transition


# --- the qualification rule ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("correct", "n", "expected"),
    [
        (19, 20, True),  # lower bound 0.804
        (18, 20, False),  # 0.90 but lower bound 0.738
        (28, 30, True),
        (27, 30, False),
        (45, 50, True),
        (87, 100, True),
        (86, 100, False),
        (0, 0, False),
    ],
)
def test_qualifies(correct: int, n: int, expected: bool) -> None:
    assert qualifies(correct, n, RUBRIC) is expected


# --- candidate ---------------------------------------------------------------------------------


def test_first_seen_becomes_candidate() -> None:
    transition = must(decide(history(right(5)), None, RUBRIC))
    assert (transition.previous, transition.status) == (None, "candidate")
    assert (
        transition.reason
        == "overall: 5/5 gold judgments right (100.0%) (all gold judgments); "
        + ("qualifying needs at least 20")
    )


def test_candidate_needs_the_minimum_of_gold() -> None:
    assert decide(history(right(19)), state("candidate"), RUBRIC) is None


def test_candidate_qualifies_on_the_interval_rule() -> None:
    bits = [*wrong(1), *right(19)]
    transition = must(decide(history(bits), state("candidate"), RUBRIC))
    assert (transition.previous, transition.status) == ("candidate", "qualified")
    assert transition.state.since == 20
    assert transition.reason == (
        "overall: 19/20 gold judgments right (95.0%) (all gold judgments): at least 85.0%, and the "
        "Wilson lower bound 80.4% is at least 80.0%"
    )


def test_candidate_at_ninety_percent_of_twenty_waits() -> None:
    assert decide(history([*wrong(2), *right(18)]), state("candidate"), RUBRIC) is None


def test_first_seen_can_qualify_straight_away() -> None:
    transition = must(decide(history(right(20)), None, RUBRIC))
    assert (transition.previous, transition.status) == (None, "qualified")


def test_candidate_far_below_goes_to_retraining() -> None:
    transition = must(decide(history([*wrong(7), *right(13)]), state("candidate"), RUBRIC))
    assert transition.status == "retraining"
    assert transition.state.episodes == 1
    assert transition.state.batch_id is None
    assert needs_retraining_batch([transition]) == ["ann"]


def test_evidence_contents() -> None:
    transition = must(decide(history([*wrong(1), *right(19)]), state("candidate"), RUBRIC))
    evidence = transition.evidence
    assert (evidence.judgments, evidence.correct) == (20, 19)
    assert evidence.accuracy == pytest.approx(0.95)
    assert evidence.interval is not None
    assert evidence.interval[0] == pytest.approx(0.80399, abs=1e-4)
    assert evidence.z == pytest.approx(1.645, abs=1e-3)
    assert (evidence.qualify_gold_accuracy, evidence.retrain_gold_accuracy) == (0.85, 0.80)
    assert evidence.min_gold_judgments == 20
    assert evidence.rubric_hash == RUBRIC.content_hash
    assert evidence.rubric == RUBRIC.ref
    stored = transition.evidence_dict()
    json.dumps(stored)  # JSON-able, for StatusDecision.evidence
    assert stored["gold_judgments"] == 20
    assert stored["wilson"][0] == pytest.approx(0.80399, abs=1e-4)
    assert stored["thresholds"] == {
        "qualify_gold_accuracy": 0.85,
        "retrain_gold_accuracy": 0.80,
        "min_gold_judgments": 20,
    }
    assert stored["reason"] == transition.reason
    assert stored["state"]["since"] == 20
    assert stored["rubric_hash"] == RUBRIC.content_hash


# --- qualified ⇄ probation -------------------------------------------------------------------


QUALIFIED_AT_20 = right(20)


def test_one_unlucky_item_does_not_demote() -> None:
    qualified = state("qualified", since=20)
    assert decide(history([*QUALIFIED_AT_20, *wrong(1)]), qualified, RUBRIC) is None
    # nor three in a row: the chart stands at 3 · 0.288 = 0.86 < h = 1.84
    assert decide(history([*QUALIFIED_AT_20, *wrong(3)]), qualified, RUBRIC) is None


def test_drift_alarm_puts_on_probation() -> None:
    bits = [*QUALIFIED_AT_20, *right(30), *wrong(7)]
    transition = must(decide(history(bits), state("qualified", since=20), RUBRIC))
    assert (transition.previous, transition.status) == ("qualified", "probation")
    drift = transition.evidence.gold_drift
    assert drift is not None
    assert drift.alarm_at == 36  # the 7th error: 7 · 0.2877 = 2.01 ≥ 1.84
    assert drift.statistic == pytest.approx(7 * 0.2876821, abs=1e-6)
    assert drift.design.h == pytest.approx(1.835, abs=0.01)
    assert transition.evidence.window == "since qualified"
    assert (transition.evidence.judgments, transition.evidence.correct) == (37, 30)
    assert transition.reason.startswith(
        "gold drift alarm on overall: the CUSUM reached 2.01 ≥ h = 1.84"
    )
    assert transition.state.since == 57
    assert transition.evidence_dict()["gold_drift"]["alarm_at"] == 36


def test_wilson_upper_bound_below_qualify_puts_on_probation() -> None:
    bits = [*QUALIFIED_AT_20, *([1, 1, 1, 0] * 10)]  # 30/40: upper 0.844, no chart alarm
    transition = must(decide(history(bits), state("qualified", since=20), RUBRIC))
    assert transition.status == "probation"
    assert transition.evidence.gold_drift is not None
    assert not transition.evidence.gold_drift.alarm
    assert "Wilson upper bound 84.4% is below 85.0%" in transition.reason


def test_between_the_bounds_qualified_stands() -> None:
    bits = [*QUALIFIED_AT_20, *([1, 1, 1, 1, 0] * 4)]  # 16/20 = 0.80, upper 0.91
    assert decide(history(bits), state("qualified", since=20), RUBRIC) is None


def test_probation_recovers() -> None:
    probation = state("probation", since=40)
    past = [*right(33), *wrong(7)]
    recovered = must(decide(history([*past, *wrong(1), *right(19)]), probation, RUBRIC))
    assert (recovered.previous, recovered.status) == ("probation", "qualified")
    assert recovered.evidence.window == "since probation"
    assert recovered.reason.startswith("recovered: overall: 19/20 gold judgments right")
    assert recovered.state.since == 60


def test_probation_hysteresis() -> None:
    probation = state("probation", since=40)
    past = [*right(33), *wrong(7)]
    # 18/20 is above the qualify threshold but not yet sure enough: probation stands
    assert decide(history([*past, *wrong(2), *right(18)]), probation, RUBRIC) is None
    # too few judgments since probation began, however good
    assert decide(history([*past, *right(19)]), probation, RUBRIC) is None


def test_probation_to_retraining_on_the_upper_bound() -> None:
    probation = state("probation", since=40)
    bits = [*right(33), *wrong(7), *([1, 1, 0] * 10)]  # 20/30 since: upper bound 0.79 < 0.80
    transition = must(decide(history(bits), probation, RUBRIC))
    assert (transition.previous, transition.status) == ("probation", "retraining")
    assert "Wilson upper bound" in transition.reason
    assert transition.state.episodes == 1


def test_probation_to_retraining_on_continued_alarm() -> None:
    probation = state("probation", since=40)
    past = [*right(33), *wrong(7)]
    early = [*past, *wrong(7)]
    assert decide(history(early), probation, RUBRIC) is None  # alarm, but only 7 judgments
    transition = must(decide(history([*early, *right(23)]), probation, RUBRIC))
    assert transition.status == "retraining"
    assert transition.reason.startswith("continued gold drift")
    assert transition.evidence.gold_drift is not None
    assert transition.evidence.gold_drift.alarm_at == 6


# --- retraining -----------------------------------------------------------------------------


PAST = [*right(33), *wrong(7), *wrong(20)]  # the regular evidence that led to retraining


def test_retraining_waits_for_a_batch() -> None:
    retraining = state("retraining", since=60, episodes=1)
    assert decide(history(PAST), retraining, RUBRIC) is None
    assert needs_retraining_batch([], {"ann": retraining}) == ["ann"]


def test_assign_batch_records_it() -> None:
    retraining = state("retraining", since=60, episodes=1)
    transition = assign_retraining_batch(history(PAST), retraining, RUBRIC, batch_id="rt-1")
    assert (transition.previous, transition.status, transition.event) == (
        "retraining",
        "retraining",
        "batch_assigned",
    )
    assert transition.state.batch_id == "rt-1"
    assert transition.state.batch_gold == 20
    assert transition.state.retraining_batches == ("rt-1",)
    assert needs_retraining_batch([transition]) == []
    with pytest.raises(ValueError, match="annotator 'ann' is qualified, not in retraining"):
        assign_retraining_batch(history(PAST), state("qualified"), RUBRIC, batch_id="rt-1")


def waiting(**kwargs: object) -> StatusState:
    return state(
        "retraining",
        since=60,
        episodes=1,
        batch_id="rt-1",
        batch_gold=20,
        retraining_batches=["rt-1"],
        **kwargs,
    )


def with_batch(bits: Sequence[int], batch: str = "rt-1") -> AnnotatorEvidence:
    return history([*PAST, *bits], [*([None] * len(PAST)), *([batch] * len(bits))])


def test_retraining_batch_incomplete_waits() -> None:
    assert decide(with_batch(right(10)), waiting(), RUBRIC) is None


def test_retraining_batch_passed_requalifies() -> None:
    transition = must(decide(with_batch([*wrong(1), *right(19)]), waiting(), RUBRIC))
    assert (transition.previous, transition.status) == ("retraining", "qualified")
    assert transition.evidence.window == "retraining batch rt-1"
    assert (transition.evidence.judgments, transition.evidence.correct) == (20, 19)
    # the batch is evaluated alone: the regular evidence does not count, and it stays out
    assert transition.evidence.total_judgments == len(PAST)
    assert transition.state.since == len(PAST)
    assert transition.state.batch_id is None
    assert transition.state.retraining_batches == ("rt-1",)
    # later regular judgments are judged from the new start, without the batch
    later = history(
        [*PAST, *wrong(1), *right(19), *wrong(1)],
        [*([None] * len(PAST)), *(["rt-1"] * 20), None],
    )
    assert decide(later, transition.state, RUBRIC) is None


def test_failed_batch_needs_another() -> None:
    transition = must(decide(with_batch([*wrong(5), *right(15)]), waiting(), RUBRIC))
    assert (transition.status, transition.event) == ("retraining", "batch_failed")
    assert transition.state.failures == 1
    assert transition.state.batch_id is None
    assert transition.reason.startswith(
        "failed retraining batch rt-1: overall: 15/20 gold judgments right (75.0%)"
    )
    assert needs_retraining_batch([transition]) == ["ann"]


def test_second_failed_batch_suspends() -> None:
    transition = must(decide(with_batch([*wrong(5), *right(15)]), waiting(failures=1), RUBRIC))
    assert (transition.previous, transition.status) == ("retraining", "suspended")
    assert "retraining failure 2 of 2" in transition.reason
    assert needs_retraining_batch([transition]) == []


def test_third_retraining_episode_suspends() -> None:
    probation = state("probation", since=40, episodes=2)
    bits = [*right(33), *wrong(7), *([1, 1, 0] * 10)]
    transition = must(decide(history(bits), probation, RUBRIC))
    assert transition.status == "suspended"
    assert "retraining episode 3, more than the 2 allowed" in transition.reason


def test_suspended_stays_suspended() -> None:
    assert decide(history(right(100)), state("suspended"), RUBRIC) is None


# --- state records -------------------------------------------------------------------------


def test_state_round_trips_through_the_evidence() -> None:
    transition = must(decide(with_batch([*wrong(5), *right(15)]), waiting(), RUBRIC))
    stored = json.loads(json.dumps(transition.evidence_dict()))
    assert StatusState.from_record("ann", transition.status, stored) == transition.state


def test_records_without_state_start_at_zero() -> None:
    old = StatusState.from_record("ann", "qualified", {"gold_judgments": 30})
    assert old == StatusState(annotator="ann", status="qualified")
    with pytest.raises(ValueError, match="status 'gone' is not one of candidate, qualified"):
        StatusState.from_record("ann", "gone", {})


def test_evidence_of_another_annotator_is_refused() -> None:
    other = StatusState(annotator="someone", status="candidate")
    with pytest.raises(ValueError, match="the state belongs to 'someone'"):
        decide(history(right(3)), other, RUBRIC)


def test_policy_window() -> None:
    probation = state("probation", since=40)
    past = [*right(33), *wrong(7)]
    bits = [*past, *right(15)]
    assert decide(history(bits), probation, RUBRIC) is None
    short = Policy(window=15)
    transition = must(decide(history(bits), probation, RUBRIC, policy=short))
    assert transition.status == "qualified"  # 15/15: lower bound 0.847


# --- from a judgments table ------------------------------------------------------------------


def table(rows: list[tuple[str, str, str, str | None]]) -> pd.DataFrame:
    n = len(rows)
    return pd.DataFrame(
        {
            "item_id": [r[0] for r in rows],
            "annotator": [r[1] for r in rows],
            "dimension": ["overall"] * n,
            "value": [r[2] for r in rows],
            "gold_value": [r[3] for r in rows],
            "submitted_at": pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"),
            "batch": [None] * n,
        }
    )


def test_decide_all_from_a_table() -> None:
    rows: list[tuple[str, str, str, str | None]] = []
    for k in range(20):
        rows.append((f"g{k}", "good", "a", "a"))
        rows.append((f"g{k}", "poor", "a" if k % 3 else "b", "a"))
        if k < 5:
            rows.append((f"g{k}", "new", "a", "a"))
    frame = table(rows)
    evidence = annotator_evidence(frame, RUBRIC)
    assert (len(evidence["good"].gold), evidence["good"].gold.correct) == (20, 20)
    assert evidence["poor"].consensus is not None
    transitions = decide_all(
        frame, {"poor": StatusState(annotator="poor", status="candidate")}, RUBRIC
    )
    got = {t.annotator: (t.previous, t.status) for t in transitions}
    assert got == {
        "good": (None, "qualified"),
        "new": (None, "candidate"),
        "poor": ("candidate", "retraining"),  # 13/20: upper bound 0.798
    }
    assert needs_retraining_batch(transitions) == ["poor"]


def test_decide_all_on_a_table_without_gold() -> None:
    frame = table([("i1", "x", "a", None), ("i1", "y", "a", None), ("i1", "z", "b", None)])
    transitions = decide_all(frame, {}, RUBRIC)
    assert [(t.annotator, t.status) for t in transitions] == [
        ("x", "candidate"),
        ("y", "candidate"),
        ("z", "candidate"),
    ]
    assert all(t.evidence.judgments == 0 for t in transitions)
    assert transitions[0].evidence.interval is None
    assert decide_all(table([]), {}, RUBRIC) == []


def test_status_change_describes_itself() -> None:
    from connector.quality.lifecycle import StatusChange

    moved = StatusChange(annotator="a1", previous=None, status="qualified", evidence={})
    assert moved.describe() == "a1: — → qualified"
    waiting = StatusChange(
        annotator="a5",
        previous="retraining",
        status="retraining",
        evidence={
            "event": "batch_assigned",
            "reason": "waits for retraining batch b-1 (16 gold items)",
        },
    )
    assert waiting.describe() == "a5: waits for retraining batch b-1 (16 gold items)"
