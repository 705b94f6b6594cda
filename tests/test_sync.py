"""One sync cycle (connector.sync) driven through an in-memory platform that fails on demand.

The real-server tests (test_labelstudio_loop.py, test_argilla_loop.py, test_gold_secrecy.py)
prove the adapters; these prove the orchestration: runs always closed, cursors that never pass
unstored data, status alerts delivered exactly once even when write-back fails, gold rules and
re-scoring, and what reaches the platform.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from memory_platform import MemoryPlatform

from connector.alerts import Alerter
from connector.config import Config, load_config
from connector.platforms.base import PlatformError
from connector.store import Store
from connector.sync import sync_project

REPO = Path(__file__).resolve().parents[1]
RUBRIC = REPO / "rubrics" / "rlhf-pairwise" / "v1.yaml"
GOOD, CARELESS, LEAD = "good@x", "careless@x", "lead@x"


def _gold_file(
    path: Path, n: int, answer: str = "a", answers: dict[str, Any] | None = None
) -> Path:
    path.write_text(
        "".join(
            json.dumps(
                {
                    "item_key": f"g{i}",
                    "prompt": "p",
                    "response_a": "x",
                    "response_b": "y",
                    "answers": answers or {"overall": answer},
                }
            )
            + "\n"
            for i in range(n)
        )
    )
    return path


class World:
    """A project on the in-memory platform, its config and store."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        gold_items: int = 0,
        toml: str = "",
        rubric: Path = RUBRIC,
        answers: dict[str, Any] | None = None,
    ) -> None:
        self.tmp_path = tmp_path
        gold = ""
        if gold_items:
            self.gold_path = _gold_file(tmp_path / "gold.jsonl", gold_items, answers=answers)
            gold = f'gold = "{self.gold_path}"\n'
        path = tmp_path / "iaa.toml"
        path.write_text(
            f'[store]\nurl = "sqlite:///{tmp_path / "iaa.db"}"\n'
            f'[reports]\ndir = "{tmp_path / "reports"}"\n'
            '[[platforms]]\nname = "mem"\nkind = "label-studio"\nurl = "http://127.0.0.1:9"\n'
            'token_env = "UNUSED"\n[[projects]]\nkey = "p"\nplatform = "mem"\n'
            f'project_id = 1\nrubric = "{rubric}"\noverlap_seconds = 1\n' + gold + toml
        )
        self.config: Config = load_config(path)
        self.store = Store.open(self.config.store_url)
        self.platform = MemoryPlatform(page_size=5)
        self.sent: list[dict[str, Any]] = []

        def post(url: str, *, json: dict[str, Any], timeout: float) -> Any:
            del url, timeout
            self.sent.append(json)
            return type("Response", (), {"status_code": 200, "text": "ok"})()

        self.alerter = Alerter("https://alerts.invalid/hook", min_interval_s=0, post=post)

    def sync(self, **kwargs: Any) -> Any:
        return sync_project(
            self.config, "p", store=self.store, platform=self.platform, alerter=self.alerter,
            **kwargs,
        )  # fmt: skip

    def judge_gold(self, annotator: str, answers: list[str]) -> None:
        for i, value in enumerate(answers):
            self.platform.annotate(f"t-g{i}", f"g{i}", annotator=annotator, value=value)

    def texts(self) -> list[str]:
        return [json.dumps(payload) for payload in self.sent]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path, gold_items=25)
    try:
        yield w
    finally:
        w.store.close()


def test_an_unexpected_error_closes_its_run_with_the_error(world: World) -> None:
    world.judge_gold(GOOD, ["a"] * 6)
    world.platform.fail_pull_on_page[2] = KeyError("annotations")
    with pytest.raises(KeyError):
        world.sync()
    [run] = world.store.recent_runs("p", limit=1)
    assert run.finished_at is not None
    assert run.error == "KeyError: 'annotations'"


def test_the_cursor_never_moves_past_a_page_that_was_not_stored(world: World) -> None:
    world.judge_gold(GOOD, ["a"] * 12)  # three pages of five tasks
    world.platform.fail_pull_on_page[2] = PlatformError("connection reset", platform="memory")
    with pytest.raises(PlatformError):
        world.sync()
    stored = world.store.get_cursor("memory", "p")
    assert stored is not None
    page_one_end = sorted(t.updated_at for t in world.platform.tasks.values())[4]
    assert stored.cursor == page_one_end.isoformat()
    result = world.sync()
    assert result.created == 12 - 5
    assert len(world.store.judgments_frame("p")) == 12  # every judgment, once


