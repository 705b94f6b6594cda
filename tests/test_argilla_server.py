"""The real Argilla server that deploy/argilla/start.sh runs, and the API facts the Argilla adapter
relies on (see deploy/argilla/README.md, "API facts measured").

Uses the server named by IAA_ARGILLA_URL / IAA_ARGILLA_API_KEY / IAA_ARGILLA_ANNOTATOR_KEYS if
set (for instance Argilla's docker-compose, with Elasticsearch), otherwise starts one for the
session (tests/argilla_server.py). The annotation queue, the progress counts and the filtered
searches below are answered by the search engine: on a server started here that is
deploy/argilla/sql_search_engine.py, so these tests are its tests too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import queue
import subprocess
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from argilla_server import ArgillaServer
from localhost import QuietHandler, read_env_file, serving

with warnings.catch_warnings():
    # argilla 2.8.0 defines a pydantic model with a class-based `config` (deprecated in pydantic 2)
    warnings.simplefilter("ignore", DeprecationWarning)
    rg = pytest.importorskip(
        "argilla", reason="the Argilla SDK is not installed: pip install -e '.[argilla]'"
    )

pytestmark = pytest.mark.argilla

PENDING_QUEUE = {
    # what the web UI sends for an annotator's "Pending" queue (argilla 2.8 front end)
    "filters": {
        "and": [
            {
                "type": "terms",
                "scope": {"entity": "response", "property": "status"},
                "values": ["pending"],
            },
            {
                "type": "terms",
                "scope": {"entity": "record", "property": "status"},
                "values": ["pending"],
            },
        ]
    }
}


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook request as the receiver saw it."""

    headers: dict[str, str]
    body: bytes


@pytest.fixture
def owner(argilla: ArgillaServer) -> Iterator[requests.Session]:
    with _session(argilla.owner_api_key) as session:
        yield session


@pytest.fixture
def annotators(argilla: ArgillaServer) -> Iterator[list[requests.Session]]:
    sessions = [_session(key) for key in argilla.annotator_api_keys]
    try:
        yield sessions
    finally:
        for session in sessions:
            session.close()


@pytest.fixture
def client(argilla: ArgillaServer) -> Iterator[rg.Argilla]:
    """The argilla SDK, as the owner."""
    sdk = rg.Argilla(api_url=argilla.url, api_key=argilla.owner_api_key)
    yield sdk
    sdk.http_client.close()


@pytest.fixture
def dataset(argilla: ArgillaServer, client: rg.Argilla) -> Iterator[rg.Dataset]:
    """A published pairwise-preference dataset of 5 records (overlap 2), deleted afterwards.

    Record ``i`` has ``prompt`` ``p{i}``, metadata ``category`` (``code`` for odd i, else ``chat``)
    and ``batch`` = i.
    """
    settings = rg.Settings(
        fields=[
            rg.TextField(name="prompt"),
            rg.TextField(name="response_a"),
            rg.TextField(name="response_b"),
        ],
        questions=[
            rg.LabelQuestion(name="overall", labels=["a", "b", "tie"]),
            rg.RatingQuestion(name="helpfulness", values=[1, 2, 3, 4, 5]),
        ],
        metadata=[
            rg.TermsMetadataProperty(name="category"),
            rg.IntegerMetadataProperty(name="batch"),
        ],
        distribution=rg.TaskDistribution(min_submitted=2),
    )
    created = rg.Dataset(
        name=f"iaa-test-{uuid.uuid4().hex[:8]}",
        workspace=argilla.workspace,
        settings=settings,
        client=client,
    )
    created.create()  # creates and publishes
    created.records.log(
        [
            {
                "prompt": f"p{i}",
                "response_a": f"answer A to p{i}",
                "response_b": f"answer B to p{i}",
                "category": "code" if i % 2 else "chat",
                "batch": i,
            }
            for i in range(5)
        ]
    )
    yield created
    created.delete()


