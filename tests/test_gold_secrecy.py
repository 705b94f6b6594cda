"""Gold stays secret and trusted against a curious annotator, on a real Label Studio.

Each test acts as an annotator would, with the annotator's own token: marking their own answers
as ground truth, reading everything the API lets them read, editing the project description;
and kills a full sync inside the store write after its first page. See issue "Gold stays secret
and trusted" and docs/security.md.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from labelstudio_server import LabelStudioServer
from test_labelstudio_loop import Loop, _choice, _headers, _items, _left_for

from connector.calibration.item import Item
from connector.calibration.push import task_key_secret
from connector.platforms.label_studio import adapter
from connector.platforms.label_studio.adapter import BEGIN, END

pytestmark = pytest.mark.labelstudio

ADMIN = "admin@iaa.local"
API_TOKEN = "iaa-api-token-for-leads-0123456789"


def _gold_file(tmp_path: Path, items: list[Item], answer: str = "a") -> Path:
    path = tmp_path / "gold.jsonl"
    path.write_text(
        "".join(
            json.dumps(
                {
                    "item_key": i.item_key,
                    "prompt": i.prompt,
                    "response_a": i.response_a,
                    "response_b": i.response_b,
                    "answers": {"overall": answer},
                }
            )
            + "\n"
            for i in items
        )
    )
    return path


def _as(token: str, method: str, url: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, url, headers=_headers(token), timeout=30, **kwargs)


def test_annotators_ground_truth_is_never_gold_and_a_gold_authors_change_rescores(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    items = _items("g", 10)
    loop = Loop(
        label_studio,
        tmp_path,
        gold=str(_gold_file(tmp_path, items)),
        project_toml=f'gold_authors = ["{ADMIN}"]\n',
    )
    try:
        loop.push(items)
        good, faulty = label_studio.annotator_tokens[:2]
        for task in loop.tasks():
            task_id, side = str(task["id"]), loop.side(str(task["id"]))
            loop.annotate(good, task_id, _choice(_left_for("a", side)))
            wrong = loop.annotate(faulty, task_id, _choice(_left_for("b", side)))
            # the faulty annotator marks its own wrong answer as ground truth: the server lets it
            marked = _as(
                faulty,
                "PATCH",
                f"{label_studio.url}/api/annotations/{wrong}/",
                json={"ground_truth": True},
            )
            assert marked.status_code == 200, marked.text
            assert marked.json()["ground_truth"] is True
        result = loop.sync(full=True, import_ground_truth=True)
        gold = loop.store.gold_for("p")
        assert {answer.value for answer in gold.values()} == {"a"}  # the file's answers stand
        assert {answer.set_by for answer in gold.values()} == {"file:gold.jsonl"}
        refused = [row for row in loop.store.gold_log("p") if not row.accepted]
        assert len(refused) == 10
        assert {row.set_by for row in refused} == {"annotator2@iaa.local"}
        frame = loop.store.judgments_frame("p")
        by_annotator = frame.groupby("annotator").size().to_dict()
        # the faulty annotator's answers still count against them
        assert by_annotator == {"annotator1@iaa.local": 10, "annotator2@iaa.local": 10}
        wrong_share = (frame["value"] != frame["gold_value"]).groupby(frame["annotator"]).mean()
        assert wrong_share.to_dict() == {"annotator1@iaa.local": 0.0, "annotator2@iaa.local": 1.0}
        assert result.gold_imported == 0

        # the gold author (the admin) rules item 0 is "b": accepted, logged, everyone re-scored
        task = loop.tasks()[0]
        task_id = str(task["id"])
        loop.annotate(
            label_studio.admin_token,
            task_id,
            _choice(_left_for("b", loop.side(task_id))),
            ground_truth=True,
        )
        result = loop.sync(import_ground_truth=True)
        item = loop.store.task_mappings("p")[task_id].item_key
        ruling = loop.store.gold_for("p")[(item, "overall")]
        assert (ruling.value, ruling.set_by) == ("b", ADMIN)
        assert result.gold_imported == 1
        [change] = [r for r in loop.store.gold_log("p") if r.accepted and r.old_value is not None]
        assert (change.old_value, change.new_value, change.set_by) == ("a", "b", ADMIN)
        rescored = {c.annotator for c in result.status_changes if "re-scored" in str(c.evidence)}
        assert rescored == {"annotator1@iaa.local", "annotator2@iaa.local"}
        # the gold file, which still says "a", does not silently undo the ruling
        loop.sync()
        assert loop.store.gold_for("p")[(item, "overall")].value == "b"
        conflicts = [r for r in loop.store.gold_log("p") if "make the two agree" in r.reason]
        assert len(conflicts) == 1
    finally:
        loop.store.close()


@pytest.fixture
def loop(label_studio: LabelStudioServer, tmp_path: Path) -> Iterator[Loop]:
    project = Loop(label_studio, tmp_path)
    try:
        yield project
    finally:
        project.store.close()


def test_a_full_sync_killed_after_its_first_page_loses_nothing(
    loop: Loop, label_studio: LabelStudioServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop.push(_items("x", 12))
    tasks = [str(t["id"]) for t in loop.tasks()]
    for task in tasks:
        for token in label_studio.annotator_tokens[:2]:
            loop.annotate(token, task, _choice("left"))
    # a snapshot a killed sync left behind (a full annotation dump any member can download)
    exports = f"{label_studio.url}/api/projects/{loop.project_id}/exports/"
    left = _as(label_studio.admin_token, "POST", exports, json={"title": adapter.SNAPSHOT_TITLE})
    assert left.status_code == 201, left.text
    time.sleep(3)  # older than the pull's overlap window (2 s)

    monkeypatch.setattr(adapter, "PAGE_SIZE", 5)  # three pages
    apply = loop.store.apply_judgments
    calls = []

    def killed_on_page_two(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed inside the store write of page 2")
        return apply(*args, **kwargs)

    monkeypatch.setattr(loop.store, "apply_judgments", killed_on_page_two)
    with pytest.raises(KeyboardInterrupt):
        loop.sync(full=True)
    monkeypatch.setattr(loop.store, "apply_judgments", apply)
    assert len(loop.store.judgments_frame("p")) == 10  # page 1 stored, the rest not

    loop.sync()  # a plain sync afterwards ends equal to the server
    frame = loop.store.judgments_frame("p")
    on_server = {str(a["id"]) for t in loop.tasks() for a in t["annotations"]}
    stored = {a for ids in loop.store.annotation_ids_by_task("p", None).values() for a in ids}
    assert len(frame) == 24
    assert stored == on_server
    # no snapshot of ours is left for members to download
    titles = [e["title"] for e in _as(label_studio.annotator_tokens[0], "GET", exports).json()]
    assert adapter.SNAPSHOT_TITLE not in titles


def test_an_annotator_probing_with_their_own_token_finds_no_gold_and_no_secret(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    gold_items = _items("g", 6)
    loop = Loop(
        label_studio,
        tmp_path,
        gold=str(_gold_file(tmp_path, gold_items)),
        server_toml='public_url = "http://127.0.0.1:8765"\n',
    )
    try:
        loop.push(_items("x", 24), gold=gold_items)
        tokens = label_studio.annotator_tokens[:3]
        for task in loop.tasks():
            task_id, side = str(task["id"]), loop.side(str(task["id"]))
            for n, token in enumerate(tokens):
                value = "a" if n < 2 else "b"
                loop.annotate(token, task_id, _choice(_left_for(value, side)))
        loop.sync()
        mappings = loop.store.task_mappings("p")
        gold_tasks = {t for t, m in mappings.items() if m.kind == "gold"}
        assert len(gold_tasks) == 3  # 10 % of 24 / 0.85
        prober = tokens[2]
        url = label_studio.url
        secrets = [
            label_studio.admin_token,
            API_TOKEN,
            task_key_secret(loop.store),
            str(tmp_path),  # a server path
        ]
        seen: list[str] = []

        def read(path: str, **params: Any) -> Any:
            response = _as(prober, "GET", f"{url}{path}", params=params)
            seen.append(response.text)
            return response.json() if response.status_code == 200 else None

        project = read(f"/api/projects/{loop.project_id}/")
        description = project["description"]
        assert BEGIN in description
        assert "<!--" not in description
        for name in ("annotator1", "annotator2", "annotator3", "gold", "Flagged", "retrain"):
            assert name not in description
        tasks = read("/api/tasks/", project=loop.project_id, fields="all", page_size=1000)["tasks"]
        assert len(tasks) == 27
        shapes = {
            (tuple(sorted(t["data"])), tuple(sorted(t["meta"])), tuple(t["predictions"]))
            for t in tasks
        }
        assert shapes == {(("key", "prompt", "response_left", "response_right"), ("iaa",), ())}
        assert {tuple(sorted(t["meta"]["iaa"])) for t in tasks} == {("agreement", "n_judgments")}
        for task in tasks:
            detail = read(f"/api/tasks/{task['id']}/")
            assert "gold" not in json.dumps(detail["data"]).lower()
            assert detail["data"]["key"].startswith("t-")
        read(f"/api/projects/{loop.project_id}/exports/")
        read("/api/webhooks/", project=loop.project_id)
        text = "\n".join(seen)
        for secret in secrets:
            assert secret not in text
        # the connector's own routes, tried with no token and with the annotator's own token
        from starlette.testclient import TestClient

        from connector.service import create_app

        app = create_app(loop.config, loop.store, env={"IAA_API_TOKEN": API_TOKEN})
        with TestClient(app) as service:
            for route in ("/reports/p", "/metrics", "/reports/unknown"):
                for headers in ({}, {"Authorization": f"Bearer {prober}"}, _headers(prober)):
                    answer = service.get(route, headers=headers)
                    assert answer.status_code == 401, (route, headers)
                    assert "annotator" not in answer.text
            opened = service.get("/reports/p", headers={"Authorization": f"Bearer {API_TOKEN}"})
            assert opened.status_code == 200  # the lead's token opens the report
            for route in ("/healthz", "/readyz"):
                text = service.get(route).text
                assert all(secret not in text for secret in secrets)
        # per-task agreement does not single out gold: gold tasks read like the others
        agreement = {str(t["id"]): t["meta"]["iaa"]["agreement"]["overall"] for t in tasks}
        assert {agreement[t] for t in gold_tasks} <= set(agreement.values())

        # the annotator rewrites the connector's section; the next sync puts it back
        edited = _as(
            prober,
            "PATCH",
            f"{url}/api/projects/{loop.project_id}/",
            json={"description": description.replace(END, "annotator3 is the best\n" + END)},
        )
        assert edited.status_code == 200, edited.text  # Label Studio Community lets members
        loop.sync()  # every sync rewrites the section when it differs
        restored = read(f"/api/projects/{loop.project_id}/")["description"]
        assert "annotator3 is the best" not in restored
        assert restored.count(BEGIN) == restored.count(END) == 1
    finally:
        loop.store.close()
