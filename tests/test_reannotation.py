"""Re-annotation of low-agreement items: the decision (which items get a new copy, which not
and why), the push through the in-memory platform (idempotent, resumable, never beyond the
maximum), and the report's before/after figures (cross-checked with the krippendorff package)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import pandas as pd
import pytest
from test_retests import SIMPLE
from test_sync import GOOD, LEAD, World, _items, _push

from connector.calibration.item import Item
from connector.calibration.reannotation import (
    ReannotationError,
    choose_reannotation,
    contested_gold,
    reannotate,
)
from connector.judgments import normalise
from connector.platforms.base import PlatformError
from connector.report.build import ReportOptions, item_agreements
from connector.report.markdown import render_markdown
from connector.report.reannotation import reannotation_section
from connector.rubric import load_rubric

OTHER, FOURTH = "other@x", "fourth@x"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Figure:
    agreement: float | None
    n_judgments: int


def test_items_below_the_threshold_on_any_dimension_are_chosen() -> None:
    agreements = {
        "overall": {"low": Figure(0.0, 2), "fine": Figure(1.0, 2), "one": Figure(None, 1)},
        "helpfulness": {"low": Figure(0.9, 2), "fine": Figure(0.4, 2)},
    }
    choice = choose_reannotation(agreements, below=0.5, max_judgments=5)
    assert choice.chosen == {"low": {"overall": 0.0}, "fine": {"helpfulness": 0.4}}
    assert choice.n_low == 2  # one judgment has no agreement: not low, not chosen
    at = choose_reannotation(agreements, below=0.4, max_judgments=5)
    assert list(at.chosen) == ["low"]  # strictly below the threshold


def test_items_at_the_maximum_pending_gold_or_unknown_are_left_out_and_named() -> None:
    agreements = {
        "overall": {
            "full": Figure(0.2, 5),
            "nearly": Figure(0.2, 4),
            "waiting": Figure(0.2, 2),
            "gold": Figure(0.0, 2),
            "imported": Figure(0.0, 2),
        }
    }
    choice = choose_reannotation(
        agreements, below=0.5, max_judgments=5, pending={"waiting"}, gold={"gold"},
        pushable={"full", "nearly", "waiting", "gold"},
    )  # fmt: skip
    assert list(choice.chosen) == ["nearly"]  # 4 judgments + the new copy = 5
    assert choice.at_maximum == ("full",)
    assert choice.pending == ("waiting",)
    assert choice.gold == ("gold",)
    assert choice.not_pushable == ("imported",)


def test_a_reannotation_batch_mixes_in_only_gold_that_reads_like_its_copies() -> None:
    """Gold never shown (no figure), agreed, at the maximum or waiting for its copy would stand
    out in a batch of low-agreement copies (tests/test_gold_secrecy_program.py probes it)."""
    gold = [
        Item(
            item_key=key,
            prompt=key,
            response_a="A",
            response_b="B",
            category=None,
            answers={"overall": "a"},
        )
        for key in ("split", "agreed", "full", "waiting", "never-shown")
    ]
    agreements = {
        "overall": {
            "split": Figure(0.0, 2),
            "agreed": Figure(1.0, 2),
            "full": Figure(0.0, 5),
            "waiting": Figure(0.0, 2),
            "x0": Figure(0.0, 2),
        }
    }
    mixed = contested_gold(agreements, gold, below=0.5, max_judgments=5, pending={"waiting"})
    assert [item.item_key for item in mixed] == ["split"]
    assert contested_gold(agreements, gold, below=0.5, max_judgments=5, pending=()) == [
        gold[0],
        gold[3],
    ]


@pytest.mark.parametrize(
    ("below", "maximum", "message"),
    [
        (0.0, 5, "the re-annotation threshold must be an agreement in (0, 1], got 0.0"),
        (1.5, 5, "the re-annotation threshold must be an agreement in (0, 1], got 1.5"),
        (0.5, 2, "the maximum judgments per item must be a whole number of at least 3, got 2"),
    ],
)
def test_a_policy_out_of_range_is_refused_with_what_to_do(
    below: float, maximum: int, message: str
) -> None:
    with pytest.raises(ReannotationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        choose_reannotation({}, below=below, max_judgments=maximum)


def _run(world: World, *, below: float = 0.5, maximum: int = 3) -> Any:
    rubric = load_rubric(world.config.project("p").rubric)
    frame = world.store.judgments_frame("p")
    return reannotate(
        world.config.project("p"), rubric, store=world.store, platform=world.platform,
        frame=frame, agreements=item_agreements(frame, rubric), below=below,
        max_judgments=maximum, now=NOW,
    )  # fmt: skip


def _copies(world: World, batch_id: str) -> dict[str, str]:
    """item → task of the batch's re-annotation copies (role contentious)."""
    return {
        b.item_key: str(b.platform_task_id)
        for b in world.store.batch_items(batch_id)
        if b.role == "contentious"
    }


