"""The connector's whole loop against a real Label Studio server.

Several annotators (their own tokens) judge tasks the connector pushed (gold mixed in); the sync
pulls, scores against gold, writes the report back. Updates, deletes, skips, malformed results,
a double push, a second annotation by one user, a webhook install and a server stopped in the
middle of a sync are all driven through the real server.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from labelstudio_server import DEPLOY_DIR, LabelStudioServer

from connector.calibration.batch import plan_batch
from connector.calibration.item import Item
from connector.calibration.push import push_batch, task_key_secret
from connector.config import Config, load_config
from connector.platforms.base import PlatformError
from connector.platforms.label_studio import adapter
from connector.platforms.label_studio.adapter import BEGIN, END, LabelStudio
from connector.platforms.label_studio.labelconfig import generate_label_config
from connector.rubric import load_rubric
from connector.store import Store
from connector.sync import sync_project

pytestmark = pytest.mark.labelstudio

REPO = Path(__file__).resolve().parents[1]
RUBRIC_PATH = REPO / "rubrics" / "rlhf-pairwise" / "v1.yaml"
RUBRIC = load_rubric(RUBRIC_PATH)
TOKEN_ENV = "IAA_TEST_LS_TOKEN"


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


def _choice(choice: str, name: str = "overall") -> list[dict[str, Any]]:
    return [
        {"from_name": name, "to_name": "prompt", "type": "choices", "value": {"choices": [choice]}}
    ]


def _items(prefix: str, n: int, *, gold: bool = False) -> list[Item]:
    return [
        Item(
            item_key=f"{prefix}-{i}",
            prompt=f"Question {prefix} {i}?",
            response_a=f"Answer A to {i}, short.",
            response_b=f"Answer B to {i}, a little longer than A.",
            category="test",
            answers={"overall": "a"} if gold else {},
        )
        for i in range(n)
    ]


class Loop:
    """One test's project: its config, store, adapter and helpers to act as annotators."""

    def __init__(
        self,
        server: LabelStudioServer,
        tmp_path: Path,
        *,
        maximum: int = 3,
        gold: str = "",
        project_toml: str = "",
        server_toml: str = "",
        rubric_path: Path = RUBRIC_PATH,
    ) -> None:
        self.server = server
        self.rubric = load_rubric(rubric_path, check_layout=False)
        created = requests.post(
            f"{server.url}/api/projects/",
            json={
                "title": f"test {tmp_path.name}"[:50],
                "description": "Owner's own text, kept as it is.",
                "label_config": generate_label_config(self.rubric),
                "maximum_annotations": maximum,
            },
            headers=_headers(server.admin_token),
            timeout=30,
        )
        created.raise_for_status()
        self.project_id = int(created.json()["id"])
        config = tmp_path / "iaa.toml"
        config.write_text(
            f'[store]\nurl = "sqlite:///{tmp_path / "iaa.db"}"\n'
            f'[reports]\ndir = "{tmp_path / "reports"}"\n'
            + (f"[server]\n{server_toml}\n" if server_toml else "")
            + f'[[platforms]]\nname = "ls"\nkind = "label-studio"\nurl = "{server.url}"\n'
            f'token_env = "{TOKEN_ENV}"\n[[projects]]\nkey = "p"\nplatform = "ls"\n'
            f'project_id = {self.project_id}\nrubric = "{rubric_path}"\noverlap_seconds = 2\n'
            + (f'gold = "{gold}"\n' if gold else "")
            + project_toml
        )
        os.environ[TOKEN_ENV] = server.admin_token
        self.config: Config = load_config(config)
        self.store = Store.open(self.config.store_url)
        self.platform = LabelStudio(server.url, server.admin_token, retries=0)

    def push(self, items: list[Item], gold: list[Item] = (), label: str = "") -> Any:  # type: ignore[assignment]
        plan = plan_batch(
            project_key="p",
            rubric=self.rubric,
            kind="production",
            items=items,
            gold=gold,
            label=label,
            key_secret=task_key_secret(self.store),
        )
        return plan, push_batch(
            plan, self.config.project("p"), store=self.store, platform=self.platform
        )

    def tasks(self) -> list[dict[str, Any]]:
        response = requests.get(
            f"{self.server.url}/api/tasks/",
            params={"project": self.project_id, "fields": "all", "page_size": 1000},
            headers=_headers(self.server.admin_token),
            timeout=30,
        )
        response.raise_for_status()
        tasks: list[dict[str, Any]] = response.json()["tasks"]
        return tasks

    def annotate(self, token: str, task_id: str, result: list[dict[str, Any]], **extra: Any) -> str:
        response = requests.post(
            f"{self.server.url}/api/tasks/{task_id}/annotations/",
            json={"result": result, "ground_truth": False, "lead_time": 4.0, **extra},
            headers=_headers(token),
            timeout=30,
        )
        response.raise_for_status()
        return str(response.json()["id"])

    def sync(self, **kwargs: Any) -> Any:
        return sync_project(self.config, "p", store=self.store, platform=self.platform, **kwargs)

    def side(self, task_id: str) -> str:
        return self.store.task_mappings("p")[task_id].display_left or "a"