@pytest.fixture
def webhook_receiver() -> Iterator[tuple[str, queue.Queue[Delivery]]]:
    """A local http.server on 127.0.0.1 that queues every request POSTed to it."""
    deliveries: queue.Queue[Delivery] = queue.Queue()

    class Receiver(QuietHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            deliveries.put(Delivery({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.end_headers()

    with serving(Receiver) as url:
        yield f"{url}/webhook", deliveries


def _session(api_key: str) -> requests.Session:
    session = requests.Session()
    session.headers.update(ArgillaServer.headers(api_key))
    return session


def _me(url: str, session: requests.Session) -> dict[str, Any]:
    response = session.get(f"{url}/api/v1/me")
    assert response.status_code == 200, response.text
    me: dict[str, Any] = response.json()
    return me


def _my_queue(url: str, session: requests.Session, dataset_id: Any) -> list[dict[str, Any]]:
    """The records in an annotator's pending queue, as the web UI asks for them."""
    response = session.post(
        f"{url}/api/v1/me/datasets/{dataset_id}/records/search",
        json=PENDING_QUEUE,
        params={"limit": 1000},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    return [item["record"] for item in body["items"]]


def _submit(url: str, session: requests.Session, record_id: str, overall: str, rating: int) -> None:
    response = session.post(
        f"{url}/api/v1/records/{record_id}/responses",
        json={
            "values": {"overall": {"value": overall}, "helpfulness": {"value": rating}},
            "status": "submitted",
        },
    )
    assert response.status_code == 201, response.text


def _all_records(url: str, owner: requests.Session, dataset_id: Any) -> list[dict[str, Any]]:
    params: dict[str, str | int] = {"include": "responses", "offset": 0, "limit": 1000}
    response = owner.get(f"{url}/api/v1/datasets/{dataset_id}/records", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _search_ids(
    url: str, session: requests.Session, dataset_id: Any, body: dict[str, Any], *, me: bool = False
) -> set[str]:
    path = "me/datasets" if me else "datasets"
    response = session.post(f"{url}/api/v1/{path}/{dataset_id}/records/search", json=body)
    assert response.status_code == 200, response.text
    return {item["record"]["id"] for item in response.json()["items"]}


def _prompts(records: list[dict[str, Any]]) -> set[str]:
    return {record["fields"]["prompt"] for record in records}


def test_status(argilla: ArgillaServer) -> None:
    response = requests.get(f"{argilla.url}/api/v1/status", timeout=10)
    assert response.status_code == 200, response.text
    status = response.json()
    assert status["version"].startswith("2.8.")
    if argilla.started_here:
        assert status["search_engine"]["backend"] == "sql"


def test_api_keys_are_distinct_annotators_of_the_workspace(
    argilla: ArgillaServer, owner: requests.Session, annotators: list[requests.Session]
) -> None:
    me = _me(argilla.url, owner)
    assert me["role"] == "owner"
    users = [_me(argilla.url, session) for session in annotators]
    assert [user["role"] for user in users] == ["annotator"] * len(users)
    assert len({me["id"], *(user["id"] for user in users)}) == 1 + len(users) >= 4

    workspaces = owner.get(f"{argilla.url}/api/v1/me/workspaces").json()["items"]
    workspace = next(w for w in workspaces if w["name"] == argilla.workspace)
    members = owner.get(f"{argilla.url}/api/v1/workspaces/{workspace['id']}/users").json()
    assert {user["id"] for user in users} <= {member["id"] for member in members["items"]}

    # rg.User has no api_key attribute; the owner reads a user's key from GET /api/v1/users/{id}
    user = owner.get(f"{argilla.url}/api/v1/users/{users[0]['id']}").json()
    assert user["api_key"] == argilla.annotator_api_keys[0]


def test_an_unknown_api_key_is_refused(argilla: ArgillaServer) -> None:
    with _session("not-a-key") as session:
        response = session.get(f"{argilla.url}/api/v1/me")
    assert response.status_code == 401


def test_annotators_work_through_their_pending_queues(
    argilla: ArgillaServer,
    owner: requests.Session,
    annotators: list[requests.Session],
    dataset: rg.Dataset,
) -> None:
    url, dataset_id = argilla.url, dataset.id
    first, second, third = annotators[:3]

    queue1 = _my_queue(url, first, dataset_id)
    assert _prompts(queue1) == {f"p{i}" for i in range(5)}
    done_by_first = sorted(_prompts(queue1))[:3]
    by_prompt = {record["fields"]["prompt"]: record["id"] for record in queue1}
    for prompt in done_by_first:
        _submit(url, first, by_prompt[prompt], "a", 4)
    # pending means "no response of mine": the first annotator has 2 left
    assert _prompts(_my_queue(url, first, dataset_id)) == set(by_prompt) - set(done_by_first)

    # nothing is complete yet (min_submitted=2), so the second sees all 5, and does them all
    assert len(_my_queue(url, second, dataset_id)) == 5
    for record_id in by_prompt.values():
        _submit(url, second, record_id, "b", 2)
    assert _my_queue(url, second, dataset_id) == []

    # 3 records have their 2 submitted responses: completed, out of every queue
    left = set(by_prompt) - set(done_by_first)
    assert _prompts(_my_queue(url, third, dataset_id)) == left
    last = sorted(left)[0]
    _submit(url, third, by_prompt[last], "tie", 3)
    assert _prompts(_my_queue(url, first, dataset_id)) == left - {last}
    assert _prompts(_my_queue(url, third, dataset_id)) == left - {last}

    progress = owner.get(f"{url}/api/v1/datasets/{dataset_id}/progress").json()
    assert {k: progress[k] for k in ("total", "completed", "pending")} == {
        "total": 5,
        "completed": 4,
        "pending": 1,
    }
    assert {user["username"] for user in progress["users"]} == {
        _me(url, s)["username"] for s in (first, second, third)
    }
    metrics = first.get(f"{url}/api/v1/me/datasets/{dataset_id}/metrics").json()
    assert metrics == {
        "responses": {"total": 5, "submitted": 3, "discarded": 0, "draft": 0, "pending": 2}
    }

    # the owner sees every submitted response, with its user, status, values and timestamps
    records = _all_records(url, owner, dataset_id)
    responses = [response for record in records for response in record["responses"]]
    assert len(responses) == 3 + 5 + 1
    assert {r["status"] for r in responses} == {"submitted"}
    user_of = {_me(url, s)["id"]: v for s, v in ((first, "a"), (second, "b"), (third, "tie"))}
    for response in responses:
        assert response["values"]["overall"] == {"value": user_of[response["user_id"]]}
        assert set(response) >= {"id", "user_id", "status", "values", "inserted_at", "updated_at"}
    assert {r["fields"]["prompt"]: r["status"] for r in records} == {
        prompt: ("pending" if prompt == sorted(left - {last})[0] else "completed")
        for prompt in by_prompt
    }


def test_filtered_search_by_metadata_and_response_status(
    argilla: ArgillaServer,
    owner: requests.Session,
    annotators: list[requests.Session],
    dataset: rg.Dataset,
) -> None:
    url = argilla.url
    records = {r["fields"]["prompt"]: r["id"] for r in _all_records(url, owner, dataset.id)}
    _submit(url, annotators[0], records["p1"], "a", 5)  # code
    _submit(url, annotators[0], records["p2"], "b", 1)  # chat
    _submit(url, annotators[1], records["p3"], "a", 4)  # code

    # through the SDK, as the owner: metadata AND response status (any user's response)
    query = rg.Query(
        filter=rg.Filter(
            [("metadata.category", "==", "code"), ("response.status", "==", "submitted")]
        )
    )
    found = {record.fields["prompt"] for record in dataset.records(query=query)}
    assert found == {"p1", "p3"}

    # a range on metadata, through the SDK
    query = rg.Query(filter=rg.Filter([("metadata.batch", ">=", 2), ("metadata.batch", "<=", 3)]))
    assert {record.fields["prompt"] for record in dataset.records(query=query)} == {"p2", "p3"}

    # REST, the owner: "pending" without a user means "no response at all"
    pending = {"type": "terms", "scope": {"entity": "response", "property": "status"}}
    no_response = _search_ids(
        url, owner, dataset.id, {"filters": {"and": [{**pending, "values": ["pending"]}]}}
    )
    assert no_response == {records["p0"], records["p4"]}

    # REST, an annotator: the same filter is about their own responses
    mine = _search_ids(
        url,
        annotators[0],
        dataset.id,
        {"filters": {"and": [{**pending, "values": ["submitted"]}]}},
        me=True,
    )
    assert mine == {records["p1"], records["p2"]}

    # a response value: the rating question, by range
    rating = {"type": "range", "scope": {"entity": "response", "question": "helpfulness"}, "ge": 4}
    assert _search_ids(url, owner, dataset.id, {"filters": {"and": [rating]}}) == {
        records["p1"],
        records["p3"],
    }

    # a label answer, by terms, and sorted by a metadata property
    body = {
        "filters": {
            "and": [
                {
                    "type": "terms",
                    "scope": {"entity": "response", "question": "overall"},
                    "values": ["a"],
                }
            ]
        },
        "sort": [{"scope": {"entity": "metadata", "metadata_property": "batch"}, "order": "desc"}],
    }
    response = owner.post(f"{url}/api/v1/datasets/{dataset.id}/records/search", json=body)
    assert [item["record"]["fields"]["prompt"] for item in response.json()["items"]] == ["p3", "p1"]

    # a text query on one field
    text = {"query": {"text": {"q": "p4", "field": "prompt"}}}
    assert _search_ids(url, owner, dataset.id, text) == {records["p4"]}


def test_metadata_property_added_after_publishing_is_hidden_but_filterable(
    argilla: ArgillaServer,
    owner: requests.Session,
    annotators: list[requests.Session],
    dataset: rg.Dataset,
) -> None:
    url = argilla.url
    response = owner.post(
        f"{url}/api/v1/datasets/{dataset.id}/metadata-properties",
        json={
            "name": "gold_label",
            "title": "gold label",
            "settings": {"type": "terms", "values": ["a", "b", "tie"]},
            "visible_for_annotators": False,
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["visible_for_annotators"] is False

    records = {r["fields"]["prompt"]: r for r in _all_records(url, owner, dataset.id)}
    for prompt in ("p0", "p1"):
        record = records[prompt]
        patched = owner.patch(
            f"{url}/api/v1/records/{record['id']}",
            json={"metadata": {**record["metadata"], "gold_label": "a"}},
        )
        assert patched.status_code == 200, patched.text

    gold = {
        "type": "terms",
        "scope": {"entity": "metadata", "metadata_property": "gold_label"},
        "values": ["a"],
    }
    assert _search_ids(url, owner, dataset.id, {"filters": {"and": [gold]}}) == {
        records["p0"]["id"],
        records["p1"]["id"],
    }
    # the annotator's queue carries the record's metadata without the hidden property
    for record in _my_queue(url, annotators[0], dataset.id):
        assert "gold_label" not in record["metadata"]
        assert "category" in record["metadata"]
    # BUT an annotator can still FILTER on it (argilla 2.8 validates only that the property
    # exists, in the Elasticsearch engine as in the SQL one): a hidden property leaks its values
    # to whoever probes it. Gold answers must never be stored in record metadata, hidden or not.
    probed = _search_ids(url, annotators[0], dataset.id, {"filters": {"and": [gold]}}, me=True)
    assert probed == {records["p0"]["id"], records["p1"]["id"]}


def test_dataset_metadata_and_last_activity(
    argilla: ArgillaServer,
    owner: requests.Session,
    annotators: list[requests.Session],
    dataset: rg.Dataset,
) -> None:
    url = argilla.url
    before = owner.get(f"{url}/api/v1/datasets/{dataset.id}").json()
    patched = owner.patch(
        f"{url}/api/v1/datasets/{dataset.id}", json={"metadata": {"rubric": "v1"}}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["metadata"] == {"rubric": "v1"}
    # a PATCH of the dataset moves both updated_at and last_activity_at
    assert patched.json()["updated_at"] > before["updated_at"]
    assert patched.json()["last_activity_at"] > before["last_activity_at"]
    before = patched.json()
    # metadata is stored only over a null one: a later PATCH is answered but never flushed
    # (connector.platforms.argilla.adapter writes null, then the whole dict)
    answered = owner.patch(f"{url}/api/v1/datasets/{dataset.id}", json={"metadata": {"k": 1}})
    assert answered.json()["metadata"] == {"rubric": "v1", "k": 1}
    assert owner.get(f"{url}/api/v1/datasets/{dataset.id}").json()["metadata"] == {"rubric": "v1"}
    for metadata in (None, {"rubric": "v2"}):
        owner.patch(f"{url}/api/v1/datasets/{dataset.id}", json={"metadata": metadata})
    stored = owner.get(f"{url}/api/v1/datasets/{dataset.id}").json()
    assert stored["metadata"] == {"rubric": "v2"}
    before = stored

    record = _all_records(url, owner, dataset.id)[0]
    _submit(url, annotators[0], record["id"], "a", 3)
    created = owner.get(f"{url}/api/v1/datasets/{dataset.id}").json()
    assert created["last_activity_at"] > before["last_activity_at"]
    again = next(r for r in _all_records(url, owner, dataset.id) if r["id"] == record["id"])
    response = again["responses"][0]
    # last_activity_at is stamped in the same request, but may come out a fraction of a
    # millisecond EARLIER than the response's own timestamps: a change signal, not a cursor
    gap = datetime.fromisoformat(created["last_activity_at"]) - datetime.fromisoformat(
        response["updated_at"]
    )
    assert abs(gap.total_seconds()) < 1.0
    # a response that does not complete its record leaves the record's updated_at alone
    assert again["updated_at"] == record["updated_at"]

    # deleting a response moves last_activity_at too: the only trace a deletion leaves
    deleted = annotators[0].delete(f"{url}/api/v1/responses/{response['id']}")
    assert deleted.status_code == 200, deleted.text
    after = owner.get(f"{url}/api/v1/datasets/{dataset.id}").json()
    assert after["last_activity_at"] > created["last_activity_at"]


def test_list_records_pagination(
    argilla: ArgillaServer, owner: requests.Session, dataset: rg.Dataset
) -> None:
    url, seen = argilla.url, []
    for offset in (0, 2, 4, 6):
        response = owner.get(
            f"{url}/api/v1/datasets/{dataset.id}/records",
            params={"include": "responses", "offset": offset, "limit": 2},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"items", "total"}
        assert body["total"] == 5
        seen += [record["fields"]["prompt"] for record in body["items"]]
    # insertion order, and a page past the end is empty (not an error)
    assert seen == [f"p{i}" for i in range(5)]
    too_big = owner.get(f"{url}/api/v1/datasets/{dataset.id}/records", params={"limit": 1001})
    assert too_big.status_code == 422


def test_webhook_delivers_signed_events(
    argilla: ArgillaServer,
    owner: requests.Session,
    annotators: list[requests.Session],
    dataset: rg.Dataset,
    webhook_receiver: tuple[str, queue.Queue[Delivery]],
) -> None:
    url = argilla.url
    hook_url, deliveries = webhook_receiver
    created = owner.post(
        f"{url}/api/v1/webhooks",
        json={"url": hook_url, "events": ["response.created", "record.completed"]},
    )
    assert created.status_code == 201, created.text
    webhook = created.json()
    try:
        record_id = _all_records(url, owner, dataset.id)[0]["id"]
        _submit(url, annotators[0], record_id, "a", 4)
        _submit(url, annotators[1], record_id, "b", 2)

        events: dict[str, list[dict[str, Any]]] = {}
        while len(events.get("response.created", [])) < 2 or "record.completed" not in events:
            delivery = deliveries.get(timeout=30)
            _verify_signature(webhook["secret"], delivery)
            event = json.loads(delivery.body)
            assert set(event) == {"type", "version", "timestamp", "data"}
            events.setdefault(event["type"], []).append(event["data"])
    finally:
        owner.delete(f"{url}/api/v1/webhooks/{webhook['id']}")

    response = events["response.created"][0]
    assert response["record"]["id"] == record_id
    assert response["record"]["dataset"]["id"] == str(dataset.id)
    assert response["user"]["id"] == _me(url, annotators[0])["id"]
    assert response["values"] == {"overall": {"value": "a"}, "helpfulness": {"value": 4}}
    completed = events["record.completed"][0]
    assert completed["id"] == record_id
    assert completed["status"] == "completed"


def _verify_signature(secret: str, delivery: Delivery) -> None:
    """Standard Webhooks: HMAC-SHA256 over "{id}.{timestamp}.{body}" with the base64 secret."""
    headers = delivery.headers
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + delivery.body
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    signatures = [
        s.split(",", 1)[1] for s in headers["webhook-signature"].split() if s.startswith("v1,")
    ]
    assert any(hmac.compare_digest(expected, s) for s in signatures), headers


def test_records_stay_searchable_after_a_restart(
    argilla: ArgillaServer,
    owner: requests.Session,
    annotators: list[requests.Session],
    dataset: rg.Dataset,
) -> None:
    """No reindex: the SQL engine reads the database. Last in this file, it restarts the server."""
    if not argilla.started_here:
        pytest.skip("restarts only a server started by these tests")
    url = argilla.url
    record_id = _all_records(url, owner, dataset.id)[0]["id"]
    _submit(url, annotators[0], record_id, "a", 4)
    horse = _busy_work_horse(argilla)

    argilla.restart()

    # stop.sh also ended the rq work horse in the middle of its job (it calls setsid, so it is
    # not in the worker's process group; left alone it would run on for minutes)
    assert not _running(horse)

    submitted = {
        "type": "terms",
        "scope": {"entity": "response", "property": "status"},
        "values": ["submitted"],
    }
    assert _search_ids(url, owner, dataset.id, {"filters": {"and": [submitted]}}) == {record_id}
    assert len(_my_queue(url, annotators[0], dataset.id)) == 4
    assert len(_my_queue(url, annotators[1], dataset.id)) == 5


def _running(pid: int) -> bool:
    """The process exists and is not a zombie."""
    return _stat(pid)[0] not in ("", "Z")


def _busy_work_horse(argilla: ArgillaServer) -> int:
    """Queue a 5-minute job on the server's rq worker pool and return the pid of the work horse
    running it."""
    assert argilla.home is not None
    settings = read_env_file(
        argilla.home / f"server-{argilla.port}.env",
        ("ARGILLA_WORKER_PID", "ARGILLA_REDIS_URL"),
        AssertionError,
    )
    worker = int(settings["ARGILLA_WORKER_PID"])
    subprocess.run(
        [
            str(argilla.home / "venv" / "bin" / "python"),
            "-c",
            "import sys; from redis import Redis; from rq import Queue; "
            "Queue('default', connection=Redis.from_url(sys.argv[1])).enqueue('time.sleep', 300)",
            settings["ARGILLA_REDIS_URL"],
        ],
        check=True,
        timeout=60,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        # the pool's worker process forks the horse, which leads a process group of its own
        horses = [pid for pid in _descendants(worker) if _stat(pid)[2] == pid]
        if horses:
            return horses[0]
        time.sleep(0.2)
    raise AssertionError(f"the rq worker pool {worker} forked no work horse within 30 s")


def _descendants(root: int) -> list[int]:
    parents = {
        int(entry.name): _stat(int(entry.name))[1]
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit()
    }
    found = []
    for pid in parents:
        ancestor = parents.get(pid)
        while ancestor not in (None, 0, 1):
            if ancestor == root:
                found.append(pid)
                break
            ancestor = parents.get(ancestor)
    return found


def _stat(pid: int) -> tuple[str, int | None, int | None]:
    """State, parent pid and process group of ``pid`` (("", None, None) when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return fields[0], int(fields[1]), int(fields[2])
    except (FileNotFoundError, IndexError, ValueError):
        return "", None, None
