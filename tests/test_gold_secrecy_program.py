"""Gold stays secret on the surfaces of the calibration program, probed as an annotator.

Each test acts as an ordinary annotator would, with the annotator's own token, against a real
Label Studio: it reads everything the API lets it read after a re-annotation push, a validation
batch and a production push after ``rubric promote``, and in the adjudication project; and it
tries the service's routes without the lead's token. A leak fails the test. See
docs/security.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import requests
from labelstudio_server import LabelStudioServer
from test_gold_secrecy import _gold_file
from test_labelstudio_loop import Loop, _choice, _headers, _items, _left_for
from typer.testing import CliRunner

from connector.calibration.push import task_key_secret
from connector.cli import app

pytestmark = pytest.mark.labelstudio

SPLIT = 4  # items x-0 .. x-3: the two annotators disagree


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
