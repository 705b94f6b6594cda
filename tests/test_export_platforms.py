"""``iaa-connector export PROJECT`` from a project synced from a real Label Studio and a real
Argilla server (the loop tests' ``Loop`` helpers set them up), checked row by row against the
store: texts from the store's items, task ids, batch, display side, votes, the agreement the
write-back wrote, flagged annotators' votes left out and gold items excluded.

Three annotators: the first answers 21 gold items right (qualified), the second wrong
(retraining: flagged), the third answers no gold (no status); four ordinary items (VOTES)
decide, split without the flagged annotator, or tie.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import test_argilla_loop as argilla_loop
import test_labelstudio_loop as ls_loop
from argilla_server import ArgillaServer
from labelstudio_server import LabelStudioServer
from typer.testing import CliRunner

from connector.calibration.item import Item
from connector.cli import app

N_GOLD = 21
# canonical values of annotators 1, 2 and 3 on each ordinary item
VOTES = {
    "x-0": ("a", "b", "a"),  # a; without the flagged annotator a, 2 of 2
    "x-1": ("b", "a", "a"),  # a with the flagged annotator; without: a tied vote (sidecar)
    "x-2": ("tie", "tie", "tie"),  # non-decisive (sidecar)
    "x-3": ("b", "b", "b"),  # b
}
GOLD_ANSWERS = ("a", "b", None)  # the third annotator answers no gold item


def _items() -> list[Item]:
    keys = [f"g-{i:02d}" for i in range(N_GOLD)] + sorted(VOTES)
    return [
        Item(
            item_key=key,
            prompt=f"Prompt of {key}?",
            response_a=f"Response A of {key}.",
            response_b=f"Response B of {key}, longer.",
            category="test",
            answers={},
        )
        for key in keys
    ]


def _gold_file(tmp_path: Path) -> Path:
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        "".join(
            json.dumps(
                {
                    "item_key": f"g-{i:02d}",
                    "prompt": "p",
                    "response_a": "x",
                    "response_b": "y",
                    "answers": {"overall": "a"},
                }
            )
            + "\n"
            for i in range(N_GOLD)
        )
    )
    return gold


def _value(item_key: str, annotator: int) -> str | None:
    return GOLD_ANSWERS[annotator] if item_key.startswith("g-") else VOTES[item_key][annotator]


def _export(config: Path, out: Path, *extra: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(app, ["export", "p", "-c", str(config), "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in out.read_text().splitlines()]


def _check(loop: Any, tmp_path: Path, flagged: str) -> None:
    """The export of the synced project ``loop``, row by row against its store."""
    store = loop.store
    tasks = store.task_mappings("p")
    by_item = {t.item_key: t for t in tasks.values()}
    texts = {row.item_key: row.payload for row in store.items_with_payload("p")}
    frame = store.judgments_frame("p")
    statuses = {a: d.status for a, d in store.current_statuses("p", loop.rubric.id).items()}
    assert statuses[flagged] == "retraining"

    out = tmp_path / "pairs.jsonl"
    rows = _export(loop.config.path, out)
    assert [r["item_id"] for r in rows] == ["x-0", "x-3"]
    for row in rows:
        item = row["item_id"]
        task = by_item[item]
        judged = frame[(frame["item_id"] == item) & (frame["annotator"] != flagged)]
        chosen = row["chosen_response"]
        other = "b" if chosen == "a" else "a"
        assert row["prompt"] == texts[item]["prompt"]
        assert row["chosen"] == texts[item][f"response_{chosen}"]
        assert row["rejected"] == texts[item][f"response_{other}"]
        assert chosen == judged["value"].mode().iloc[0]
        assert row["votes"] == {v: int((judged["value"] == v).sum()) for v in ("a", "b", "tie")}
        assert row["n_votes"] == len(judged) == 2
        assert row["task_ids"] == [task.platform_task_id]
        assert row["batch"] == [task.batch_id]
        assert row["display_left"] == (task.display_left or "a")
        assert (row["rubric_id"], row["rubric_version"], row["rubric_hash"]) == (
            loop.rubric.id,
            loop.rubric.version,
            loop.rubric.content_hash,
        )
        assert (row["margin_source"], row["margin"], row["agreement"]) == ("confidence", 1.0, 1.0)
    side = [
        json.loads(line)
        for line in out.with_name("pairs.non_decisive.jsonl").read_text().splitlines()
    ]
    assert [(r["item_id"], r["reason"]) for r in side] == [
        ("x-1", "tied vote"),
        ("x-2", "non-decisive"),
    ]
    assert side[0]["votes"] == {"a": 1, "b": 1, "tie": 0}
    card = out.with_name("pairs.card.md").read_text()
    assert f"| gold items | {N_GOLD} items |" in card
    assert f"| flagged annotators' votes | {N_GOLD + len(VOTES)} judgments |" in card
    assert "| retraining | 1 | no |" in card

    # with the flagged annotator's votes, the agreement is the one the write-back wrote
    kept = _export(loop.config.path, tmp_path / "kept.jsonl", "--keep-flagged")
    assert [r["item_id"] for r in kept] == ["x-0", "x-1", "x-3"]
    written = store.written_agreements("p")
    compared = 0
    for row in kept:
        task_id = by_item[row["item_id"]].platform_task_id
        if "overall" in written.get(task_id, {}):
            assert row["agreement"] == pytest.approx(written[task_id]["overall"], abs=1e-4)
            compared += 1
    assert compared == len(kept)


@pytest.mark.labelstudio
def test_export_of_a_label_studio_project(label_studio: LabelStudioServer, tmp_path: Path) -> None:
    loop = ls_loop.Loop(label_studio, tmp_path, gold=str(_gold_file(tmp_path)))
    try:
        loop.push(_items())
        mapping = loop.store.task_mappings("p")
        for task in loop.tasks():
            task_id = str(task["id"])
            for annotator in range(3):
                value = _value(mapping[task_id].item_key, annotator)
                if value is not None:
                    loop.annotate(
                        label_studio.annotator_tokens[annotator],
                        task_id,
                        ls_loop._choice(ls_loop._left_for(value, loop.side(task_id))),
                    )
        loop.sync()
        _check(loop, tmp_path, flagged="annotator2@iaa.local")
    finally:
        loop.store.close()


@pytest.mark.argilla
def test_export_of_an_argilla_dataset(argilla: ArgillaServer, tmp_path: Path) -> None:
    loop = argilla_loop.Loop(argilla, tmp_path, gold=str(_gold_file(tmp_path)))
    try:
        loop.push(_items())
        mapping = loop.store.task_mappings("p")
        for record in loop.records():
            record_id = str(record["id"])
            for annotator in range(3):
                value = _value(mapping[record_id].item_key, annotator)
                if value is not None:
                    loop.respond(
                        argilla.annotator_api_keys[annotator],
                        record_id,
                        {"overall": loop.shown_for(value, record_id)},
                    )
        loop.sync()
        _check(loop, tmp_path, flagged="annotator2")
    finally:
        loop.store.close()