def test_a_status_alert_survives_a_failed_write_back_and_is_sent_once(world: World) -> None:
    world.judge_gold(GOOD, ["a"] * 25)
    world.platform.fail_write_report = PlatformError("write refused", platform="memory", status=503)
    with pytest.raises(PlatformError):
        world.sync()
    assert world.store.current_statuses("p", "rlhf-pairwise")[GOOD].status == "qualified"
    assert world.sent == []  # nothing delivered from a failed run
    world.platform.fail_write_report = None
    again = world.sync()
    assert again.status_changes == ()  # the transition was stored by the failed run ...
    qualified = [t for t in world.texts() if "good@x" in t and "qualified" in t]
    assert len(qualified) == 1  # ... and its alert is delivered by the retry
    world.sync()
    assert len([t for t in world.texts() if "good@x" in t and "qualified" in t]) == 1
    assert world.store.pending_alerts("p") == []


def test_an_alert_the_webhook_refuses_stays_pending(world: World) -> None:
    world.judge_gold(GOOD, ["a"] * 25)
    calls: list[int] = []

    def refuse(url: str, *, json: dict[str, Any], timeout: float) -> Any:
        del url, json, timeout
        calls.append(1)
        return type("Response", (), {"status_code": 500, "text": "down"})()

    world.alerter = Alerter("https://alerts.invalid/hook", min_interval_s=0, post=refuse)
    world.sync()
    assert calls
    assert len(world.store.pending_alerts("p")) == 1


def test_ground_truth_from_an_annotator_stays_their_judgment(tmp_path: Path) -> None:
    world = World(tmp_path, gold_items=25, toml=f'gold_authors = ["{LEAD}"]\n')
    try:
        for i in range(25):
            world.platform.annotate(f"t-g{i}", f"g{i}", annotator=CARELESS, value="b",
                                    ground_truth=True)  # fmt: skip
        result = world.sync(import_ground_truth=True)
        assert {g.value for g in world.store.gold_for("p").values()} == {"a"}
        assert result.created == 25  # the annotator's answers count as judgments
        assert result.status_changes[0].status == "retraining"
        refused = [json.dumps(p) for p in world.sent if "REFUSED" in json.dumps(p)]
        assert len(refused) == 25
    finally:
        world.store.close()


def test_a_gold_change_rescores_a_qualified_annotator(world: World) -> None:
    world.judge_gold(GOOD, ["a"] * 25)
    first = world.sync()
    assert [c.status for c in first.status_changes] == ["qualified"]
    _gold_file(world.gold_path, 25, answer="b")  # the lead corrects every gold answer
    result = world.sync()
    [change] = result.status_changes
    assert (change.previous, change.status) == ("qualified", "retraining")
    assert "re-scored because the gold answers of 25 item(s) changed" in str(change.evidence)
    changed = [r for r in world.store.gold_log("p") if r.accepted and r.old_value is not None]
    assert len(changed) == 25
    assert {r.set_by for r in changed} == {"file:gold.jsonl"}


def test_the_platform_gets_no_per_annotator_figure(world: World) -> None:
    world.judge_gold(GOOD, ["a"] * 25)
    world.judge_gold(CARELESS, ["b"] * 25)
    world.sync()
    written = world.platform.description + json.dumps(world.platform.reports)
    for secret in (GOOD, CARELESS, "gold", '"annotators"', str(world.tmp_path)):
        assert secret not in written
    report = json.loads((world.tmp_path / "reports" / "p" / "latest.json").read_text())
    entries = {a["annotator"]: a for a in report["annotators"]}
    # the lead's report shows statuses, but gold figures only once released (next period)
    assert entries[GOOD]["status"] == "qualified"
    assert entries[GOOD]["dimensions"]["overall"]["gold"] is None
    assert entries[GOOD]["gold_release"]["released_at"] is None
    from connector.report.html import render_html

    page = render_html(report)
    assert "Gold figures of 2 annotators are not released yet" in page
    assert "at least 10 new gold judgments" in page


# --- calibration batches through the same platform ----------------------------------------------


def _items(prefix: str, n: int) -> list[Any]:
    from connector.calibration.item import Item

    return [
        Item(
            item_key=f"{prefix}{i}",
            prompt=f"prompt {i}",
            response_a="A",
            response_b="B",
            category="c",
            answers={},
        )
        for i in range(n)
    ]


def _push(world: World, items: list[Any]) -> Any:
    from connector.calibration.batch import plan_batch
    from connector.calibration.gold import load_gold
    from connector.calibration.push import push_batch, task_key_secret
    from connector.rubric import load_rubric

    rubric = load_rubric(RUBRIC)
    plan = plan_batch(
        project_key="p",
        rubric=rubric,
        kind="production",
        items=items,
        gold=load_gold(world.gold_path, rubric),
        key_secret=task_key_secret(world.store),
    )
    return plan, push_batch(
        plan, world.config.project("p"), store=world.store, platform=world.platform
    )


