"""Re-tests, re-annotation (and the tiers of the report) end to end against the real servers:
Label Studio (re-test pairs measured and the copies' reach; low-agreement items pushed again by
``iaa-connector reannotate``, answered and counted) and Argilla (the re-annotation push)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from argilla_server import ArgillaServer
from labelstudio_server import LabelStudioServer
from test_argilla_loop import Loop as ArgillaLoop
from test_argilla_loop import _items as argilla_items
from test_labelstudio_loop import Loop, _choice, _items, _left_for
from typer.testing import CliRunner

from connector.calibration.batch import plan_batch
from connector.calibration.push import push_batch, task_key_secret
from connector.calibration.reannotation import reannotate
from connector.cli import app
from connector.report.build import item_agreements

SPLIT = 4  # items x-0 .. x-3: the two annotators disagree


def _report(tmp_path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((tmp_path / "reports" / "p" / "latest.json").read_text())
    return loaded


def _tasks_of(loop: Loop, batch_id: str, role: str) -> dict[str, str]:
    """item → platform task id of the batch's tasks in ``role``."""
    return {
        b.item_key: str(b.platform_task_id)
        for b in loop.store.batch_items(batch_id)
        if b.role == role
    }


@pytest.mark.labelstudio
def test_retests_and_reannotation_on_label_studio(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    loop = Loop(label_studio, tmp_path, maximum=5)
    first, second, third = label_studio.annotator_tokens[:3]
    emails = [f"annotator{i}@iaa.local" for i in (1, 2, 3)]
    try:
        loop.push(_items("x", 12))
        for task in loop.tasks():
            task_id = str(task["id"])
            item = loop.store.task_mappings("p")[task_id].item_key
            other = "b" if int(item.split("-")[1]) < SPLIT else "a"
            loop.annotate(first, task_id, _choice(_left_for("a", loop.side(task_id))))
            loop.annotate(second, task_id, _choice(_left_for(other, loop.side(task_id))))
        loop.sync()
        # re-test copies of the judged items, mixed into a batch at the rubric's 5 %
        plan = plan_batch(
            project_key="p", rubric=loop.rubric, kind="production", items=_items("y", 57),
            retest=_items("x", 12)[SPLIT:], key_secret=task_key_secret(loop.store),
        )  # fmt: skip
        push_batch(plan, loop.config.project("p"), store=loop.store, platform=loop.platform)
        copies = sorted(_tasks_of(loop, plan.batch_id, "retest").items())
        assert len(copies) == 3  # round(0.05 × 57 / 0.85)
        # the first annotator takes two copies (once changing their mind), the third one
        for (_item, task_id), (token, value) in zip(
            copies, [(first, "a"), (first, "b"), (third, "a")], strict=True
        ):
            loop.annotate(token, task_id, _choice(_left_for(value, loop.side(task_id))))
        loop.sync()
        report = _report(tmp_path)
        assert report["retest_copies"] == {
            "n_copies": 3, "n_judged": 3, "n_same_annotator": 2,
            "share_same_annotator": pytest.approx(2 / 3),
        }  # fmt: skip
        people = {a["annotator"]: a for a in report["annotators"]}
        assert people[emails[0]]["retest_copies"] == {"n_judged": 2, "n_same_annotator": 2}
        assert people[emails[2]]["retest_copies"] == {"n_judged": 1, "n_same_annotator": 0}
        intra = people[emails[0]]["dimensions"]["overall"]["intra"]
        assert (intra["n_pairs"], intra["percent_agreement"]) == (2, 0.5)
        assert report["dimensions"]["overall"]["intra_annotator"]["n_pairs"] == 2
        html = (tmp_path / "reports" / "p" / "latest.html").read_text()
        assert "Re-tests (intra-annotator consistency)" in html
        description = loop.platform.client.request("GET", f"/api/projects/{loop.project_id}")[
            "description"
        ]
        assert "annotator1" not in description  # per-annotator figures stay off the platform

        # re-annotation through the command line: the four split items get a new copy
        runner = CliRunner()
        args = ["reannotate", "p", "-c", str(loop.config.path), "--below", "0.5"]
        pushed = runner.invoke(app, [*args, "--max-per-item", "4"])
        assert pushed.exit_code == 0, pushed.output
        assert "round 1: 4 item(s) pushed again for more judgments" in pushed.output
        rows = loop.store.reannotations("p")
        assert sorted(r.item_key for r in rows) == [f"x-{i}" for i in range(SPLIT)]
        new = _tasks_of(loop, rows[0].batch_id, "contentious")
        on_server = {str(t["id"]) for t in loop.tasks()}
        assert set(new.values()) <= on_server  # the copies are real tasks
        again = runner.invoke(app, [*args, "--max-per-item", "4"])
        assert again.exit_code == 0, again.output
        assert "no item to push again" in again.output
        assert "4 left out, waiting for a judgment of their earlier copy" in again.output
        for task_id in new.values():
            loop.annotate(third, task_id, _choice(_left_for("a", loop.side(task_id))))
        loop.sync()
        section = _report(tmp_path)["reannotation"]
        assert (section["n_items"], section["n_items_rejudged"]) == (4, 4)
        overall = section["dimensions"]["overall"]
        assert overall["before"]["mean_item_agreement"] == pytest.approx(0.0)
        assert overall["after"]["mean_item_agreement"] == pytest.approx(1 / 3)
        capped = runner.invoke(app, [*args, "--max-per-item", "3"])
        assert "4 left out, at the maximum judgments per item" in capped.output
        bad = runner.invoke(app, [*args, "--max-per-item", "2"])
        assert bad.exit_code != 0
        assert "must be a whole number of at least 3, got 2" in " ".join(bad.output.split())
    finally:
        loop.store.close()


@pytest.mark.argilla
def test_reannotation_push_on_argilla(argilla: ArgillaServer, tmp_path: Path) -> None:
    loop = ArgillaLoop(argilla, tmp_path)
    try:
        loop.push(argilla_items(8))
        good, other = argilla.annotator_api_keys[:2]
        for record in loop.records():
            rid = str(record["id"])
            item = loop.store.task_mappings("p")[rid].item_key
            split = int(item.split("-")[1]) < 3
            loop.respond(good, rid, {"overall": loop.shown_for("a", rid)})
            loop.respond(other, rid, {"overall": loop.shown_for("b" if split else "a", rid)})
        loop.sync()
        project = loop.config.project("p")

        def run() -> Any:
            frame = loop.store.judgments_frame("p")
            return reannotate(
                project, loop.rubric, store=loop.store, platform=loop.platform, frame=frame,
                agreements=item_agreements(frame, loop.rubric), below=0.5, max_judgments=5,
                now=datetime.now(UTC),
            )  # fmt: skip

        first = run()
        assert sorted(first.choice.chosen) == ["x-0", "x-1", "x-2"]
        assert first.push.created == first.push.n_tasks
        records = {str(r["id"]) for r in loop.records()}
        new = {
            b.item_key: str(b.platform_task_id) for b in loop.store.batch_items(first.push.batch_id)
        }
        assert set(new.values()) <= records
        assert len(records) == 8 + len(new)
        assert run().push is None  # idempotent: nothing twice while the copies wait
        third = argilla.annotator_api_keys[2]
        for item in ("x-0", "x-1", "x-2"):
            rid = new[item]
            loop.respond(third, rid, {"overall": loop.shown_for("a", rid)})
        loop.sync()
        section = _report(tmp_path)["reannotation"]
        assert (section["n_items"], section["n_items_rejudged"]) == (3, 3)
        assert section["dimensions"]["overall"]["after"]["n_judgments"] == 9
    finally:
        loop.store.close()


@pytest.mark.labelstudio
def test_tiers_in_the_report_of_a_label_studio_sync(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    """Two experts and one crowd annotator judge through the real server; the sync's report
    compares the crowd annotator with the experts' consensus, per category too."""
    emails = [f"annotator{i}@iaa.local" for i in (1, 2, 3)]
    groups = f'groups = {{expert = ["{emails[0]}", "{emails[1]}"], crowd = ["{emails[2]}"]}}\n'
    loop = Loop(label_studio, tmp_path, maximum=3, project_toml=groups)
    try:
        loop.push(_items("x", 10))
        tokens = label_studio.annotator_tokens[:3]
        for task in loop.tasks():
            task_id = str(task["id"])
            n = int(loop.store.task_mappings("p")[task_id].item_key.split("-")[1])
            crowd = "b" if n < 3 else "a"  # the crowd annotator departs on x-0 .. x-2
            for token, value in zip(tokens, ("a", "a", crowd), strict=True):
                loop.annotate(token, task_id, _choice(_left_for(value, loop.side(task_id))))
        loop.sync()
        report = _report(tmp_path)
        assert report["tiers"]["dimensions"]["overall"]["n_consensus_items"] == 10
        people = {a["annotator"]: a for a in report["annotators"]}
        assert people[emails[2]]["group"] == "crowd"
        figure = people[emails[2]]["dimensions"]["overall"]["expert_consensus"]
        assert (figure["n"], figure["agreement"]) == (10, pytest.approx(0.7))
        assert figure["ci95"][0] < 0.7 < figure["ci95"][1]
        assert [e["key"] for e in people[emails[2]]["dimensions"]["overall"]["by_category"]] == [
            "test"
        ]
        html = (tmp_path / "reports" / "p" / "latest.html").read_text()
        assert "Expert and crowd tiers" in html
        description = loop.platform.client.request("GET", f"/api/projects/{loop.project_id}")[
            "description"
        ]
        assert emails[2] not in description
        assert "expert" not in description.lower()
    finally:
        loop.store.close()
