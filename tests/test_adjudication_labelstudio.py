"""An adjudication round trip against a real Label Studio server.

Two annotators judge pushed tasks (a gold task among them) with their own tokens; the sync
pulls; ``iaa-connector adjudication queue`` sends the low-agreement item (not the gold one)
to a separate, empty project, whose form it sets; the senior (a third user, their own token)
answers there; ``adjudication pull`` stores the ruling; the ruled value wins in
``iaa-connector consensus`` and is nowhere in the judgments or the report; a second queue run
queues nothing.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from labelstudio_server import LabelStudioServer
from test_labelstudio_loop import Loop, _choice, _items, _left_for
from typer.testing import CliRunner

from connector.cli import app
from connector.config import load_config
from connector.platforms.label_studio.labelconfig import LabelConfigError
from connector.report.build import build_report

pytestmark = pytest.mark.labelstudio

SENIOR = "annotator3@iaa.local"


class Adjudication:
    """The test's project (a Loop) and its adjudication project."""

    def __init__(self, server: LabelStudioServer, tmp_path: Path) -> None:
        created = requests.post(
            f"{server.url}/api/projects/",
            json={"title": f"adjudication {tmp_path.name}"[:50]},
            headers=server.headers(server.admin_token),
            timeout=30,
        )
        created.raise_for_status()
        self.project_id = int(created.json()["id"])
        self.loop = Loop(
            server, tmp_path, project_toml=f"adjudication_project_id = {self.project_id}\n"
        )
        self.server = server
        self.config_path = tmp_path / "iaa.toml"

    def cli(self, *args: str) -> Any:
        result = CliRunner().invoke(app, [*args, "--config", str(self.config_path)])
        assert result.exit_code == 0, result.output
        return result

    def tasks(self) -> list[dict[str, Any]]:
        response = requests.get(
            f"{self.server.url}/api/tasks/",
            params={"project": self.project_id, "fields": "all", "page_size": 1000},
            headers=self.server.headers(self.server.admin_token),
            timeout=30,
        )
        response.raise_for_status()
        tasks: list[dict[str, Any]] = response.json()["tasks"]
        return tasks


@pytest.fixture
def adjudication(label_studio: LabelStudioServer, tmp_path: Path) -> Iterator[Adjudication]:
    world = Adjudication(label_studio, tmp_path)
    try:
        yield world
    finally:
        world.loop.store.close()


def test_an_adjudication_round_trip(adjudication: Adjudication) -> None:
    loop, server = adjudication.loop, adjudication.server
    loop.push(_items("x", 9), gold=_items("g", 3, gold=True))
    mappings = loop.store.task_mappings("p")
    by_item = {m.item_key: task for task, m in mappings.items()}
    gold_task = next(task for task, m in mappings.items() if m.kind == "gold")
    first, second = server.annotator_tokens[:2]
    # x-0: both say a (agreement 1); x-1: a against b (0); the gold task: a against b (0)
    for token, x0, x1, gold in ((first, "a", "a", "a"), (second, "a", "b", "b")):
        for task, value in ((by_item["x-0"], x0), (by_item["x-1"], x1), (gold_task, gold)):
            loop.annotate(token, task, _choice(_left_for(value, loop.side(task))))
    loop.sync(write_back=False)

    queued = adjudication.cli("adjudication", "queue", "p")
    assert "1 item-dimension(s) below 0.5: 1 queued now" in queued.output
    assert "1 gold item-dimension(s) left out" in queued.output
    [task] = adjudication.tasks()
    data = task["data"]
    assert data["dimension"] == "overall"
    assert data["prompt"] == "Question x 1?"
    assert data["response_a"] == "Answer A to 1, short."  # canonical order
    assert "Annotator 1: a" in data["judgments"]
    assert "Annotator 2: b" in data["judgments"]
    assert "iaa.local" not in json.dumps(data)  # no account is shown
    assert "x-1" not in json.dumps(data)  # nor the item key

    senior_token = server.annotator_tokens[2]
    # gold secrecy: what a member of the adjudication project reads holds no gold item
    seen = requests.get(
        f"{server.url}/api/tasks/",
        params={"project": adjudication.project_id, "fields": "all"},
        headers=server.headers(senior_token),
        timeout=30,
    )
    seen.raise_for_status()
    assert len(seen.json()["tasks"]) == 1
    assert "Question g" not in seen.text
    assert mappings[gold_task].item_key not in seen.text
    response = requests.post(
        f"{server.url}/api/tasks/{task['id']}/annotations/",
        json={
            "result": [
                {
                    "from_name": "ruling_overall",
                    "to_name": "prompt",
                    "type": "choices",
                    "value": {"choices": ["b"]},
                },
                {
                    "from_name": "reason",
                    "to_name": "prompt",
                    "type": "textarea",
                    "value": {"text": ["B answers what was asked"]},
                },
            ],
            "ground_truth": False,
        },
        headers=server.headers(senior_token),
        timeout=30,
    )
    response.raise_for_status()

    pulled = adjudication.cli("adjudication", "pull", "p")
    assert "1 ruling(s) recorded, 0 not recorded" in pulled.output
    [ruling] = loop.store.ruling_log("p")
    assert (ruling.item_key, ruling.value, ruling.ruled_by) == ("x-1", "b", SENIOR)
    assert ruling.reason == "B answers what was asked"

    consensus = adjudication.cli("consensus", "p", "--method", "majority")
    rows = {r["item_id"]: r for r in csv.DictReader(io.StringIO(consensus.stdout))}
    assert rows["x-1"]["label"] == "b"
    assert rows["x-1"]["adjudicated"] == "True"
    assert rows["x-1"]["n_judgments"] == "2"  # the ruling is not a vote
    assert rows["x-0"]["adjudicated"] == "False"

    loop.sync(write_back=False)
    frame = loop.store.judgments_frame("p")
    assert SENIOR not in set(frame["annotator"])
    assert len(frame) == 6
    report = build_report(frame, loop.rubric)
    assert SENIOR not in json.dumps(report)

    log = adjudication.cli("adjudication", "log", "p", "--format", "jsonl")
    assert json.loads(log.stdout)["ruled_by"] == SENIOR

    again = adjudication.cli("adjudication", "queue", "p")
    assert "0 queued now, 1 queued before, 0 task(s) created" in again.output
    assert len(adjudication.tasks()) == 1
    assert load_config(adjudication.config_path).project("p").adjudication_below == 0.5