@pytest.fixture
def loop(label_studio: LabelStudioServer, tmp_path: Path) -> Iterator[Loop]:
    project = Loop(label_studio, tmp_path)
    try:
        yield project
    finally:
        project.store.close()


def _left_for(value: str, display_left: str) -> str:
    """The choice that means canonical ``value`` on a task showing ``display_left`` left."""
    if value not in ("a", "b"):
        return value
    return "left" if value == display_left else "right"


def test_push_is_idempotent_and_gold_is_invisible(loop: Loop) -> None:
    _, first = loop.push(_items("x", 18), gold=_items("g", 5, gold=True))
    assert first.created == first.n_tasks == 20  # 18 items + 10% of 20 = 2 gold
    _, again = loop.push(_items("x", 18), gold=_items("g", 5, gold=True))
    assert again.created == 0
    tasks = loop.tasks()
    assert len(tasks) == 20
    # Gold tasks look like any other: same data keys, opaque key, no meta, no predictions.
    assert {tuple(sorted(t["data"])) for t in tasks} == {
        ("key", "prompt", "response_left", "response_right")
    }
    for task in tasks:
        assert task["meta"] == {}
        assert task["predictions"] == []
        assert "gold" not in str(task["data"]).lower()
        assert task["data"]["key"].startswith("t-")
    sides = {loop.side(str(t["id"])) for t in tasks}
    assert sides == {"a", "b"}  # display order randomised and recorded


