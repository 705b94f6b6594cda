"""``iaa-connector export PROJECT`` from a project synced from a real Label Studio and a real
Argilla server (the loop tests' ``Loop`` helpers set them up), checked row by row against the
store: texts from the store's items, task ids, batch, display side, votes, the agreement the
write-back wrote, flagged annotators' votes left out and gold items excluded.

Three annotators: the first answers 21 gold items right (qualified), the second wrong
(retraining: flagged), the third answers no gold (no status); four ordinary items (VOTES)
decide, split without the flagged annotator, or tie.

A ranking project on each platform (tasks imported as a team would, not pushed): the sync keeps
the texts the tasks show, and the consensus and export of its implied pairs read them.
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


# --- rankings: four responses ranked on the platform, exported as their implied pairs -------

RANKINGS = {"r-0": ("b>a>c>d", "b>c>a>d"), "r-1": ("a>b>c>d", "a>b>c>d")}


def _check_ranking(loop: Any, tmp_path: Path) -> None:
    """The ranking project's consensus and export, row by row against the store: texts from
    the item payload the sync wrote from the platform's task, one row per decisive pair."""
    store = loop.store
    payloads = {row.item_key: row.payload for row in store.items_with_payload("p")}
    assert set(payloads) == set(RANKINGS)
    for item, payload in payloads.items():
        assert payload == {"prompt": f"Question {item}?"} | {
            f"response_{o}": f"Answer {o} to {item}." for o in "abcd"
        }
    consensus = tmp_path / "consensus.jsonl"
    result = CliRunner().invoke(
        app,
        [
            "consensus",
            "p",
            "-c",
            str(loop.config.path),
            "--out",
            str(consensus),
            "--method",
            "majority",
        ],
    )
    assert result.exit_code == 0, result.output
    orderings = {
        r["item_id"]: r["label"]
        for r in map(json.loads, consensus.read_text().splitlines())
        if r["dimension"] == "order"
    }
    # r-0: a ranks 2, 3 (2.5), c 3, 2 (2.5): tied
    assert orderings == {"r-0": "b>a=c>d", "r-1": "a>b>c>d"}

    rows = _export(loop.config.path, tmp_path / "ranked.jsonl")
    tasks = {t.item_key: t.platform_task_id for t in store.task_mappings("p").values()}
    expected = []
    for item, (first, second) in RANKINGS.items():
        for x, y in (("a", "b"), ("a", "c"), ("a", "d"), ("b", "c"), ("b", "d"), ("c", "d")):
            above = [r.index(x) < r.index(y) for r in (first, second)]
            if above[0] == above[1]:
                expected.append((item, x, y, x if above[0] else y))
    assert sorted((r["item_id"], *r["pair"], r["chosen_response"]) for r in rows) == expected
    for row in rows:
        item, chosen = row["item_id"], row["chosen_response"]
        rejected = next(o for o in row["pair"] if o != chosen)
        assert row["prompt"] == payloads[item]["prompt"]
        assert row["chosen"] == payloads[item][f"response_{chosen}"]
        assert row["rejected"] == payloads[item][f"response_{rejected}"]
        assert row["task_ids"] == [tasks[item]]
        assert (row["n_votes"], row["agreement"], row["margin"]) == (2, 1.0, 1.0)
    side = [
        json.loads(line)
        for line in (tmp_path / "ranked.non_decisive.jsonl").read_text().splitlines()
    ]
    assert [(r["item_id"], *r["pair"], r["reason"]) for r in side] == [
        ("r-0", "a", "c", "tied vote")
    ]


@pytest.mark.labelstudio
def test_export_of_a_label_studio_ranking_project(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    import requests

    loop = ls_loop.Loop(label_studio, tmp_path, rubric_path=ls_loop.RANKING_RUBRIC)
    try:
        tasks = [
            {
                "data": {
                    "item_id": item,
                    "prompt": f"Question {item}?",
                    "order_responses": [
                        {
                            "id": o,
                            "title": f"Response {o.upper()}",
                            "body": f"Answer {o} to {item}.",
                        }
                        for o in "abcd"
                    ],
                }
            }
            for item in RANKINGS
        ]
        requests.post(
            f"{label_studio.url}/api/projects/{loop.project_id}/import",
            json=tasks,
            headers=ls_loop._headers(label_studio.admin_token),
            timeout=60,
        ).raise_for_status()
        for task in loop.tasks():
            item = task["data"]["item_id"]
            for token, ranking in zip(label_studio.annotator_tokens, RANKINGS[item], strict=False):
                loop.annotate(token, str(task["id"]), ls_loop._ranked(ranking.split(">")))
        loop.sync()
        _check_ranking(loop, tmp_path)
    finally:
        loop.store.close()


@pytest.mark.argilla
def test_export_of_an_argilla_ranking_dataset(argilla: ArgillaServer, tmp_path: Path) -> None:
    import requests

    loop = argilla_loop.Loop(argilla, tmp_path, rubric_path=argilla_loop.RANKING_RUBRIC)
    try:
        created = requests.post(
            f"{argilla.url}/api/v1/datasets/{loop.dataset_id}/records/bulk",
            json={
                "items": [
                    {
                        "external_id": item,
                        "fields": {
                            "prompt": f"Question {item}?",
                            **{f"response_{o}": f"Answer {o} to {item}." for o in "abcd"},
                        },
                    }
                    for item in RANKINGS
                ]
            },
            headers=argilla_loop._headers(argilla.owner_api_key),
            timeout=60,
        )
        assert created.status_code in (200, 201), created.text
        for record in loop.records():
            item = record["external_id"]
            for key, ranking in zip(argilla.annotator_api_keys, RANKINGS[item], strict=False):
                order = ranking.split(">")
                ranks = [{"value": o, "rank": order.index(o) + 1} for o in "abcd"]
                loop.respond(key, str(record["id"]), {"order": ranks})
        loop.sync()
        _check_ranking(loop, tmp_path)
    finally:
        loop.store.close()
