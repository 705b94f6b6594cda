"""Qualification on every dimension (issue 12): each gating dimension of the rubric is decided
on its own gold (counts, Wilson bounds, CUSUM); the status names the dimension that decided."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pytest

from connector.metrics.stats import wilson_interval
from connector.quality.lifecycle import (
    AnnotatorEvidence,
    StatusState,
    Transition,
    assign_retraining_batch,
    decide,
    decide_all,
    first_decisions,
    rescore,
)
from connector.quality.streams import Stream
from connector.rubric import load_rubric, parse_rubric

# helpfulness, correctness, safety; qualify 0.85, retrain 0.80, min 20 gold judgments
RUBRIC = load_rubric("rubrics/response-quality/v1.yaml")
PAIRWISE = """\
id: pairwise
version: 1
changelog: test
guidelines: Judge carefully.
dimensions:
  - name: overall
    question: Which response is better?
    kind: preference
    values: [a, b, tie]
    non_decisive: [tie]
    level: nominal
  - name: strength
    question: How much better?
    kind: rating
    values: [1, 2, 3]
    level: ordinal
"""
NOT_GATING = parse_rubric(
    PAIRWISE + "    gating: false\n    gating_reason: margins are judgement calls\n"
)
GATING = parse_rubric(PAIRWISE)


def stream(per_item: Sequence[Mapping[str, int]], *, batch: str | None = None) -> Stream:
    """One gold judgment per dimension of each item, items in order (``{"safety": 0, ...}``)."""
    items, dims, bits = [], [], []
    for k, outcomes in enumerate(per_item):
        for dimension, bit in outcomes.items():
            items.append(f"{batch or 'i'}{k}")
            dims.append(dimension)
            bits.append(bit)
    n = len(bits)
    return Stream(
        annotator="ann",
        successes=np.array(bits, dtype=np.int8),
        item_id=np.array(items, dtype=object),
        dimension=np.array(dims, dtype=object),
        batch=np.array([batch] * n, dtype=object),
        submitted_at=np.arange(n).astype("datetime64[s]").astype("datetime64[ns]"),
    )


def items(**bits: Sequence[int]) -> list[dict[str, int]]:
    """Item k judged on every named dimension with a k-th outcome:
    ``items(helpfulness=[1, 1], safety=[1, 0])``."""
    n = max(len(values) for values in bits.values())
    return [
        {name: int(values[k]) for name, values in bits.items() if k < len(values)} for k in range(n)
    ]


def history(per_item: Sequence[Mapping[str, int]]) -> AnnotatorEvidence:
    return AnnotatorEvidence(annotator="ann", gold=stream(per_item))


def state(status: str, **kwargs: object) -> StatusState:
    return StatusState.from_record("ann", status, {"state": {"status": status, **kwargs}})


def must(transition: Transition | None) -> Transition:
    assert transition is not None
    return transition


def ones(n: int) -> list[int]:
    return [1] * n


def pct(value: float) -> str:
    return f"{100 * value:.1f}%"


# --- candidates ------------------------------------------------------------------------------


def test_excellent_on_helpfulness_careless_on_safety_does_not_qualify() -> None:
    # Pooled over the two dimensions this is 37/40 = 92.5% with Wilson lower bound 0.83 ≥ 0.80:
    # the old pooled rule qualified it. Safety alone is 17/20 = 85%, lower bound 0.70 < 0.80.
    assert wilson_interval(37, 40, z=1.6448536269514722)[0] >= 0.80
    careless = [0, 1, 1, 0, *ones(10), 0, *ones(5)]
    assert sum(careless) == 17
    # seen for the first time, the annotator is a candidate, held back by safety
    first = must(decide(history(items(helpfulness=ones(20), safety=careless)), None, RUBRIC))
    assert first.status == "candidate"
    assert first.dimensions == ("safety",)
    low = wilson_interval(17, 20, z=1.6448536269514722)[0]
    assert first.reason == (
        "safety: 17/20 gold judgments right (85.0%) (all gold judgments): not yet at least "
        f"85.0% with Wilson lower bound {pct(low)} at least 80.0%"
    )
    # the pooled figures are still reported; the per-dimension ones decided
    assert (first.evidence.judgments, first.evidence.correct) == (40, 37)
    by_name = {d.dimension: d for d in first.evidence.dimensions}
    assert [d.dimension for d in first.evidence.dimensions] == ["helpfulness", "safety"]
    assert (by_name["safety"].judgments, by_name["safety"].correct) == (20, 17)
    assert (by_name["helpfulness"].judgments, by_name["helpfulness"].correct) == (20, 20)
    stored = first.evidence_dict()
    assert stored["decided_by"] == ["safety"]
    assert stored["dimensions"][1]["dimension"] == "safety"
    assert stored["dimensions"][1]["gold_correct"] == 17


def test_candidate_stays_candidate_while_one_dimension_is_between_the_bounds() -> None:
    careless = [0, 1, 1, 0, *ones(10), 0, *ones(5)]
    found = decide(
        history(items(helpfulness=ones(20), safety=careless)), state("candidate"), RUBRIC
    )
    assert found is None  # the status stands (a candidate), it does not qualify


def test_a_failing_dimension_sends_a_candidate_to_retraining_naming_it() -> None:
    half = [0, 1] * 10  # safety 10/20: Wilson upper bound 0.68 < 0.80
    transition = must(
        decide(history(items(helpfulness=ones(20), safety=half)), state("candidate"), RUBRIC)
    )
    assert (transition.status, transition.dimensions) == ("retraining", ("safety",))
    # the batch pushed for it keeps naming safety, through the stored state
    stored = StatusState.from_record("ann", "retraining", transition.evidence_dict())
    assert stored.decided_by == ("safety",)
    assigned = assign_retraining_batch(
        history(items(helpfulness=ones(20), safety=half)), stored, RUBRIC, batch_id="rt-1"
    )
    assert (assigned.event, assigned.dimensions) == ("batch_assigned", ("safety",))
    assert assigned.evidence_dict()["decided_by"] == ["safety"]
    upper = wilson_interval(10, 20, z=1.6448536269514722)[1]
    assert transition.reason == (
        "safety: 10/20 gold judgments right (50.0%) (all gold judgments): the Wilson upper "
        f"bound {pct(upper)} is below 80.0%"
    )


def test_every_dimension_with_enough_gold_must_qualify() -> None:
    transition = must(
        decide(
            history(items(helpfulness=ones(20), correctness=ones(20), safety=[0, *ones(19)])),
            state("candidate"),
            RUBRIC,
        )
    )
    assert transition.status == "qualified"
    assert transition.dimensions == ("helpfulness", "correctness", "safety")
    assert transition.reason.count("Wilson lower bound") == 3
    assert "safety: 19/20 gold judgments right (95.0%)" in transition.reason


def test_thin_gold_on_a_dimension_is_pending_not_failing() -> None:
    # safety has 5 gold judgments, all wrong: too few to decide on, so it neither blocks nor
    # fails; the reason says it is pending.
    per_item = items(helpfulness=ones(20))
    for k in range(5):
        per_item[k]["safety"] = 0
    transition = must(decide(history(per_item), state("candidate"), RUBRIC))
    assert transition.status == "qualified"
    assert transition.dimensions == ("helpfulness", "safety")  # gating ones, safety pending
    assert transition.reason.endswith(
        "; pending (too little gold to decide): safety 5/20 gold judgments"
    )
    # a first sighting with thin gold everywhere names every dimension as pending
    thin = must(decide(history(items(helpfulness=ones(3), safety=[1, 0, 1])), None, RUBRIC))
    assert (thin.status, thin.dimensions) == ("candidate", ("helpfulness", "safety"))
    assert thin.reason == (
        "helpfulness: 3/3 gold judgments right (100.0%) (all gold judgments); qualifying needs "
        "at least 20; safety: 2/3 gold judgments right (66.7%) (all gold judgments); "
        "qualifying needs at least 20"
    )


def test_a_non_gating_dimension_is_reported_but_never_decides() -> None:
    careless = [0, 1] * 10  # strength 10/20: would send to retraining if it gated
    per_item = items(overall=ones(20), strength=careless)
    gated = must(decide(history(per_item), state("candidate"), GATING))
    assert (gated.status, gated.dimensions) == ("retraining", ("strength",))
    transition = must(decide(history(per_item), state("candidate"), NOT_GATING))
    assert (transition.status, transition.dimensions) == ("qualified", ("overall",))
    assert "strength" not in transition.reason
    strength = transition.evidence.dimensions[1]
    assert (strength.dimension, strength.gating, strength.correct) == ("strength", False, 10)
    assert strength.gating_reason == "margins are judgement calls"
    assert transition.evidence_dict()["dimensions"][1]["gating"] is False
    # gold on the non-gating dimension alone decides nothing
    only = must(decide(history([{"strength": 1}] * 25), None, NOT_GATING))
    assert (only.status, only.dimensions) == ("candidate", ())
    assert only.reason == (
        "no gold judgments on a gating dimension (all gold judgments); qualifying needs at "
        "least 20 on one"
    )


# --- qualified, probation, retraining ---------------------------------------------------------


QUALIFIED = items(helpfulness=ones(20), safety=ones(20))


def test_cusum_per_dimension_alarms_on_the_dimension_that_drifts() -> None:
    # After qualifying: helpfulness stays right, safety goes wrong 7 times in a row. Pooled,
    # the stream alternates 1, 0 and its chart (ln(0.8/0.85) = -0.061 per right answer,
    # ln(0.2/0.15) = +0.288 per wrong one) ends at 7 · 0.288 - 6 · 0.061 = 1.65 < h = 1.84;
    # safety's own chart reaches 7 · 0.288 = 2.01 ≥ 1.84 at its seventh judgment.
    later = items(helpfulness=ones(7), safety=[0] * 7)
    transition = must(decide(history([*QUALIFIED, *later]), state("qualified", since=40), RUBRIC))
    assert (transition.status, transition.dimensions) == ("probation", ("safety",))
    assert transition.reason.startswith(
        "gold drift alarm on safety: the CUSUM reached 2.01 ≥ h = 1.84 after 7 gold judgments "
        "on safety since qualified (first at judgment 7)"
    )
    drift = transition.evidence.gold_drift
    assert drift is not None
    assert drift.alarm_at == 6
    by_name = {d.dimension: d for d in transition.evidence.dimensions}
    helpfulness = by_name["helpfulness"].drift
    assert helpfulness is not None
    assert not helpfulness.alarm
    # the pooled chart of the same window would not have alarmed
    pooled = drift.design.run(np.array([1, 0] * 7, dtype=np.int8))
    assert pooled.alarm_at is None
    assert pooled.last == pytest.approx(7 * np.log(0.2 / 0.15) + 6 * np.log(0.8 / 0.85))


def test_a_drop_on_one_dimension_sends_to_retraining_naming_it() -> None:
    # on probation since 40; safety then goes 10/20 (upper bound 0.68 < 0.80)
    later = items(helpfulness=ones(20), safety=[1, 0] * 10)
    transition = must(decide(history([*QUALIFIED, *later]), state("probation", since=40), RUBRIC))
    assert (transition.status, transition.dimensions) == ("retraining", ("safety",))
    assert transition.reason.startswith("safety: 10/20 gold judgments right (50.0%) (since ")
    assert "helpfulness" not in transition.reason


def test_a_drop_on_a_non_gating_dimension_changes_nothing() -> None:
    before = items(overall=ones(20), strength=ones(20))
    later = items(overall=ones(20), strength=[0] * 20)
    for status in ("qualified", "probation"):
        found = decide(history([*before, *later]), state(status, since=40), NOT_GATING)
        if status == "qualified":
            assert found is None
        else:  # probation ends on overall alone
            assert must(found).status == "qualified"
            assert must(found).dimensions == ("overall",)
    # gating, the same drop sends to probation naming strength
    gated = must(decide(history([*before, *later]), state("qualified", since=40), GATING))
    assert (gated.status, gated.dimensions) == ("probation", ("strength",))


def test_probation_recovers_only_when_every_dimension_has_its_window() -> None:
    later = items(helpfulness=ones(20), safety=ones(19))
    found = decide(history([*QUALIFIED, *later]), state("probation", since=40), RUBRIC)
    assert found is None  # safety has 19 of the 20 judgments recovery needs
    done = items(helpfulness=ones(20), safety=ones(20))
    recovered = must(decide(history([*QUALIFIED, *done]), state("probation", since=40), RUBRIC))
    assert recovered.status == "qualified"
    assert recovered.reason.startswith("recovered: helpfulness: 20/20")
    assert "safety: 20/20" in recovered.reason


def test_a_retraining_batch_is_decided_per_dimension() -> None:
    past = stream(items(helpfulness=[0] * 20, safety=[0] * 20))
    waiting = state(
        "retraining", since=40, episodes=1, batch_id="rt", batch_gold=20, retraining_batches=["rt"]
    )

    def with_batch(**bits: Sequence[int]) -> AnnotatorEvidence:
        batch = stream(items(**bits), batch="rt")
        merged = Stream(
            annotator="ann",
            successes=np.concatenate([past.successes, batch.successes]),
            item_id=np.concatenate([past.item_id, batch.item_id]),
            dimension=np.concatenate([past.dimension, batch.dimension]),
            batch=np.concatenate([np.full(len(past), None, dtype=object), batch.batch]),
            submitted_at=np.concatenate([past.submitted_at, batch.submitted_at + 10**12]),
        )
        return AnnotatorEvidence(annotator="ann", gold=merged)

    # 10 items judged on two dimensions are 20 judgments but not the 20 items of the batch
    assert decide(with_batch(helpfulness=ones(10), safety=ones(10)), waiting, RUBRIC) is None
    failed = must(decide(with_batch(helpfulness=ones(20), safety=[1, 0] * 10), waiting, RUBRIC))
    assert (failed.status, failed.event, failed.dimensions) == (
        "retraining",
        "batch_failed",
        ("safety",),
    )
    assert failed.reason.startswith(
        "failed retraining batch rt: safety: 10/20 gold judgments right (50.0%)"
    )
    passed = must(decide(with_batch(helpfulness=ones(20), safety=ones(20)), waiting, RUBRIC))
    assert (passed.status, passed.dimensions) == ("qualified", ("helpfulness", "safety"))


def test_rescore_names_the_failing_dimension() -> None:
    half = [0, 1] * 10
    transition = must(
        rescore(
            history(items(helpfulness=ones(20), safety=half)),
            state("qualified", since=40),
            RUBRIC,
            cause="the gold answers of 3 item(s) changed",
        )
    )
    assert (transition.previous, transition.status) == ("qualified", "retraining")
    assert transition.dimensions == ("safety",)
    assert transition.reason.startswith(
        "re-scored because the gold answers of 3 item(s) changed: safety: 10/20"
    )
    assert transition.state.episodes == 1
    # an annotator already in retraining stays there without a new episode
    again = must(
        rescore(
            history(items(helpfulness=ones(20), safety=half)),
            state("retraining", since=40, episodes=1),
            RUBRIC,
            cause="x",
        )
    )
    assert (again.status, again.state.episodes) == ("retraining", 1)


# --- from a judgments table -------------------------------------------------------------------


def table(rows: Sequence[tuple[str, str, str, str]]) -> pd.DataFrame:
    """(annotator, item, dimension, value) rows; gold: every value's gold is "5"."""
    return pd.DataFrame(
        {
            "item_id": [r[1] for r in rows],
            "annotator": [r[0] for r in rows],
            "dimension": [r[2] for r in rows],
            "value": [r[3] for r in rows],
            "gold_value": ["5"] * len(rows),
            "submitted_at": pd.date_range("2026-01-01", periods=len(rows), freq="min", tz="UTC"),
        }
    )


@pytest.mark.parametrize("decider", ["decide_all", "first_decisions"])
def test_tables_are_decided_per_dimension(decider: str) -> None:
    rows = [("good", f"g{k}", d, "5") for k in range(20) for d in ("helpfulness", "safety")]
    rows += [
        ("unsafe", f"g{k}", d, "5" if d == "helpfulness" or k % 2 else "1")
        for k in range(20)
        for d in ("helpfulness", "safety")
    ]
    frame = table(rows)
    if decider == "decide_all":
        found = {t.annotator: t for t in decide_all(frame, {}, RUBRIC)}
    else:
        found = {t.annotator: t for t in first_decisions(frame, RUBRIC)}
    assert (found["good"].status, found["unsafe"].status) == ("qualified", "retraining")
    assert found["unsafe"].dimensions == ("safety",)
    assert found["unsafe"].reason.startswith("safety: 10/20 gold judgments right")