def _judged_world(tmp_path: Path) -> World:
    """Ten items judged by two annotators; x0..x3 split (a against b), the rest agree."""
    world = World(tmp_path, gold_items=25)
    _push(world, _items("x", 10))
    for task, m in world.store.task_mappings("p").items():
        if m.item_key.startswith("x"):
            split = int(m.item_key[1:]) < 4
            world.platform.annotate(task, m.item_key, annotator=GOOD, value="a")
            world.platform.annotate(task, m.item_key, annotator=LEAD, value="b" if split else "a")
    world.sync()
    return world


def test_low_items_are_pushed_once_per_round_and_never_beyond_the_maximum(
    tmp_path: Path,
) -> None:
    world = _judged_world(tmp_path)
    try:
        first = _run(world, maximum=4)
        assert first.round == 1
        assert sorted(first.choice.chosen) == ["x0", "x1", "x2", "x3"]
        assert first.plan.kind == "contentious"
        copies = _copies(world, first.push.batch_id)
        assert sorted(copies) == ["x0", "x1", "x2", "x3"]
        assert first.push.created == first.push.n_tasks == len(first.plan.tasks)
        assert all(world.platform.tasks[t].item_key.startswith("t-") for t in copies.values())
        again = _run(world, maximum=4)  # nothing answered yet: nothing pushed twice
        assert again.push is None
        assert again.choice.pending == ("x0", "x1", "x2", "x3")
        for item, task in copies.items():  # a third annotator takes each copy
            world.platform.annotate(task, item, annotator=OTHER, value="b")
        world.sync()
        second = _run(world, maximum=4)  # 2 a / 1 b... still split: 3 + 1 copy = 4
        assert second.round == 2
        assert sorted(second.choice.chosen) == ["x0", "x1", "x2", "x3"]
        for item, task in _copies(world, second.push.batch_id).items():
            world.platform.annotate(task, item, annotator=FOURTH, value="a")
        world.sync()
        third = _run(world, maximum=4)  # 4 judgments: at the maximum
        assert third.push is None
        assert third.choice.at_maximum == ("x0", "x1", "x2", "x3")
        rows = world.store.reannotations("p")
        assert [(r.round, r.item_key) for r in rows] == [
            (n, f"x{i}") for n in (1, 2) for i in range(4)
        ]
        assert rows[0].agreements == {"overall": 0.0}
        assert rows[0].n_judgments == 2
        assert rows[4].agreements == {"overall": pytest.approx(1 / 3, abs=1e-4)}
        assert "at the maximum judgments per item: x0, x1, x2, x3" in third.describe()
    finally:
        world.store.close()


def test_a_push_that_died_is_resumed_with_the_same_batch(tmp_path: Path) -> None:
    world = _judged_world(tmp_path)
    try:
        original = world.platform.create_tasks

        def fail(*args: Any, **kwargs: Any) -> Any:
            raise PlatformError("connection reset", platform="memory")

        world.platform.create_tasks = fail  # type: ignore[method-assign]
        with pytest.raises(PlatformError):
            _run(world)
        recorded = world.store.reannotations("p")
        assert len(recorded) == 4  # the round was recorded before the push
        world.platform.create_tasks = original  # type: ignore[method-assign]
        resumed = _run(world)
        assert resumed.resumed
        assert resumed.round == 1
        assert resumed.push.batch_id == recorded[0].batch_id
        assert resumed.push.created == resumed.push.n_tasks
        assert "resumed again for more judgments" in resumed.describe()
        assert _run(world).push is None  # and then nothing more
    finally:
        world.store.close()


