"""Gold stays secret on the surfaces of the calibration program, probed as an annotator.

Each test acts as an ordinary annotator would, with the annotator's own token, against a real
Label Studio: it reads everything the API lets it read after a re-annotation push, a validation
batch and a production push after ``rubric promote``, and in the adjudication project; and it
tries the service's routes without the lead's token. A leak fails the test. See
docs/security.md.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from labelstudio_server import LabelStudioServer, _start_server
from test_adjudication_labelstudio import Adjudication
from test_gate import rubric_yaml
from test_gold_secrecy import _gold_file
from test_labelstudio_loop import (
    RANKING_RUBRIC,
    SIGNED_RUBRIC,
    Loop,
    _choice,
    _headers,
    _items,
    _left_for,
    _ranked,
)
from typer.testing import CliRunner

from connector.calibration.item import Item
from connector.calibration.push import task_key_secret
from connector.cli import app
from connector.rubric import load_rubric
from connector.store.promotions import RubricPromotion

pytestmark = pytest.mark.labelstudio

SPLIT = 4  # items x-0 .. x-3: the two annotators disagree
SENIORS_TOKEN_ENV = "IAA_TEST_LS_SENIORS_TOKEN"


def _read(server: LabelStudioServer, token: str, path: str, **params: Any) -> Any:
    response = requests.get(
        f"{server.url}{path}", params=params, headers=_headers(token), timeout=30
    )
    response.raise_for_status()
    return response.json()


def _tasks_as(server: LabelStudioServer, token: str, project_id: int) -> list[dict[str, Any]]:
    read = _read(server, token, "/api/tasks/", project=project_id, fields="all", page_size=1000)
    tasks: list[dict[str, Any]] = read["tasks"]
    return tasks


def _visible_tasks(server: LabelStudioServer, token: str) -> set[tuple[int, int]]:
    """(project, task) of every task in every project the token's owner can list."""
    projects = _read(server, token, "/api/projects/", page_size=1000)["results"]
    return {(p["id"], t["id"]) for p in projects for t in _tasks_as(server, token, p["id"])}


def _text(task: dict[str, Any]) -> tuple[str, frozenset[str]]:
    """What an annotator recognises a task by: its prompt and its two responses (either side)."""
    data = task["data"]
    return data["prompt"], frozenset((data["response_left"], data["response_right"]))


def _shapes(tasks: Iterable[dict[str, Any]]) -> set[tuple[tuple[str, ...], ...]]:
    """Task data keys and predictions (meta is checked apart: a task nobody judged has none)."""
    return {(tuple(sorted(t["data"])), tuple(t["predictions"])) for t in tasks}


