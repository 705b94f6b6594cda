"""Calibration batch planning: deterministic, gold and re-tests at the rubric's rates, opaque."""

from __future__ import annotations

import hashlib

import pytest

from connector.calibration.batch import BatchError, plan_batch, plan_retraining_batch
from connector.calibration.item import Item
from connector.calibration.push import gold_preference
from connector.rubric import load_rubric

RUBRIC = load_rubric("rubrics/rlhf-pairwise/v2.yaml")
SECRET = "an installation secret"


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
        "key_secret": SECRET,
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
        key_secret=SECRET,
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
        key_secret=SECRET,
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
        key_secret=SECRET,
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
        plan_batch(
            project_key="p",
            rubric=RUBRIC,
            kind="validation",
            items=items("x", 10),
            key_secret=SECRET,
        )
    assert str(err.value) == "a validation batch for rlhf-pairwise@v2 needs 50–100 items; got 10"
    plan = plan_batch(
        project_key="p", rubric=RUBRIC, kind="validation", items=items("x", 60), key_secret=SECRET
    )
    assert plan.count("validation") == 60


def test_empty_and_repeated_items_are_refused() -> None:
    with pytest.raises(BatchError, match="has no items"):
        plan_batch(project_key="p", rubric=RUBRIC, kind="production", items=[], key_secret=SECRET)
    with pytest.raises(BatchError, match="repeats item keys"):
        plan_batch(
            project_key="p",
            rubric=RUBRIC,
            kind="production",
            items=items("x", 2) * 2,
            key_secret=SECRET,
        )


def test_task_keys_and_sides_are_keyed_by_the_installation_secret() -> None:
    """Knowing the batch id, the item keys and this code is not enough to tell a gold task:
    keys and sides change with the secret, and match no unkeyed digest of (batch, role, item)."""
    kwargs = {
        "project_key": "p",
        "rubric": RUBRIC,
        "kind": "production",
        "items": items("x", 45),
        "gold": items("g", 30, answers=True),
    }
    ours = plan_batch(key_secret=SECRET, **kwargs)
    theirs = plan_batch(key_secret="another installation", **kwargs)
    assert ours.batch_id == theirs.batch_id
    assert {t.key for t in ours.tasks}.isdisjoint({t.key for t in theirs.tasks})
    for task in ours.tasks:
        for role in ("production", "gold", "retest"):
            body = "\x1f".join((ours.batch_id, role, task.item.item_key)).encode()
            assert task.key != "t-" + hashlib.sha256(body).hexdigest()[:24]
    with pytest.raises(BatchError, match="installation's secret"):
        plan_batch(key_secret="", **kwargs)


def test_a_retraining_batch_holds_no_more_gold_than_any_batch() -> None:
    gold = items("g", 20, answers=True)
    plan = plan_retraining_batch(
        project_key="p",
        rubric=RUBRIC,
        gold=gold,
        ordinary=items("x", 300),
        label="retraining:someone:1",
        key_secret=SECRET,
    )
    assert plan.count("gold") == 20
    assert plan.count("retest") == 180  # gold is 10 % of it, the rubric's share
    roles = [t.role for t in plan.tasks]
    assert roles[:20] != ["gold"] * 20
    assert roles != sorted(roles)
    # the first and last fifth of the block hold gold near its share, not all of it
    fifth = len(roles) // 5
    assert roles[:fifth].count("gold") < fifth / 2
    assert roles[-fifth:].count("gold") < fifth / 2
    # with fewer ordinary items than wanted, all of them are taken
    few = plan_retraining_batch(
        project_key="p",
        rubric=RUBRIC,
        gold=gold,
        ordinary=items("x", 30),
        label="retraining:someone:1",
        key_secret=SECRET,
    )
    assert (few.count("gold"), few.count("retest")) == (20, 30)
    with pytest.raises(BatchError, match="needs gold items"):
        plan_retraining_batch(
            project_key="p", rubric=RUBRIC, gold=[], ordinary=[], label="", key_secret=SECRET
        )


def test_gold_reads_like_the_batch_it_is_mixed_into() -> None:
    """A batch of repeats prefers gold shown before, a batch of new items gold never shown
    (tests/test_gold_secrecy_program.py probes it on Label Studio); a mixed one neither."""
    gold, shown = ["g-shown", "g-new"], {"x1", "x2", "g-shown"}
    assert gold_preference(["x1", "x2"], gold, shown) == {"g-shown": 0, "g-new": 1}
    assert gold_preference(["y1", "y2"], gold, shown) == {"g-shown": 1, "g-new": 0}
    assert gold_preference(["x1", "y1"], gold, shown) == {"g-shown": 0, "g-new": 0}
    assert gold_preference(["y1"], gold, set()) == {"g-shown": 0, "g-new": 0}