def test_the_sync_report_shows_before_and_after(tmp_path: Path) -> None:
    world = _judged_world(tmp_path)
    try:
        first = _run(world)
        for item, task in _copies(world, first.push.batch_id).items():
            world.platform.annotate(task, item, annotator=OTHER, value="a")
        world.sync()
        report = json.loads((tmp_path / "reports" / "p" / "latest.json").read_text())
        section = report["reannotation"]
        assert (section["n_items"], section["n_items_rejudged"]) == (4, 4)
        assert section["n_new_judgments"] == 4
        overall = section["dimensions"]["overall"]
        # before: 4 items a/b (alpha of perfect disagreement); after: a, b, a on each
        data_before = np.array([[0, 0, 0, 0], [1, 1, 1, 1]], dtype=float)
        data_after = np.array([[0, 0, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0]], dtype=float)
        for when, data in (("before", data_before), ("after", data_after)):
            expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
            assert overall[when]["krippendorff_alpha"]["value"] == pytest.approx(expected)
            assert overall[when]["n_items"] == 4
        assert overall["before"]["mean_item_agreement"] == pytest.approx(0.0)
        assert overall["after"]["mean_item_agreement"] == pytest.approx(1 / 3)
        assert overall["after"]["n_judgments"] == 12
        # four items: too few for an interval, and the report says why
        assert overall["after"]["krippendorff_alpha"]["ci95"] is None
        assert "no_interval" in overall["after"]["krippendorff_alpha"]
        markdown = render_markdown(report)
        assert "## Re-annotation of low-agreement items" in markdown
        assert "4 low-agreement item(s) pushed again" in markdown
        assert "| overall | 4 | 8 → 12 |" in markdown
        assert all("reannotation" not in json.dumps(r) for r in world.platform.reports)
    finally:
        world.store.close()


def test_before_and_after_intervals_on_enough_items() -> None:
    """Thirty items: the intervals are the report's (BCa) and after is above before."""
    rng = np.random.default_rng(5)
    rows = []
    for i in range(30):
        first = ["a", "b"] if i % 3 else ["a", "a"]
        added = ["a", "a"] if rng.random() < 0.9 else ["b", "b"]
        for who, value in zip(("u", "v"), first, strict=True):
            rows.append((f"i{i}", who, value, "b1"))
        for who, value in zip(("w", "z"), added, strict=True):
            rows.append((f"i{i}", who, value, "b2"))
    frame = pd.DataFrame(rows, columns=["item_id", "annotator", "value", "batch"])
    frame["dimension"] = "overall"
    section = reannotation_section(
        normalise(frame), SIMPLE, {("b2", f"i{i}") for i in range(30)},
        options=ReportOptions(resamples=500),
    )  # fmt: skip
    assert section is not None
    overall = section["dimensions"]["overall"]
    low, high = overall["after"]["krippendorff_alpha"]["ci95"]
    assert low < overall["after"]["krippendorff_alpha"]["value"] < high
    assert overall["before"]["krippendorff_alpha"]["ci95"] is not None
    assert overall["after"]["mean_item_agreement"] > overall["before"]["mean_item_agreement"]
    assert reannotation_section(normalise(frame), SIMPLE, set()) is None


def test_a_sync_re_annotates_when_the_project_asks(tmp_path: Path) -> None:
    """reannotate_on_sync: the sync (hence serve) pushes the split items once; the next sync,
    with nothing answered, pushes nothing; a sync without write-back pushes nothing."""
    world = World(
        tmp_path, gold_items=25, toml="reannotate_on_sync = true\nreannotate_max_judgments = 4\n"
    )
    try:
        _push(world, _items("x", 6))
        for task, m in world.store.task_mappings("p").items():
            if m.item_key.startswith("x"):
                split = m.item_key in ("x0", "x1")
                world.platform.annotate(task, m.item_key, annotator=GOOD, value="a")
                world.platform.annotate(
                    task, m.item_key, annotator=LEAD, value="b" if split else "a"
                )
        assert world.sync(write_back=False).reannotated_items == 0
        assert world.store.reannotations("p") == []
        first = world.sync()
        assert first.reannotated_items == 2
        assert sorted(r.item_key for r in world.store.reannotations("p")) == ["x0", "x1"]
        assert world.sync().reannotated_items == 0  # the copies wait for a judgment
    finally:
        world.store.close()
