"""Calibration batch planning: deterministic, gold and re-tests at the rubric's rates, opaque."""

from __future__ import annotations

import pytest

from connector.batch import BatchError, plan_batch
from connector.item import Item
from connector.rubric import load_rubric

RUBRIC = load_rubric("rubrics/rlhf-pairwise/v2.yaml")


def items(prefix: str, n: int, *, answers: bool = False) -> list[Item]:
    return [
        Item(
            item_key=f"{prefix}-{i}",
            prompt=f"prompt {i}",
            response_a="A",
            response_b="B",
            category=None,
            answers={"overall": "a"} if answers else {},
        )
        for i in range(n)
    ]


def test_same_inputs_same_batch() -> None:
    kwargs = {
        "project_key": "p",
        "rubric": RUBRIC,
        "kind": "production",
        "gold": items("g", 30, answers=True),
    }
    first = plan_batch(items=items("x", 45), **kwargs)
    again = plan_batch(items=list(reversed(items("x", 45))), **kwargs)
    assert first == again
    other = plan_batch(items=items("x", 45), label="2026-11-24", **kwargs)
    assert other.batch_id != first.batch_id


def test_gold_and_retest_at_the_rubric_rates() -> None:
    plan = plan_batch(
        project_key="p",
        rubric=RUBRIC,
        kind="production",
        items=items("x", 85),
        gold=items("g", 40, answers=True),
        retest=items("old", 40),
    )
    total = len(plan.tasks)
    assert plan.count("production") == 85
    assert plan.count("gold") == 10  # 10% of 100
    assert plan.count("retest") == 5  # 5% of 100
    assert total == 100


def test_least_used_gold_first() -> None:
    gold = items("g", 20, answers=True)
    usage = {g.item_key: 5 for g in gold[:15]}
    plan = plan_batch(
        project_key="p",
        rubric=RUBRIC,
        kind="production",
        items=items("x", 40),
        gold=gold,
        gold_usage=usage,
    )
    chosen = {t.item.item_key for t in plan.tasks if t.role == "gold"}
    assert chosen <= {g.item_key for g in gold[15:]}


def test_keys_are_opaque_and_sides_are_mixed() -> None:
    plan = plan_batch(
        project_key="p",
        rubric=RUBRIC,
        kind="production",
        items=items("x", 90),
        gold=items("g", 20, answers=True),
    )
    for task in plan.tasks:
        assert task.key.startswith("t-")
        assert len(task.key) == 26
        assert task.item.item_key not in task.key
    sides = [t.display_left for t in plan.tasks]
    assert 0.3 < sides.count("a") / len(sides) < 0.7
    roles = [t.role for t in plan.tasks]
    assert roles != sorted(roles)  # gold is shuffled in, not appended


def test_validation_batch_size_is_enforced() -> None:
    with pytest.raises(BatchError) as err:
        plan_batch(project_key="p", rubric=RUBRIC, kind="validation", items=items("x", 10))
    assert str(err.value) == "a validation batch for rlhf-pairwise@v2 needs 50–100 items; got 10"
    plan = plan_batch(project_key="p", rubric=RUBRIC, kind="validation", items=items("x", 60))
    assert plan.count("validation") == 60


def test_empty_and_repeated_items_are_refused() -> None:
    with pytest.raises(BatchError, match="has no items"):
        plan_batch(project_key="p", rubric=RUBRIC, kind="production", items=[])
    with pytest.raises(BatchError, match="repeats item keys"):
        plan_batch(project_key="p", rubric=RUBRIC, kind="production", items=items("x", 2) * 2)