def test_sync_scores_annotators_against_gold(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    items = _items("x", 22)
    gold_file = tmp_path / "gold.jsonl"
    gold_file.write_text(
        "".join(
            f'{{"item_key": "{i.item_key}", "prompt": "p", "response_a": "x", "response_b": "y", '
            f'"answers": {{"overall": "a"}}}}\n'
            for i in items
        )
    )
    loop = Loop(label_studio, tmp_path, gold=str(gold_file))
    try:
        loop.push(items)
        good, careless, ties = label_studio.annotator_tokens[:3]
        for task in loop.tasks():
            task_id, side = str(task["id"]), loop.side(str(task["id"]))
            loop.annotate(good, task_id, _choice(_left_for("a", side)))
            loop.annotate(careless, task_id, _choice(_left_for("b", side)))
            loop.annotate(ties, task_id, _choice("tie"))
        result = loop.sync()
        assert result.created == 3 * 22
        status = {c.annotator: c.status for c in result.status_changes}
        assert status == {
            "annotator1@iaa.local": "qualified",
            "annotator2@iaa.local": "retraining",
            "annotator3@iaa.local": "retraining",
        }
        evidence = next(c for c in result.status_changes if c.status == "qualified").evidence
        assert (evidence["gold_judgments"], evidence["gold_correct"]) == (22, 22)
        frame = loop.store.judgments_frame("p")
        assert set(frame["value"]) == {"a", "b", "tie"}  # left/right mapped back through the side
        assert loop.sync().status_changes == ()  # decisions are stored, not repeated
    finally:
        loop.store.close()


def test_update_delete_skip_and_malformed(loop: Loop, label_studio: LabelStudioServer) -> None:
    loop.push(_items("x", 4))
    tasks = [str(t["id"]) for t in loop.tasks()]
    one, two, three = label_studio.annotator_tokens[:3]
    kept = loop.annotate(one, tasks[0], _choice("left"))
    changed = loop.annotate(two, tasks[0], _choice("tie"))
    deleted = loop.annotate(three, tasks[0], _choice("right"))
    loop.annotate(one, tasks[1], [], was_cancelled=True)  # a skipped task
    bad = loop.annotate(two, tasks[2], _choice("maybe"))  # not in the config: quarantined
    loop.annotate(three, tasks[3], _choice("left", name="tone"))  # unknown control
    first = loop.sync()
    assert (first.created, first.skipped, first.quarantined) == (3, 1, 2)
    quarantined = {
        (q.platform_annotation_id, q.platform_task_id) for q in loop.store.quarantined("p")
    }
    assert (bad, tasks[2]) in quarantined

    time.sleep(3)  # past the 2 s overlap, so the next pull is truly incremental
    requests.patch(
        f"{label_studio.url}/api/annotations/{changed}/",
        json={"result": _choice("right")},
        headers=_headers(two),
        timeout=30,
    ).raise_for_status()
    requests.delete(
        f"{label_studio.url}/api/annotations/{deleted}/",
        headers=_headers(label_studio.admin_token),
        timeout=30,
    ).raise_for_status()
    second = loop.sync()
    assert (second.created, second.updated, second.deleted) == (0, 1, 1)
    frame = loop.store.judgments_frame("p")
    values = dict(zip(frame["annotator"], frame["value"], strict=True))
    assert values == {
        "annotator1@iaa.local": _value(loop, tasks[0], "left"),
        "annotator2@iaa.local": _value(loop, tasks[0], "right"),
    }
    assert kept

    third = loop.sync()  # nothing changed: nothing new, own writes are not work
    assert (third.created, third.updated, third.deleted, third.quarantined) == (0, 0, 0, 0)


def _value(loop: Loop, task_id: str, choice: str) -> str:
    side = loop.side(task_id)
    return side if choice == "left" else ("b" if side == "a" else "a")


def test_one_annotation_per_user_and_maximum_annotations(
    loop: Loop, label_studio: LabelStudioServer
) -> None:
    loop.push(_items("x", 1))
    [task] = [str(t["id"]) for t in loop.tasks()]
    one, two, three = label_studio.annotator_tokens[:3]
    loop.annotate(one, task, _choice("left"))
    second_by_one = loop.annotate(one, task, _choice("right"))
    loop.annotate(two, task, _choice("left"))
    loop.annotate(three, task, _choice("left"))
    fourth = loop.annotate(label_studio.admin_token, task, _choice("left"))
    result = loop.sync()
    assert result.created == 3
    reasons = {q.platform_annotation_id: q.reason for q in loop.store.quarantined("p")}
    assert reasons[second_by_one] == f"a second annotation by annotator1@iaa.local on task {task}"
    assert reasons[fourth] == "over the project's maximum_annotations (3)"


def test_report_written_into_description_and_task_meta(
    loop: Loop, label_studio: LabelStudioServer
) -> None:
    loop.push(_items("x", 3))
    annotations = [
        loop.annotate(token, str(task["id"]), _choice("left"))
        for task in loop.tasks()
        for token in label_studio.annotator_tokens[:3]
    ]
    loop.sync()
    loop.sync()  # a second write replaces the section, never appends
    project = requests.get(
        f"{label_studio.url}/api/projects/{loop.project_id}/",
        headers=_headers(label_studio.admin_token),
        timeout=30,
    ).json()
    description = project["description"]
    assert description.startswith("Owner's own text, kept as it is.")
    assert description.count(BEGIN) == description.count(END) == 1
    assert "overall: alpha" in description
    for task in loop.tasks():
        assert task["meta"]["iaa"] == {"agreement": {"overall": 1.0}, "n_judgments": {"overall": 3}}
    time.sleep(3)  # past the 2 s overlap
    requests.patch(  # the first task's third annotation changes: its written value must too
        f"{label_studio.url}/api/annotations/{annotations[2]}/",
        json={"result": _choice("tie")},
        headers=_headers(label_studio.annotator_tokens[2]),
        timeout=30,
    ).raise_for_status()
    assert loop.sync().updated == 1
    written = {str(t["id"]): t["meta"]["iaa"]["agreement"]["overall"] for t in loop.tasks()}
    first = str(loop.tasks()[0]["id"])
    assert written.pop(first) == pytest.approx(1 / 3, abs=1e-4)
    assert set(written.values()) == {1.0}


def test_ground_truth_imported_as_gold_on_request(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    loop = Loop(label_studio, tmp_path, project_toml='gold_authors = ["admin@iaa.local"]\n')
    loop.push(_items("x", 1))
    [task] = [str(t["id"]) for t in loop.tasks()]
    loop.annotate(label_studio.admin_token, task, _choice("left"), ground_truth=True)
    loop.annotate(label_studio.annotator_tokens[0], task, _choice("left"))
    result = loop.sync(import_ground_truth=True)
    assert result.created == 1  # the ground-truth annotation is gold, not a judgment
    item = loop.store.task_mappings("p")[task].item_key
    gold = loop.store.gold_for("p")[(item, "overall")]
    assert gold.value == loop.side(task)
    assert gold.source == "platform_ground_truth"
    assert gold.set_by == "admin@iaa.local"
    loop.store.close()


def test_webhook_install_is_idempotent(loop: Loop, label_studio: LabelStudioServer) -> None:
    url = "http://127.0.0.1:9/webhooks/label-studio/p"
    loop.platform.install_webhook(str(loop.project_id), url=url, secret="s3cret")
    loop.platform.install_webhook(str(loop.project_id), url=url, secret="s3cret")
    hooks = requests.get(
        f"{label_studio.url}/api/webhooks/",
        params={"project": loop.project_id},
        headers=_headers(label_studio.admin_token),
        timeout=30,
    ).json()
    ours = [h for h in hooks if h["url"] == url]
    assert len(ours) == 1
    assert set(ours[0]["actions"]) >= {"ANNOTATION_CREATED", "ANNOTATION_UPDATED"}
    assert ours[0]["headers"] == {"X-IAA-Webhook-Secret": "s3cret"}


def test_server_stopped_mid_sync_loses_nothing(
    loop: Loop, label_studio: LabelStudioServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not label_studio.started_here:
        pytest.skip("stops the server: only on a server this session started")
    loop.push(_items("x", 12))
    tasks = [str(t["id"]) for t in loop.tasks()]
    for task in tasks:
        for token in label_studio.annotator_tokens[:3]:
            loop.annotate(token, task, _choice("left"))
    loop.sync()  # the first, whole-project pull
    time.sleep(3)
    for task in tasks:
        loop.annotate(
            label_studio.admin_token, task, _choice("tie")
        )  # over the maximum: quarantined
    annotations = {str(a["id"]) for t in loop.tasks() for a in t["annotations"]}

    env = {
        **os.environ,
        "IAA_LS_PORT": str(label_studio.port),
        "IAA_LS_HOME": str(label_studio.home),
    }
    pull = loop.platform.pull

    def pull_then_stop(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for page in pull(*args, **kwargs):
            subprocess.run(
                [str(DEPLOY_DIR / "stop.sh"), str(label_studio.port)], env=env, check=True
            )
            yield page

    monkeypatch.setattr(adapter, "PAGE_SIZE", 5)  # three pages: the server goes after the first
    monkeypatch.setattr(loop.platform, "pull", pull_then_stop)
    with pytest.raises(PlatformError):
        loop.sync()
    monkeypatch.setattr(loop.platform, "pull", pull)
    assert loop.store.recent_runs("p", limit=1)[0].error is not None
    restarted = subprocess.run(
        [str(DEPLOY_DIR / "start.sh")],
        env={**env, "IAA_LS_KEEP_DATA": "1"},
        capture_output=True,
        text=True,
    )
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    loop.sync()
    frame = loop.store.judgments_frame("p")
    assert len(frame) == 3 * len(tasks)  # every judgment, once
    stored = {a for ids in loop.store.annotation_ids_by_task("p", None).values() for a in ids}
    quarantined = {q.platform_annotation_id for q in loop.store.quarantined("p")}
    assert len(quarantined) == len(tasks)  # the admin's fourth annotations, each once
    assert stored | quarantined == annotations


def test_deleted_task_is_reconciled_on_a_full_sync(
    loop: Loop, label_studio: LabelStudioServer
) -> None:
    loop.push(_items("x", 2))
    tasks = [str(t["id"]) for t in loop.tasks()]
    for task in tasks:
        loop.annotate(label_studio.annotator_tokens[0], task, _choice("left"))
    assert loop.sync().created == 2
    requests.delete(
        f"{label_studio.url}/api/tasks/{tasks[0]}/",
        headers=_headers(label_studio.admin_token),
        timeout=30,
    ).raise_for_status()
    assert loop.sync().deleted == 0  # a deleted task leaves no trace in an incremental pull
    assert loop.sync(full=True).deleted == 1  # the full reconciliation finds it
    assert len(loop.store.judgments_frame("p")) == 1


def test_data_manager_column_when_enabled(label_studio: LabelStudioServer, tmp_path: Path) -> None:
    loop = Loop(label_studio, tmp_path)
    try:
        text = Path(loop.config.path).read_text() + "data_manager_column = true\n"
        Path(loop.config.path).write_text(text)
        loop.config = load_config(loop.config.path)
        loop.push(_items("x", 1))
        [task] = [str(t["id"]) for t in loop.tasks()]
        loop.annotate(label_studio.annotator_tokens[0], task, _choice("left"))
        loop.annotate(label_studio.annotator_tokens[1], task, _choice("tie"))
        loop.sync()
        [written] = loop.tasks()
        assert written["data"]["iaa_agreement_overall"] == 0.0
        assert written["meta"]["iaa"] == {
            "agreement": {"overall": 0.0},
            "n_judgments": {"overall": 2},
        }
        assert {"prompt", "response_left", "response_right", "key"} < set(written["data"])
    finally:
        loop.store.close()


def test_cli_push_sync_and_webhook_install(
    loop: Loop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from connector.cli import app

    items = tmp_path / "items.jsonl"
    items.write_text(
        "".join(
            f'{{"item_key": "c-{i}", "prompt": "p{i}", "response_a": "x", "response_b": "y"}}\n'
            for i in range(3)
        )
    )
    runner = CliRunner()
    config = str(loop.config.path)
    pushed = runner.invoke(app, ["push", "p", "--items", str(items), "-c", config])
    assert pushed.exit_code == 0, pushed.output
    assert "3 tasks (0 gold, 0 re-test), 3 created, 0 already present" in pushed.output
    again = runner.invoke(app, ["push", "p", "--items", str(items), "-c", config])
    assert "0 created, 3 already present" in again.output
    synced = runner.invoke(app, ["sync", "p", "-c", config])
    assert synced.exit_code == 0, synced.output
    assert synced.output.startswith("p: 0 tasks read, 0 judgments new")
    no_secret = runner.invoke(
        app, ["webhooks", "install", "p", "--url", "http://127.0.0.1:9/x", "-c", config]
    )
    assert no_secret.exit_code == 2
    assert "needs webhook_secret_env naming a set environment variable" in " ".join(
        no_secret.output.split()
    )
    monkeypatch.delenv(TOKEN_ENV)
    broken = runner.invoke(app, ["sync", "p", "-c", config])
    assert broken.exit_code == 1
    assert f"environment variable {TOKEN_ENV} (its API token) is not set" in broken.output


def test_retraining_batch_is_pushed_and_its_result_requalifies(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    production = _items("x", 22)
    spare = _items("s", 25)  # gold nobody has seen yet: the retraining batch comes from these
    gold_file = tmp_path / "gold.jsonl"
    gold_file.write_text(
        "".join(
            f'{{"item_key": "{i.item_key}", "prompt": "{i.prompt}", '
            f'"response_a": "{i.response_a}", "response_b": "{i.response_b}", '
            '"answers": {"overall": "a"}}\n'
            for i in production + spare
        )
    )
    loop = Loop(label_studio, tmp_path, gold=str(gold_file))
    try:
        loop.push(production)
        good, careless = label_studio.annotator_tokens[:2]
        for task in loop.tasks():
            task_id, side = str(task["id"]), loop.side(str(task["id"]))
            loop.annotate(good, task_id, _choice(_left_for("a", side)))
            loop.annotate(careless, task_id, _choice(_left_for("b", side)))
        first = loop.sync()
        statuses = [(c.annotator, c.status, c.evidence.get("event")) for c in first.status_changes]
        assert ("annotator2@iaa.local", "retraining", "status") in statuses
        assert ("annotator2@iaa.local", "retraining", "batch_assigned") in statuses
        batch_id = next(
            c.evidence["state"]["batch_id"]
            for c in first.status_changes
            if c.evidence.get("event") == "batch_assigned"
        )
        retraining = [
            t
            for t in loop.tasks()
            if loop.store.task_mappings("p")[str(t["id"])].batch_id == batch_id
        ]
        assert len(retraining) == 20
        keys = {loop.store.task_mappings("p")[str(t["id"])].item_key for t in retraining}
        assert keys <= {i.item_key for i in spare}  # only gold the annotator had not judged
        for task in retraining:  # the careless annotator now answers carefully
            task_id = str(task["id"])
            loop.annotate(careless, task_id, _choice(_left_for("a", loop.side(task_id))))
        second = loop.sync()
        after = {c.annotator: c.status for c in second.status_changes}
        assert after == {"annotator2@iaa.local": "qualified"}
    finally:
        loop.store.close()


VOTES_RUBRIC = Path(__file__).parent / "data" / "rubrics" / "votes.yaml"


def test_a_rubric_coding_votes_1_2_0_drives_the_sync_and_its_report(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    """Issue 10: a preference coded 1/2/0 by the rubric's first/second/non_decisive: the form
    shows left/right, the sync stores 1/2 through the display side, and the synced report has
    decisive agreement and position bias."""
    import json

    rubric_path = VOTES_RUBRIC
    loop = Loop(label_studio, tmp_path, rubric_path=rubric_path)
    try:
        loop.push(_items("v", 6))
        first, second, third = label_studio.annotator_tokens[:3]
        for task in loop.tasks():
            task_id, side = str(task["id"]), loop.side(str(task["id"]))
            loop.annotate(first, task_id, _choice(_left_for("a", side)))  # always response_a
            loop.annotate(second, task_id, _choice("left"))  # always the left one
            loop.annotate(third, task_id, _choice("0"))  # always a tie
        result = loop.sync()
        assert (result.created, result.quarantined) == (18, 0)
        frame = loop.store.judgments_frame("p")
        by_annotator = frame.groupby("annotator")["value"].apply(sorted).to_dict()
        assert by_annotator["annotator1@iaa.local"] == [1] * 6
        assert by_annotator["annotator3@iaa.local"] == [0] * 6
        shown_left = [loop.side(str(t["id"])) for t in loop.tasks()]
        left_values = sorted(1 if side == "a" else 2 for side in shown_left)
        assert by_annotator["annotator2@iaa.local"] == left_values
        assert result.report_path is not None
        report = json.loads(result.report_path.with_suffix(".json").read_text())
        section = report["dimensions"]["overall"]
        assert section["kind"] == "preference"
        assert section["non_decisive"] == [0]
        # decisive pairs: annotator 1 with 2 on each item; they agree where 'a' was shown left
        agree = left_values.count(1)
        assert section["percent_agreement_decisive"] == {"value": agree / 6, "n_pairs": 6}
        if 0 < agree < 6:
            assert section["position_bias"]["n"] == 12
            assert section["position_bias"]["left_share"] == (6 + agree) / 12
        else:  # every task showed the same response left (2 in 64): not measurable
            assert section["position_bias"]["measurable"] is False
    finally:
        loop.store.close()


SIGNED_RUBRIC = Path(__file__).parent / "data" / "rubrics" / "signed.yaml"


def test_a_signed_scale_judged_left_or_right_comes_back_with_the_right_sign(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    """Issue 11: on a -3 … 3 scale the form's choices are relative to the display side
    ("-3" = left response much better); the sync stores canonical values (negative: response_a
    better), mirroring where response_b was shown on the left."""
    loop = Loop(label_studio, tmp_path, rubric_path=SIGNED_RUBRIC)
    try:
        loop.push(_items("s", 6))
        first, second = label_studio.annotator_tokens[:2]
        sides = {}
        for task in loop.tasks():
            task_id = str(task["id"])
            sides[task_id] = side = loop.side(task_id)
            # first: response_a much better, whatever side it was shown on
            loop.annotate(first, task_id, _choice("-3" if side == "a" else "3", "preference"))
            loop.annotate(second, task_id, _choice("-1", "preference"))  # left slightly better
        result = loop.sync()
        assert (result.created, result.quarantined) == (12, 0)
        frame = loop.store.judgments_frame("p")
        values = frame.groupby("annotator")["value"].apply(sorted).to_dict()
        assert values["annotator1@iaa.local"] == [-3] * 6
        assert values["annotator2@iaa.local"] == sorted(
            -1 if side == "a" else 1 for side in sides.values()
        )
    finally:
        loop.store.close()


def test_the_pairwise_dimensions_rubric_makes_a_project_whose_four_answers_sync(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    """Issue 11: the shipped rubrics/pairwise-dimensions/v1.yaml's generated form is accepted
    by the server and an annotation of its four dimensions comes back as four judgments."""
    loop = Loop(label_studio, tmp_path, rubric_path=REPO / "rubrics/pairwise-dimensions/v1.yaml")
    try:
        loop.platform.check_project(str(loop.project_id), loop.rubric)
        loop.push(_items("d", 2))
        token = label_studio.annotator_tokens[0]
        expected = []
        for task in loop.tasks():
            task_id, side = str(task["id"]), loop.side(str(task["id"]))
            answers = {"accuracy": "a", "helpfulness": "b", "safety": "tie", "tone": "a"}
            result = [_choice(_left_for(v, side), name)[0] for name, v in answers.items()]
            loop.annotate(token, task_id, result)
            expected += sorted(answers.items())
        result = loop.sync()
        assert (result.created, result.quarantined) == (8, 0)
        frame = loop.store.judgments_frame("p")
        assert sorted(zip(frame["dimension"], frame["value"], strict=True)) == sorted(expected)
    finally:
        loop.store.close()


RANKING_RUBRIC = Path(__file__).parent / "data" / "rubrics" / "ranking.yaml"


def _ranked(ids: list[str]) -> list[dict[str, Any]]:
    """A <Ranker> result as the Label Studio editor saves it for List + Ranker (Ranker.jsx:
    rank mode keys the ids by the Ranker's own name)."""
    return [
        {
            "from_name": "order",
            "to_name": "order_responses",
            "type": "ranker",
            "value": {"ranker": {"order": ids}},
        }
    ]


def test_a_ranking_judged_in_label_studio_is_pulled_scored_and_its_pairs_appear(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    """Issue 11: the server accepts the generated List + Ranker config; rankings of four
    responses come back as 'b>a>c>d' judgments, and the synced report scores each option's
    rank, the implied pairs (6 per item) and Kendall's W."""
    import json

    loop = Loop(label_studio, tmp_path, rubric_path=RANKING_RUBRIC)
    try:
        loop.platform.check_project(str(loop.project_id), loop.rubric)
        tasks = [
            {
                "data": {
                    "item_id": f"r-{i}",
                    "prompt": f"Question {i}?",
                    "order_responses": [
                        {"id": o, "title": f"Response {o.upper()}", "body": f"Answer {o} to {i}."}
                        for o in "abcd"
                    ],
                }
            }
            for i in range(3)
        ]
        imported = requests.post(
            f"{label_studio.url}/api/projects/{loop.project_id}/import",
            json=tasks,
            headers=_headers(label_studio.admin_token),
            timeout=60,
        )
        imported.raise_for_status()
        first, second = label_studio.annotator_tokens[:2]
        for task in loop.tasks():
            loop.annotate(first, str(task["id"]), _ranked(["b", "a", "c", "d"]))
            loop.annotate(second, str(task["id"]), _ranked(["b", "c", "a", "d"]))
        result = loop.sync()
        assert (result.created, result.quarantined) == (6, 0)
        frame = loop.store.judgments_frame("p")
        values = frame.groupby("annotator")["value"].apply(sorted).to_dict()
        assert values == {
            "annotator1@iaa.local": ["b>a>c>d"] * 3,
            "annotator2@iaa.local": ["b>c>a>d"] * 3,
        }
        assert result.report_path is not None
        report = json.loads(result.report_path.with_suffix(".json").read_text())
        pairs = report["dimensions"]["order_pairs"]
        assert (pairs["n_items"], pairs["n_judgments"]) == (18, 36)
        # they agree on 5 of each item's 6 pairs (a vs c is the one they order differently)
        assert pairs["percent_agreement"]["value"] == 15 / 18
        # per item: rank sums a 5, b 2, c 5, d 8 around 5: S = 18, W = 12 * 18 / (2² (4³ - 4))
        w = report["rankings"]["order"]["kendall_w"]
        assert (w["n_items"], w["n_rankings"]) == (3, 6)
        assert w["mean"] == pytest.approx(12 * 18 / (4 * 60))
    finally:
        loop.store.close()
