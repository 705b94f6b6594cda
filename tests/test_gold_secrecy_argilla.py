"""Gold stays secret in a re-annotation batch on a real Argilla, probed with an annotator's
own API key (the Label Studio probes: tests/test_gold_secrecy_program.py; docs/security.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from argilla_server import ArgillaServer
from test_argilla_loop import Loop, _headers, _items
from test_gold_secrecy import _gold_file
from typer.testing import CliRunner

from connector.cli import app

pytestmark = pytest.mark.argilla

SPLIT = 3  # items x-0 .. x-2: the two annotators disagree


def _records_as(server: ArgillaServer, key: str, dataset_id: str) -> list[dict[str, Any]]:
    response = requests.post(  # what the annotator's UI asks for: every record, any status
        f"{server.url}/api/v1/me/datasets/{dataset_id}/records/search",
        params={"limit": 1000},
        json={},
        headers=_headers(key),
        timeout=30,
    )
    response.raise_for_status()
    records: list[dict[str, Any]] = [item["record"] for item in response.json()["items"]]
    return records


def _text(record: dict[str, Any]) -> tuple[str, ...]:
    """What an annotator recognises a record by: its field values (either side)."""
    return tuple(sorted(str(v) for v in record["fields"].values()))


def test_a_reannotation_batch_on_argilla_reads_like_the_items_it_repeats(
    argilla: ArgillaServer, tmp_path: Path
) -> None:
    gold_items = [
        item.__class__(
            item_key=f"g-{i}", prompt=f"Gold question {i}?", response_a=item.response_a,
            response_b=item.response_b, category="test", answers={"overall": "a"},
        )
        for i, item in enumerate(_items(6))
    ]  # fmt: skip
    loop = Loop(argilla, tmp_path, gold=str(_gold_file(tmp_path, gold_items)))
    good, other, prober = argilla.annotator_api_keys[:3]
    config = str(loop.config.path)
    items = tmp_path / "items.jsonl"
    items.write_text(
        "".join(
            json.dumps({"item_key": i.item_key, "prompt": i.prompt, "response_a": i.response_a,
                        "response_b": i.response_b}) + "\n"
            for i in _items(12)
        )
    )  # fmt: skip
    try:
        pushed = CliRunner().invoke(app, ["push", "p", "--items", str(items), "-c", config])
        assert pushed.exit_code == 0, pushed.output
        mappings = loop.store.task_mappings("p")
        [shown_gold] = [m.item_key for m in mappings.values() if m.kind == "gold"]
        for record in loop.records():
            rid = str(record["id"])
            item = mappings[rid].item_key
            split = item == shown_gold or int(item.split("-")[1]) < SPLIT
            loop.respond(good, rid, {"overall": loop.shown_for("a", rid)})
            loop.respond(other, rid, {"overall": loop.shown_for("b" if split else "a", rid)})
        loop.sync()
        before = _records_as(argilla, prober, loop.dataset_id)
        seen = {_text(r) for r in before}

        again = CliRunner().invoke(app, ["reannotate", "p", "-c", config, "--below", "0.5"])
        assert again.exit_code == 0, again.output
        batch = loop.store.reannotations("p")[0].batch_id
        roles = {str(b.platform_task_id): b.role for b in loop.store.batch_items(batch)}
        assert sorted(roles.values()) == ["contentious"] * SPLIT + ["gold"]

        after = _records_as(argilla, prober, loop.dataset_id)
        new = [r for r in after if str(r["id"]) in roles]
        assert len(new) == len(roles) == len(after) - len(before)
        assert {tuple(sorted(r["fields"])) for r in new} == {
            tuple(sorted(r["fields"])) for r in before
        }
        assert all(_text(r) in seen for r in new)  # no fresh text: the gold copy repeats too
        # nothing the annotator reads names the batch, its role, gold or a per-record figure
        text = json.dumps(after)
        for word in (batch, "reannotation", "contentious", "gold", "iaa_agreement"):
            assert word not in text
    finally:
        loop.store.close()


def test_an_adjudication_dataset_in_the_seniors_workspace_is_out_of_annotators_reach(
    argilla: ArgillaServer, tmp_path: Path
) -> None:
    """Argilla shows a dataset to its workspace's members only: the adjudication dataset goes
    into a workspace whose only member is the senior (docs/security.md)."""
    owner = _headers(argilla.owner_api_key)
    ordinary, other, senior = argilla.annotator_api_keys[:3]

    def call(method: str, path: str, key: str | None = None, **kwargs: Any) -> Any:
        headers = owner if key is None else _headers(key)
        return requests.request(
            method, f"{argilla.url}/api/v1{path}", headers=headers, timeout=30, **kwargs
        )

    workspace = call("POST", "/workspaces", json={"name": f"seniors-{tmp_path.name[-8:]}"})
    workspace.raise_for_status()
    workspace_id = workspace.json()["id"]
    senior_id = call("GET", "/me", senior).json()["id"]
    call("POST", f"/workspaces/{workspace_id}/users", json={"user_id": senior_id})
    members = call("GET", f"/workspaces/{workspace_id}/users").json()["items"]
    assert [m["id"] for m in members] == [senior_id]
    desk = call("POST", "/datasets", json={"name": "adjudication", "workspace_id": workspace_id})
    desk.raise_for_status()
    desk_id = str(desk.json()["id"])

    loop = Loop(argilla, tmp_path)
    config = loop.config.path
    with config.open("a", encoding="utf-8") as toml:
        toml.write(f'adjudication_project_id = "{desk_id}"\n')
    try:
        loop.push(_items(4))
        for record in loop.records():
            rid = str(record["id"])
            loop.respond(ordinary, rid, {"overall": loop.shown_for("a", rid)})
            loop.respond(other, rid, {"overall": loop.shown_for("b", rid)})
        loop.sync()
        queued = CliRunner().invoke(app, ["adjudication", "queue", "p", "--config", str(config)])
        assert queued.exit_code == 0, queued.output
        assert "4 queued now" in queued.output
        assert len(_records_as(argilla, senior, desk_id)) == 4  # the senior reads them
        # the ordinary annotator: not listed, not readable, not searchable
        listed = {d["id"] for d in call("GET", "/me/datasets", ordinary).json()["items"]}
        assert desk_id not in listed
        assert call("GET", f"/datasets/{desk_id}", ordinary).status_code == 403
        search = call("POST", f"/me/datasets/{desk_id}/records/search", ordinary, json={})
        assert search.status_code == 403
        assert "Question" not in search.text
    finally:
        loop.store.close()