def test_a_project_with_tasks_and_another_form_is_refused(adjudication: Adjudication) -> None:
    loop = adjudication.loop
    # the annotated project itself has tasks and its own form: the check names what is missing
    loop.push(_items("y", 2))
    with pytest.raises(LabelConfigError, match="no Choices named 'ruling_overall'"):
        loop.platform.prepare_adjudication_project(str(loop.project_id), loop.rubric)


def test_a_calibration_session_whose_rulings_become_gold_under_v2(
    adjudication: Adjudication,
) -> None:
    """Pack from a real project's judgments, rulings recorded, made gold once the project's
    rubric is version 2."""
    loop, server = adjudication.loop, adjudication.server
    loop.push(_items("x", 9), gold=_items("g", 3, gold=True))
    mappings = loop.store.task_mappings("p")
    by_item = {m.item_key: task for task, m in mappings.items()}
    gold_task = next(task for task, m in mappings.items() if m.kind == "gold")
    first, second = server.annotator_tokens[:2]
    for token, x1, x2, gold in ((first, "a", "a", "a"), (second, "tie", "b", "b")):
        for task, value in ((by_item["x-1"], x1), (by_item["x-2"], x2), (gold_task, gold)):
            loop.annotate(token, task, _choice(_left_for(value, loop.side(task))))
    loop.sync(write_back=False)

    out = adjudication.config_path.parent / "pack"
    said = adjudication.cli("calibration-session", "p", "--out", str(out), "--session", "s1")
    assert "session s1: 2 item(s)" in said.output
    page = (out / "s1.html").read_text()
    assert "x-1" in page
    assert "a vs tie" in page
    assert "Question x 1?" in page
    assert mappings[gold_task].item_key not in page

    rulings = out / "s1-rulings.csv"
    rulings.write_text(
        "item_id,dimension,value,reason,ruled_by\n"
        "x-1,overall,a,A answers; a tie undersells it,admin@iaa.local\n"
        "x-2,overall,b,B is complete,admin@iaa.local\n"
    )
    args = ("calibration-session", "p", "--session", "s1", "--rulings", str(rulings))
    refused = CliRunner().invoke(
        app, [*args, "--make-gold", "--config", str(adjudication.config_path)]
    )
    assert refused.exit_code == 2
    assert "judged under rlhf-pairwise@v1" in refused.output
    v2 = Path(__file__).resolve().parents[1] / "rubrics" / "rlhf-pairwise" / "v2.yaml"
    text = adjudication.config_path.read_text().replace(str(loop.rubric.path), str(v2))
    adjudication.config_path.write_text(text + 'gold_authors = ["admin@iaa.local"]\n')
    made = adjudication.cli(*args, "--make-gold")
    assert "x-1 overall: gold: new gold answer from admin@iaa.local" in made.output
    gold = loop.store.gold_for("p")[("x-1", "overall")]
    assert (gold.value, gold.source, gold.set_by) == ("a", "adjudicated", "admin@iaa.local")
    consensus = adjudication.cli("consensus", "p", "--method", "majority")
    rows = {r["item_id"]: r for r in csv.DictReader(io.StringIO(consensus.stdout))}
    assert rows["x-1"]["label"] == "a"
    assert rows["x-1"]["adjudicated"] == "True"
    # the gold answer stays connector-side: nothing on the platform's tasks says it
    assert "adjudicated" not in json.dumps(loop.tasks())

    # the team judges the ruled items again in a batch of their own: before / after
    _, again = loop.push(_items("x", 3)[1:], label="after-s1")
    assert again.created == 2
    fresh = {
        m.item_key: task
        for task, m in loop.store.task_mappings("p").items()
        if m.batch_id == again.batch_id
    }
    for token in (first, second):
        for item, value in (("x-1", "a"), ("x-2", "b")):
            task = fresh[item]
            loop.annotate(token, task, _choice(_left_for(value, loop.side(task))))
    loop.sync(write_back=False)
    compared = adjudication.cli(
        "calibration-session", "p", "--session", "s1", "--compare-batch", again.batch_id
    )
    # before: x-1 (a, tie), x-2 (a, b): every pair disagrees, D_o = 1; n = 4 values (a 2, b 1,
    # tie 1), D_e = (16 - 4 - 1 - 1) / (4 * 3) = 10/12; alpha = 1 - 12/10 = -0.2 (nominal)
    assert "overall: 2 item(s); alpha before -0.200 (no interval: 2 pairable items" in (
        compared.output
    )
    assert "after 1.000 (no interval: 2 pairable items" in compared.output