def test_a_reannotation_batch_reads_like_the_items_it_repeats(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    gold_items = _items("g", 6, gold=True)
    loop = Loop(label_studio, tmp_path, maximum=5, gold=str(_gold_file(tmp_path, gold_items)))
    first, second, prober = label_studio.annotator_tokens[:3]
    try:
        loop.push(_items("x", 12), gold=gold_items)
        mappings = loop.store.task_mappings("p")
        [shown_gold] = [m.item_key for m in mappings.values() if m.kind == "gold"]
        for task in loop.tasks():
            task_id = str(task["id"])
            item = mappings[task_id].item_key
            split = item == shown_gold or int(item.split("-")[1]) < SPLIT
            for token, value in ((first, "a"), (second, "b" if split else "a")):
                loop.annotate(token, task_id, _choice(_left_for(value, loop.side(task_id))))
        loop.sync()
        before = _tasks_as(label_studio, prober, loop.project_id)
        seen_texts = {_text(t) for t in before}

        pushed = CliRunner().invoke(
            app, ["reannotate", "p", "-c", str(loop.config.path), "--below", "0.5"]
        )
        assert pushed.exit_code == 0, pushed.output
        rows = loop.store.reannotations("p")
        batch = rows[0].batch_id
        roles = {str(b.platform_task_id): b.role for b in loop.store.batch_items(batch)}
        assert sorted(roles.values()) == ["contentious"] * SPLIT + ["gold"]  # gold mixed in

        # the annotator's view: the new tasks are a block, but nothing in it says which is gold
        after = _tasks_as(label_studio, prober, loop.project_id)
        new = [t for t in after if str(t["id"]) in roles]
        assert len(new) == len(roles) == len(after) - len(before)
        assert _shapes(new) == _shapes(before)
        assert _shapes(new) == {(("key", "prompt", "response_left", "response_right"), ())}
        assert all(t["meta"] == {} for t in new)  # no meta until judged, like any new task
        assert all(set(t["meta"]) == {"iaa"} for t in before)
        # every new task repeats one the annotator saw before: a fresh gold text would stand out
        assert all(_text(t) in seen_texts for t in new)
        # and the earlier copy of each new task had low agreement: the gold copy too
        earlier = {_text(t): t["meta"]["iaa"]["agreement"]["overall"] for t in before}
        assert {earlier[_text(t)] for t in new} == {0.0}
        # the batch's label, id and the installation's secret appear nowhere the annotator reads
        # (the project's title is left out: the test names it after itself)
        project = _read(label_studio, prober, f"/api/projects/{loop.project_id}/")
        everything = json.dumps([project["description"], project["label_config"], after])
        for secret in ("reannotation", batch, task_key_secret(loop.store), "contentious"):
            assert secret not in everything
        # the same gold item is never offered twice at once (its copy waits like the others)
        again = CliRunner().invoke(
            app, ["reannotate", "p", "-c", str(loop.config.path), "--below", "0.5"]
        )
        assert "no item to push again" in again.output
    finally:
        loop.store.close()


def _split_gold_and_x1(loop: Loop, first: str, second: str) -> str:
    """Push 9 items and 3 gold; x-1 and the gold task are split (agreement 0), x-0 agreed.
    Returns the gold task's prompt."""
    loop.push(_items("x", 9), gold=_items("g", 3, gold=True))
    mappings = loop.store.task_mappings("p")
    by_item = {m.item_key: task for task, m in mappings.items()}
    gold_task = next(task for task, m in mappings.items() if m.kind == "gold")
    for token, x0, x1, gold in ((first, "a", "a", "a"), (second, "a", "b", "b")):
        for task, value in ((by_item["x-0"], x0), (by_item["x-1"], x1), (gold_task, gold)):
            loop.annotate(token, task, _choice(_left_for(value, loop.side(task))))
    loop.sync()
    return f"Question g {mappings[gold_task].item_key.split('-')[1]}?"


def _low_prompts(tasks: Iterable[dict[str, Any]]) -> set[str]:
    """Prompts of the tasks whose agreement (task meta, readable by every member) is below 0.5."""
    return {
        t["data"]["prompt"]
        for t in tasks
        if t["meta"] and t["meta"]["iaa"]["agreement"].get("overall", 1.0) < 0.5
    }


def test_on_one_label_studio_an_ordinary_annotator_reads_the_adjudication_project(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    """Why adjudication_platform exists: Label Studio Community shows every project of the
    organization to every member. What the annotator reads there holds no gold item and no
    account, but the low-agreement tasks that are *not* queued are the gold ones."""
    world = Adjudication(label_studio, tmp_path)
    loop = world.loop
    first, second = label_studio.annotator_tokens[:2]
    try:
        gold_prompt = _split_gold_and_x1(loop, first, second)
        world.cli("adjudication", "queue", "p")
        # the first annotator is a member of nothing in particular
        projects = _read(label_studio, first, "/api/projects/", page_size=1000)["results"]
        assert world.project_id in {p["id"] for p in projects}
        queued = _tasks_as(label_studio, first, world.project_id)
        assert [t["data"]["prompt"] for t in queued] == ["Question x 1?"]
        text = json.dumps(queued)
        assert gold_prompt not in text
        for n in (1, 2, 3):
            assert f"annotator{n}" not in text
        # the inference the same-server set-up allows (documented in docs/security.md)
        low = _low_prompts(_tasks_as(label_studio, first, loop.project_id))
        assert low - {t["data"]["prompt"] for t in queued} == {gold_prompt}
    finally:
        loop.store.close()


@pytest.fixture(scope="module")
def seniors_server(label_studio: LabelStudioServer) -> Iterator[LabelStudioServer]:
    """A second Label Studio whose only annotator account is the senior's (annotator1)."""
    server = _start_server(annotators=1)
    try:
        # the server starts from the test servers' data template, with the same fixed tokens
        # for every annotator: annotator2 and annotator3 get new ones there, so that their
        # tokens on the main server open no account on this one
        for token in label_studio.annotator_tokens[1:3]:
            reset = requests.post(
                f"{server.url}/api/current-user/reset-token/", headers=_headers(token), timeout=30
            )
            reset.raise_for_status()
        yield server
    finally:
        server.stop()


def test_an_adjudication_project_on_its_own_platform_is_out_of_annotators_reach(
    label_studio: LabelStudioServer, seniors_server: LabelStudioServer, tmp_path: Path
) -> None:
    created = requests.post(
        f"{seniors_server.url}/api/projects/",
        json={"title": "adjudication"},
        headers=_headers(seniors_server.admin_token),
        timeout=30,
    )
    created.raise_for_status()
    desk_id = int(created.json()["id"])
    os.environ[SENIORS_TOKEN_ENV] = seniors_server.admin_token
    loop = Loop(
        label_studio,
        tmp_path,
        # an empty [server] table, then the seniors' platform before the project's own
        server_toml=f'[[platforms]]\nname = "seniors"\nkind = "label-studio"\n'
        f'url = "{seniors_server.url}"\ntoken_env = "{SENIORS_TOKEN_ENV}"\n',
        project_toml=f'adjudication_project_id = {desk_id}\nadjudication_platform = "seniors"\n',
    )
    config = loop.config.path
    # annotator2 and 3 judge; the seniors' server has one account besides its admin, annotator1
    # (the test servers' tokens are fixed per user name: annotator1's opens both servers)
    first, second = label_studio.annotator_tokens[1:3]
    try:
        gold_prompt = _split_gold_and_x1(loop, first, second)
        before = _visible_tasks(label_studio, first)
        queued = CliRunner().invoke(app, ["adjudication", "queue", "p", "--config", str(config)])
        assert queued.exit_code == 0, queued.output
        assert "1 queued now" in queued.output
        on_desk = requests.get(
            f"{seniors_server.url}/api/tasks/",
            params={"project": desk_id, "fields": "all"},
            headers=_headers(seniors_server.annotator_tokens[0]),  # the senior reads it
            timeout=30,
        )
        on_desk.raise_for_status()
        assert [t["data"]["prompt"] for t in on_desk.json()["tasks"]] == ["Question x 1?"]
        # the ordinary annotator: the queue added no task to anything they can read, and their
        # token opens nothing on the seniors' server
        assert _visible_tasks(label_studio, first) == before
        refused = requests.get(
            f"{seniors_server.url}/api/projects/", headers=_headers(first), timeout=30
        )
        assert refused.status_code == 401
        # so the low-agreement tasks they see cannot be split into queued and not queued
        assert gold_prompt in _low_prompts(_tasks_as(label_studio, first, loop.project_id))
    finally:
        loop.store.close()


def _items_file(path: Path, items: Iterable[Item]) -> Path:
    path.write_text(
        "".join(
            json.dumps(
                {
                    "item_key": i.item_key,
                    "prompt": i.prompt,
                    "response_a": i.response_a,
                    "response_b": i.response_b,
                }
            )
            + "\n"
            for i in items
        )
    )
    return path


def test_a_validation_batch_of_a_new_version_and_a_production_push_hide_their_gold(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    """The validation batch of v2 repeats v1's items (the gate compares matched items): its
    gold repeats earlier tasks too. A production batch of new items gets gold never shown."""
    v1, v2 = (tmp_path / f"v{n}.yaml" for n in (1, 2))
    for n, path in ((1, v1), (2, v2)):
        path.write_text(rubric_yaml(n, size=(10, 30), gold_share=0.1))
    gold = str(_gold_file(tmp_path, _items("g", 8, gold=True)))
    loop = Loop(label_studio, tmp_path, rubric_path=v1, gold=gold)
    first, second, prober = label_studio.annotator_tokens[:3]
    runner = CliRunner()
    config = loop.config.path

    def push(items: Path, *options: str) -> list[dict[str, Any]]:
        """Push through the command line; the tasks it created, as the prober reads them."""
        before = {t["id"] for t in _tasks_as(label_studio, prober, loop.project_id)}
        pushed = runner.invoke(
            app, ["push", "p", "--items", str(items), *options, "-c", str(config)]
        )
        assert pushed.exit_code == 0, pushed.output
        after = _tasks_as(label_studio, prober, loop.project_id)
        return [t for t in after if t["id"] not in before]

    try:
        production = push(_items_file(tmp_path / "x.jsonl", _items("x", 12)))
        assert len(production) == 13  # 12 items and 1 gold
        for task in production:
            for token in (first, second):
                loop.annotate(token, str(task["id"]), _choice("left"))
        loop.sync()
        shown = {_text(t) for t in production}

        config.write_text(config.read_text().replace(str(v1), str(v2)))
        validation = push(
            _items_file(tmp_path / "x.jsonl", _items("x", 12)), "--kind", "validation"
        )
        roles = {
            m.kind
            for t, m in loop.store.task_mappings("p").items()
            if int(t) in {v["id"] for v in validation}
        }
        assert roles == {"validation", "gold"}  # gold is mixed in
        assert _shapes(validation) == _shapes(production)
        # every task of the validation batch repeats one seen before: no fresh gold text
        assert all(_text(t) in shown for t in validation)

        # promoted (recorded as the command would), a batch of new items: its gold is new too
        promoted = RubricPromotion(
            project_key="p", rubric_hash=load_rubric(v2, check_layout=False).content_hash,
            rubric_id="gatetest", version="2", promoted_by="lead", promoted_at=datetime.now(UTC),
            evidence={},
        )  # fmt: skip
        assert loop.store.record_promotion(promoted)
        fresh = push(_items_file(tmp_path / "y.jsonl", _items("y", 12)), "--label", "after")
        seen = shown | {_text(t) for t in validation}
        assert not any(_text(t) in seen for t in fresh)
        everything = json.dumps(_tasks_as(label_studio, prober, loop.project_id))
        for word in ("validation", "gatetest", "promot", "gold"):
            assert word not in everything
    finally:
        loop.store.close()


def test_per_item_agreement_on_rankings_and_signed_scales_is_pooled_and_names_nobody(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    """What the write-back puts in task meta (and Data Manager columns) for a ranking and a
    signed scale, read with an annotator's token: one pooled figure per item and scored
    dimension, no annotator, no gold, no batch."""
    seen: dict[str, Any] = {}
    first, second, prober = label_studio.annotator_tokens[:3]
    for folder in ("ranking", "signed"):
        (tmp_path / folder).mkdir()
    ranking = Loop(
        label_studio, tmp_path / "ranking", rubric_path=RANKING_RUBRIC,
        project_toml="data_manager_column = true\n",
    )  # fmt: skip
    try:
        imported = requests.post(
            f"{label_studio.url}/api/projects/{ranking.project_id}/import",
            json=[
                {
                    "data": {
                        "item_id": f"r-{i}",
                        "prompt": f"Question {i}?",
                        "order_responses": [
                            {"id": o, "title": f"Response {o.upper()}", "body": f"{o} {i}."}
                            for o in "abcd"
                        ],
                    }
                }
                for i in range(3)
            ],
            headers=_headers(label_studio.admin_token),
            timeout=60,
        )
        imported.raise_for_status()
        for task in ranking.tasks():
            ranking.annotate(first, str(task["id"]), _ranked(["b", "a", "c", "d"]))
            ranking.annotate(second, str(task["id"]), _ranked(["b", "c", "a", "d"]))
        ranking.sync()
        seen["ranking"] = _tasks_as(label_studio, prober, ranking.project_id)
        names = set(ranking.store.judgments_frame("p")["annotator"])
    finally:
        ranking.store.close()
    signed = Loop(label_studio, tmp_path / "signed", rubric_path=SIGNED_RUBRIC)
    try:
        signed.push(_items("s", 4))
        for task in signed.tasks():
            signed.annotate(first, str(task["id"]), _choice("-3", "preference"))
            signed.annotate(second, str(task["id"]), _choice("-1", "preference"))
        signed.sync()
        seen["signed"] = _tasks_as(label_studio, prober, signed.project_id)
        names |= set(signed.store.judgments_frame("p")["annotator"])
    finally:
        signed.store.close()
    for kind, tasks in seen.items():
        for task in tasks:
            iaa = task["meta"]["iaa"]
            assert set(task["meta"]) == {"iaa"}, kind
            assert set(iaa) == {"agreement", "n_judgments"}, kind
            assert set(iaa["agreement"]) == set(iaa["n_judgments"]), kind
            assert all(v is None or isinstance(v, float) for v in iaa["agreement"].values())
            assert all(n == 2 for n in iaa["n_judgments"].values()), (kind, iaa)  # pooled: both
        # what the connector wrote (the annotations themselves name their authors: Label Studio)
        written = [
            (t["meta"], {k: v for k, v in t["data"].items() if k.startswith("iaa_")}) for t in tasks
        ]
        text = json.dumps(written)
        for word in (*names, "gold", "annotator", "batch"):
            assert word not in text, (kind, word)
    columns = {k for t in seen["ranking"] for k in t["data"] if k.startswith("iaa_")}
    assert columns == {f"iaa_agreement_{d}" for d in seen["ranking"][0]["meta"]["iaa"]["agreement"]}
