"""An adjudication round trip against a real Argilla server (a second dataset).

Two annotators respond to pushed records with their own API keys; the sync pulls;
``iaa-connector adjudication queue`` gives a draft dataset the adjudication fields and
questions, publishes it and creates a record for the low-agreement item; the senior (a third
user, their own key) submits a ruling there; ``adjudication pull`` stores it; the ruled value
wins in ``iaa-connector consensus`` and is nowhere in the judgments or the report; a second
queue run queues nothing.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from argilla_server import ArgillaServer
from test_argilla_loop import Loop, _headers, _items
from typer.testing import CliRunner

from connector.cli import app
from connector.config import load_config
from connector.platforms.argilla.settings import SettingsError
from connector.report.build import build_report

pytestmark = pytest.mark.argilla

SENIOR = "annotator3"


class Adjudication:
    """The test's dataset (a Loop) and a second, draft dataset for adjudication."""

    def __init__(self, server: ArgillaServer, tmp_path: Path) -> None:
        self.loop = Loop(server, tmp_path)
        self.server = server
        workspaces = requests.get(
            f"{server.url}/api/v1/me/workspaces", headers=_headers(server.owner_api_key), timeout=30
        ).json()["items"]
        workspace = next(w for w in workspaces if w["name"] == "iaa")
        created = requests.post(
            f"{server.url}/api/v1/datasets",
            json={"name": f"adj-{uuid.uuid4().hex[:10]}", "workspace_id": workspace["id"]},
            headers=_headers(server.owner_api_key),
            timeout=30,
        )
        created.raise_for_status()
        self.dataset_id = str(created.json()["id"])
        self.config_path = tmp_path / "iaa.toml"
        with self.config_path.open("a", encoding="utf-8") as config:
            config.write(f'adjudication_project_id = "{self.dataset_id}"\n')
        self.loop.config = load_config(self.config_path)

    def cli(self, *args: str) -> Any:
        result = CliRunner().invoke(app, [*args, "--config", str(self.config_path)])
        assert result.exit_code == 0, result.output
        return result

    def records(self) -> list[dict[str, Any]]:
        payload = requests.get(
            f"{self.server.url}/api/v1/datasets/{self.dataset_id}/records",
            params={"include": "responses", "limit": 1000},
            headers=_headers(self.server.owner_api_key),
            timeout=30,
        ).json()
        items: list[dict[str, Any]] = payload["items"]
        return items


@pytest.fixture
def adjudication(argilla: ArgillaServer, tmp_path: Path) -> Iterator[Adjudication]:
    world = Adjudication(argilla, tmp_path)
    try:
        yield world
    finally:
        world.loop.store.close()


def test_an_adjudication_round_trip(adjudication: Adjudication) -> None:
    loop, server = adjudication.loop, adjudication.server
    loop.push(_items(4))
    by_item = {m.item_key: record for record, m in loop.store.task_mappings("p").items()}
    first, second = server.annotator_api_keys[:2]
    # x-0: both say a (agreement 1); x-1: a against tie (0)
    for key, x0, x1 in ((first, "a", "a"), (second, "a", "tie")):
        for item, value in (("x-0", x0), ("x-1", x1)):
            record = by_item[item]
            loop.respond(key, record, {"overall": loop.shown_for(value, record)})
    loop.sync(write_back=False)

    queued = adjudication.cli("adjudication", "queue", "p")
    assert "1 item-dimension(s) below 0.5: 1 queued now" in queued.output
    [record] = adjudication.records()
    fields = record["fields"]
    assert fields["prompt"] == "Question 1?"
    assert fields["response_a"] == "Answer A to 1."  # canonical order
    assert "Annotator 1: a" in fields["judgments"]
    assert "Annotator 2: tie" in fields["judgments"]
    assert "annotator" not in json.dumps(fields).replace("Annotator", "")  # no account shown
    assert record["external_id"].endswith("-overall")

    response = requests.post(
        f"{server.url}/api/v1/records/{record['id']}/responses",
        json={
            "values": {
                "ruling_overall": {"value": "a"},
                "reason": {"value": "A is correct; the tie undersells it"},
            },
            "status": "submitted",
        },
        headers=_headers(server.annotator_api_keys[2]),
        timeout=30,
    )
    response.raise_for_status()

    pulled = adjudication.cli("adjudication", "pull", "p")
    assert "1 ruling(s) recorded, 0 not recorded" in pulled.output
    [ruling] = loop.store.ruling_log("p")
    assert (ruling.item_key, ruling.value, ruling.ruled_by) == ("x-1", "a", SENIOR)
    assert ruling.reason == "A is correct; the tie undersells it"

    consensus = adjudication.cli("consensus", "p", "--method", "majority")
    rows = {r["item_id"]: r for r in csv.DictReader(io.StringIO(consensus.stdout))}
    assert rows["x-1"]["label"] == "a"
    assert rows["x-1"]["adjudicated"] == "True"
    assert rows["x-1"]["tied"] == "True"  # the votes stay as they were
    assert rows["x-1"]["n_judgments"] == "2"

    loop.sync(write_back=False)
    frame = loop.store.judgments_frame("p")
    assert SENIOR not in set(frame["annotator"])
    assert len(frame) == 4
    assert SENIOR not in json.dumps(build_report(frame, loop.rubric))

    again = adjudication.cli("adjudication", "queue", "p")
    assert "0 queued now, 1 queued before, 0 task(s) created" in again.output
    assert len(adjudication.records()) == 1


def test_a_published_dataset_without_the_questions_is_refused(adjudication: Adjudication) -> None:
    loop = adjudication.loop
    with pytest.raises(SettingsError, match="no question named 'ruling_overall'"):
        loop.platform.prepare_adjudication_project(loop.dataset_id, loop.rubric)