def test_a_push_that_died_half_way_creates_only_what_is_missing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = world.store.record_task_created
    calls: list[int] = []

    def dies_after_three(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt("killed after three tasks were recorded")
        record(*args, **kwargs)

    monkeypatch.setattr(world.store, "record_task_created", dies_after_three)
    with pytest.raises(KeyboardInterrupt):
        _push(world, _items("x", 18))
    monkeypatch.setattr(world.store, "record_task_created", record)
    plan, result = _push(world, _items("x", 18))
    assert (result.n_tasks, result.created, result.already_present) == (20, 17, 3)
    assert len(world.platform.tasks) == 20  # nothing created twice
    _, again = _push(world, _items("x", 18))
    assert again.created == 0
    gold_set_by = {g.set_by for g in world.store.gold_for("p").values()}
    assert gold_set_by == {"file:gold.jsonl"}
    assert plan.count("gold") == 2


def test_a_retraining_batch_is_pushed_mixed_with_ordinary_items(tmp_path: Path) -> None:
    world = World(tmp_path, gold_items=45)
    try:
        _push(world, _items("x", 30))  # items whose texts the store keeps
        world.judge_gold(CARELESS, ["b"] * 25)
        before = set(world.platform.tasks)
        result = world.sync()
        assert [c.status for c in result.status_changes] == ["retraining", "retraining"]
        assert "waits for retraining batch" in result.status_changes[1].describe()
        pushed = set(world.platform.tasks) - before
        mappings = world.store.task_mappings("p")
        kinds = sorted(mappings[task].kind for task in pushed)
        # 20 unseen gold items and all 30 ordinary items the store has (180 would be wanted)
        assert (kinds.count("gold"), kinds.count("retest")) == (20, 30)
    finally:
        world.store.close()


def test_one_rule_says_who_is_flagged_on_every_surface(tmp_path: Path) -> None:
    """15/20 gold right: the lifecycle keeps a candidate, and no surface flags them; 10/20: the
    lifecycle sends them to retraining, and the report flags them with the lifecycle's reason."""
    from connector.report import flagged_annotators
    from connector.report.html import render_html

    world = World(tmp_path, gold_items=20)
    try:
        world.judge_gold(GOOD, ["a"] * 15 + ["b"] * 5)
        world.judge_gold(CARELESS, ["a"] * 10 + ["b"] * 10)
        result = world.sync()
        statuses = {c.annotator: c.status for c in result.status_changes}
        assert statuses == {GOOD: "candidate", CARELESS: "retraining"}
        report = json.loads((tmp_path / "reports" / "p" / "latest.json").read_text())
        flagged = {f.annotator: f.reasons for f in flagged_annotators(report)}
        assert set(flagged) == {CARELESS}
        [reason] = flagged[CARELESS]
        assert reason.startswith("retraining: overall: 10/20 gold judgments right (50.0%)")
        assert "Flagged" not in world.platform.description
        assert CARELESS not in world.platform.description
        assert "1 annotator flagged" in render_html(report)
    finally:
        world.store.close()


def test_status_is_decided_on_every_dimension_and_names_it_everywhere(tmp_path: Path) -> None:
    """rlhf-pairwise v2 has two gating dimensions, overall and strength. Right on every overall
    gold answer and on half the strength ones: the sync sends the annotator to retraining on
    strength, and the stored decision, the alert and the report all name strength."""
    from connector.report import flagged_annotators

    world = World(
        tmp_path,
        gold_items=40,  # 20 judged, 20 left for a retraining batch
        rubric=REPO / "rubrics" / "rlhf-pairwise" / "v2.yaml",
        answers={"overall": "a", "strength": 2},
    )
    try:
        for i in range(20):
            for who, strength in ((GOOD, 2), (CARELESS, 2 if i % 2 else 3)):
                world.platform.annotate(
                    f"t-g{i}", f"g{i}", annotator=who, value={"overall": "a", "strength": strength}
                )
        result = world.sync()
        changes = {c.annotator: c for c in result.status_changes if c.evidence["event"] == "status"}
        assert (changes[GOOD].status, changes[CARELESS].status) == ("qualified", "retraining")
        [assigned] = [c for c in result.status_changes if c.evidence["event"] == "batch_assigned"]
        assert (assigned.annotator, assigned.evidence["decided_by"]) == (CARELESS, ["strength"])
        careless = changes[CARELESS].evidence
        assert careless["decided_by"] == ["strength"]
        assert careless["reason"].startswith("strength: 10/20 gold judgments right (50.0%)")
        shown = {d["dimension"]: d["gold_correct"] for d in careless["dimensions"]}
        assert shown == {"overall": 20, "strength": 10}
        stored = world.store.current_statuses("p", "rlhf-pairwise")[CARELESS]
        assert stored.evidence["decided_by"] == ["strength"]
        [alert] = [t for t in world.texts() if CARELESS in t and "retraining" in t]
        assert "Gold on strength" in alert
        assert "strength: 10/20 gold judgments right" in alert
        report = json.loads((tmp_path / "reports" / "p" / "latest.json").read_text())
        entry = next(e for e in report["annotators"] if e["annotator"] == CARELESS)
        assert entry["status_dimensions"] == ["strength"]
        flagged = {(f.annotator, f.dimension) for f in flagged_annotators(report)}
        assert flagged == {(CARELESS, "strength")}
        # the next sync reads the stored decision (a retraining batch was assigned since): it
        # still names strength
        current = world.store.current_statuses("p", "rlhf-pairwise")[CARELESS].evidence
        assert (current["event"], current["decided_by"]) == ("batch_assigned", ["strength"])
        world.sync()
        report = json.loads((tmp_path / "reports" / "p" / "latest.json").read_text())
        entry = next(e for e in report["annotators"] if e["annotator"] == CARELESS)
        assert (entry["status"], entry["status_dimensions"]) == ("retraining", ["strength"])
    finally:
        world.store.close()


def test_a_push_mixes_in_re_tests_of_items_judged_long_enough_ago(world: World) -> None:
    from datetime import timedelta

    from memory_platform import EPOCH

    from connector.calibration import load_gold, plan_push, push_batch
    from connector.rubric import load_rubric

    rubric = load_rubric(RUBRIC)
    gold = load_gold(world.gold_path, rubric)

    def push(items: list[Any], *, days: float) -> Any:
        plan = plan_push(
            world.store, "p", rubric, kind="production", items=items, gold=gold, label="",
            now=EPOCH + timedelta(days=days),
        )  # fmt: skip
        return plan, push_batch(
            plan, world.config.project("p"), store=world.store, platform=world.platform
        )

    first, _ = push(_items("x", 40), days=0)
    assert first.count("retest") == 0  # nothing judged yet
    for task in first.tasks:
        if task.role == "production":
            task_id = world.store.batch_items(first.batch_id)[first.tasks.index(task)]
            world.platform.annotate(str(task_id.platform_task_id), task.item.item_key,
                                    annotator=GOOD, value="a")  # fmt: skip
    world.sync()
    early, _ = push(_items("y", 85), days=1)  # judged a day ago: under the 72 h delay
    assert early.count("retest") == 0
    late, _ = push(_items("z", 85), days=4)
    retests = [t.item.item_key for t in late.tasks if t.role == "retest"]
    assert len(retests) == 5  # 5 % of 100
    assert all(key.startswith("x") for key in retests)  # judged items, never gold
    again, repeat = push(_items("z", 85), days=9)  # the same batch later: the same plan
    assert again == late
    assert repeat.created == 0


@pytest.mark.parametrize(
    ("ci95", "note"),
    [
        ([0.55, 0.67], "BELOW TARGET"),
        ([0.55, 0.86], "below target, interval reaches it"),
    ],
)
def test_the_platform_summary_says_below_target_by_the_reports_rule(
    ci95: list[float], note: str
) -> None:
    from connector.rubric import load_rubric
    from connector.sync import summary_text

    rubric = load_rubric(RUBRIC)
    report = {
        "generated_at": "2026-12-03T20:00:00Z",
        "dimensions": {
            "overall": {
                "krippendorff_alpha": {"value": 0.61, "ci95": ci95},
                "target_alpha": 0.8,
                "n_items": 80,
            }
        },
    }
    line = summary_text(report, rubric, None).splitlines()[1]
    assert (
        line
        == f"overall: alpha 0.610 [{ci95[0]:.3f}, {ci95[1]:.3f}] (target 0.80) {note}; 80 items"
    )


def test_per_task_agreement_is_written_only_to_tasks_that_hold_a_judgment(
    tmp_path: Path,
) -> None:
    """A retraining batch's re-test copies of an item nobody answered get no write (one PATCH
    each on Label Studio); the judged tasks of the same items get their agreement."""
    world = World(tmp_path, gold_items=45)
    try:
        _push(world, _items("x", 30))
        ordinary = {
            task: m.item_key
            for task, m in world.store.task_mappings("p").items()
            if m.item_key.startswith("x")
        }
        for task, item in ordinary.items():
            for annotator in (GOOD, LEAD):
                world.platform.annotate(task, item, annotator=annotator, value="a")
        world.judge_gold(CARELESS, ["b"] * 25)
        world.sync()  # CARELESS to retraining: a batch with re-test copies of the x items
        copies = [
            task
            for task, m in world.store.task_mappings("p").items()
            if m.kind == "retest" and task not in ordinary
        ]
        assert copies  # the retraining batch holds re-test copies of judged items
        world.sync()
        assert all("iaa" in world.platform.tasks[t].meta for t in ordinary)
        assert [t for t in copies if "iaa" in world.platform.tasks[t].meta] == []
    finally:
        world.store.close()
