"""The real Label Studio server that deploy/label-studio/start.sh runs, and the API facts the
Label Studio adapter relies on (see deploy/label-studio/README.md, "API facts measured").

Uses the server named by IAA_LS_URL / IAA_LS_ADMIN_TOKEN / IAA_LS_ANNOTATOR_TOKENS if set,
otherwise starts one for the session (tests/labelstudio_server.py).
"""

from __future__ import annotations

import json
import queue
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from labelstudio_server import LabelStudioServer
from localhost import QuietHandler, serving

from connector.platforms.label_studio import adapter
from connector.platforms.label_studio.adapter import LabelStudio
from connector.rubric import load_rubric

pytestmark = pytest.mark.labelstudio

#: the only timestamp format the Data Manager's Datetime filters accept
LS_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

PREFERENCE_CONFIG = """
<View>
  <Text name="prompt" value="$prompt"/>
  <Choices name="overall" toName="prompt" choice="single" required="true">
    <Choice value="a"/>
    <Choice value="b"/>
    <Choice value="tie"/>
  </Choices>
</View>
"""


@pytest.fixture
def admin(label_studio: LabelStudioServer) -> Iterator[requests.Session]:
    with _session(label_studio.admin_token) as session:
        yield session


@pytest.fixture
def annotators(label_studio: LabelStudioServer) -> Iterator[list[requests.Session]]:
    sessions = [_session(token) for token in label_studio.annotator_tokens]
    try:
        yield sessions
    finally:
        for session in sessions:
            session.close()


@pytest.fixture
def project(label_studio: LabelStudioServer, admin: requests.Session) -> Iterator[dict[str, Any]]:
    """A fresh project with the pairwise-preference config, deleted afterwards."""
    response = admin.post(
        f"{label_studio.url}/api/projects",
        json={"title": f"iaa-test-{uuid.uuid4().hex[:8]}", "label_config": PREFERENCE_CONFIG},
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    yield created
    admin.delete(f"{label_studio.url}/api/projects/{created['id']}/")


@pytest.fixture
def webhook_receiver() -> Iterator[tuple[str, queue.Queue[dict[str, Any]]]]:
    """A local http.server on 127.0.0.1 that queues every JSON body POSTed to it."""
    events: queue.Queue[dict[str, Any]] = queue.Queue()

    class Receiver(QuietHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            events.put(json.loads(body))
            self.send_response(200)
            self.end_headers()

    with serving(Receiver) as url:
        yield f"{url}/webhook", events


def _session(token: str) -> requests.Session:
    session = requests.Session()
    session.headers.update(LabelStudioServer.headers(token))
    return session


def _choice(value: str) -> list[dict[str, Any]]:
    return [
        {
            "from_name": "overall",
            "to_name": "prompt",
            "type": "choices",
            "value": {"choices": [value]},
        }
    ]


def _whoami(url: str, session: requests.Session) -> dict[str, Any]:
    me: dict[str, Any] = session.get(f"{url}/api/current-user/whoami").json()
    return me


def _import(
    url: str, admin: requests.Session, project_id: int, tasks: list[dict[str, Any]]
) -> None:
    response = admin.post(f"{url}/api/projects/{project_id}/import", json=tasks)
    assert response.status_code == 201, response.text
    assert response.json()["task_count"] == len(tasks)


def _tasks(url: str, admin: requests.Session, project_id: int, **params: Any) -> requests.Response:
    return admin.get(f"{url}/api/tasks/", params={"project": project_id, **params})


def _updated_since(timestamp: str, *, operator: str = "greater") -> str:
    """The ``query`` parameter of an incremental pull: tasks updated after ``timestamp``."""
    return json.dumps(
        {
            "filters": {
                "conjunction": "and",
                "items": [
                    {
                        "filter": "filter:tasks:updated_at",
                        "operator": operator,
                        "type": "Datetime",
                        "value": timestamp,
                    }
                ],
            },
            "ordering": ["tasks:updated_at"],
        }
    )


def test_health(label_studio: LabelStudioServer) -> None:
    response = requests.get(f"{label_studio.url}/health", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "UP"}


def test_annotator_tokens_are_distinct_users_of_the_admins_organization(
    label_studio: LabelStudioServer, admin: requests.Session, annotators: list[requests.Session]
) -> None:
    me = admin.get(f"{label_studio.url}/api/current-user/whoami").json()
    organization = me["active_organization"]
    assert organization is not None

    seen = {me["id"]}
    for session in annotators:
        response = session.get(f"{label_studio.url}/api/current-user/whoami")
        assert response.status_code == 200, response.text
        user = response.json()
        assert user["id"] not in seen
        seen.add(user["id"])
        # without an active organization, Label Studio sends no webhook for the user's actions
        assert user["active_organization"] == organization
    assert len(seen) == 1 + len(label_studio.annotator_tokens) >= 3


def test_an_unknown_token_is_refused(label_studio: LabelStudioServer) -> None:
    with _session("not-a-token") as session:
        response = session.get(f"{label_studio.url}/api/current-user/whoami")
    assert response.status_code == 401


def test_annotators_annotate_an_imported_task(
    label_studio: LabelStudioServer,
    admin: requests.Session,
    annotators: list[requests.Session],
    project: dict[str, Any],
) -> None:
    url, project_id = label_studio.url, project["id"]
    _import(url, admin, project_id, [{"prompt": "Which answer is better?"}])
    task = _tasks(url, admin, project_id).json()["tasks"][0]

    user_ids = []
    for session, value in zip(annotators[:2], ["a", "b"], strict=True):
        response = session.post(
            f"{url}/api/tasks/{task['id']}/annotations/",
            json={"result": _choice(value), "ground_truth": False, "lead_time": 2.5},
        )
        assert response.status_code == 201, response.text
        user_ids.append(session.get(f"{url}/api/current-user/whoami").json()["id"])

    pulled = _tasks(url, admin, project_id, fields="all").json()["tasks"][0]
    by_user = {a["completed_by"]: a for a in pulled["annotations"]}
    assert sorted(by_user) == sorted(user_ids)
    assert by_user[user_ids[0]]["result"][0]["value"] == {"choices": ["a"]}
    assert by_user[user_ids[1]]["result"][0]["value"] == {"choices": ["b"]}
    assert not any(a["ground_truth"] for a in pulled["annotations"])


def test_webhook_on_localhost_receives_an_annotators_annotation(
    label_studio: LabelStudioServer,
    admin: requests.Session,
    annotators: list[requests.Session],
    project: dict[str, Any],
    webhook_receiver: tuple[str, queue.Queue[dict[str, Any]]],
) -> None:
    url, project_id = label_studio.url, project["id"]
    hook_url, events = webhook_receiver
    response = admin.post(
        f"{url}/api/webhooks/",
        json={
            "project": project_id,
            "url": hook_url,
            "send_payload": True,
            "send_for_all_actions": False,
            "actions": ["ANNOTATION_CREATED"],
        },
    )
    # 403 here means SSRF protection is on (SSRF_PROTECTION_ENABLED)
    assert response.status_code == 201, response.text
    _import(url, admin, project_id, [{"prompt": "p"}])
    task_id = _tasks(url, admin, project_id).json()["tasks"][0]["id"]

    annotator = annotators[-1]
    annotator_id = annotator.get(f"{url}/api/current-user/whoami").json()["id"]
    created = annotator.post(
        f"{url}/api/tasks/{task_id}/annotations/",
        json={"result": _choice("tie"), "ground_truth": False},
    ).json()

    event = events.get(timeout=15)
    assert event["action"] == "ANNOTATION_CREATED"
    assert event["annotation"]["id"] == created["id"]
    assert event["annotation"]["completed_by"] == annotator_id
    assert event["task"]["id"] == task_id
    assert event["project"]["id"] == project_id


def test_incremental_pull_by_updated_at(
    label_studio: LabelStudioServer, admin: requests.Session, project: dict[str, Any]
) -> None:
    url, project_id = label_studio.url, project["id"]
    _import(url, admin, project_id, [{"prompt": f"p{i}"} for i in range(3)])
    tasks = _tasks(url, admin, project_id, fields="all").json()["tasks"]
    cursor = max(task["updated_at"] for task in tasks)
    # updated_at comes back in the very format the filter takes
    datetime.strptime(cursor, LS_DATETIME_FORMAT)

    response = _tasks(url, admin, project_id, fields="all", query=_updated_since(cursor))
    assert response.status_code == 200, response.text
    assert response.json()["tasks"] == []

    # a PATCH of the task's meta moves updated_at
    moved = tasks[1]
    patched = admin.patch(f"{url}/api/tasks/{moved['id']}", json={"meta": {"rubric": "v1"}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["updated_at"] > moved["updated_at"]

    response = _tasks(url, admin, project_id, fields="all", query=_updated_since(cursor))
    body = response.json()
    assert body["total"] == 1
    assert [task["id"] for task in body["tasks"]] == [moved["id"]]
    assert body["tasks"][0]["meta"] == {"rubric": "v1"}


def test_the_datetime_filter_takes_only_one_timestamp_format(
    label_studio: LabelStudioServer, admin: requests.Session, project: dict[str, Any]
) -> None:
    url, project_id = label_studio.url, project["id"]
    since = datetime.now(UTC) - timedelta(minutes=1)
    good = _tasks(url, admin, project_id, query=_updated_since(since.strftime(LS_DATETIME_FORMAT)))
    assert good.status_code == 200, good.text
    # Label Studio 1.23.2 parses the value with strptime and answers 500 to anything else
    for other in (since.isoformat(), since.strftime("%Y-%m-%dT%H:%M:%SZ")):
        bad = _tasks(url, admin, project_id, query=_updated_since(other))
        assert bad.status_code == 500, (other, bad.status_code)
        assert "does not match format" in bad.json()["detail"]


def test_task_list_pagination(
    label_studio: LabelStudioServer, admin: requests.Session, project: dict[str, Any]
) -> None:
    url, project_id = label_studio.url, project["id"]
    _import(url, admin, project_id, [{"prompt": f"p{i}"} for i in range(5)])
    query = _updated_since("2000-01-01T00:00:00.000000Z")
    seen = []
    for page in (1, 2, 3):
        body = _tasks(url, admin, project_id, query=query, page=page, page_size=2).json()
        assert set(body) == {"tasks", "total", "total_annotations", "total_predictions"}
        assert body["total"] == 5
        seen += [task["id"] for task in body["tasks"]]
    assert len(seen) == len(set(seen)) == 5
    past_the_end = _tasks(url, admin, project_id, query=query, page=4, page_size=2)
    assert past_the_end.status_code == 404
    assert past_the_end.json()["detail"] == "Invalid page."


def test_bulk_import_of_annotations_by_other_users(
    label_studio: LabelStudioServer,
    admin: requests.Session,
    annotators: list[requests.Session],
    project: dict[str, Any],
) -> None:
    url, project_id = label_studio.url, project["id"]
    first, second = (s.get(f"{url}/api/current-user/whoami").json() for s in annotators[:2])
    task = {
        "data": {"prompt": "p"},
        "annotations": [
            # completed_by by user id ...
            {"result": _choice("a"), "completed_by": first["id"], "ground_truth": False},
            # ... or by email; ground_truth defaults to TRUE on import when omitted
            {"result": _choice("b"), "completed_by": {"email": second["email"]}},
        ],
    }
    response = admin.post(f"{url}/api/projects/{project_id}/import", json=[task])
    assert response.status_code == 201, response.text
    assert response.json()["annotation_count"] == 2

    pulled = _tasks(url, admin, project_id, fields="all").json()["tasks"][0]
    by_user = {a["completed_by"]: a for a in pulled["annotations"]}
    assert by_user[first["id"]]["ground_truth"] is False
    assert by_user[second["id"]]["ground_truth"] is True

    unknown = dict(task, annotations=[{"result": _choice("a"), "completed_by": 10**6}])
    refused = admin.post(f"{url}/api/projects/{project_id}/import", json=[unknown])
    assert refused.status_code == 400
    assert "not a valid annotator's email or ID" in refused.text


def test_json_export_holds_every_annotation(
    label_studio: LabelStudioServer,
    admin: requests.Session,
    annotators: list[requests.Session],
    project: dict[str, Any],
) -> None:
    url, project_id = label_studio.url, project["id"]
    ids = [s.get(f"{url}/api/current-user/whoami").json()["id"] for s in annotators]
    tasks = [
        {
            "data": {"prompt": f"p{i}"},
            "annotations": [
                {"result": _choice("a"), "completed_by": user_id, "ground_truth": False}
                for user_id in ids
            ],
        }
        for i in range(10)
    ]
    _import(url, admin, project_id, tasks)
    response = admin.get(f"{url}/api/projects/{project_id}/export", params={"exportType": "JSON"})
    assert response.status_code == 200, response.text
    exported = response.json()
    assert len(exported) == 10
    assert all(sorted(a["completed_by"] for a in t["annotations"]) == sorted(ids) for t in exported)


def test_keyset_reads_each_task_once_when_pages_of_tasks_share_one_updated_at(
    label_studio: LabelStudioServer,
    admin: requests.Session,
    annotators: list[requests.Session],
    project: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """12 pages of tasks stamped with one ``updated_at`` by a real bulk path of Label Studio.

    The ties come from the Data Manager action "Delete Annotations" for one annotator
    (``POST /api/dm/actions?id=delete_tasks_annotations`` with ``annotator``): it deletes that
    annotator's annotations and stamps every task it touched with one ``datetime.now()`` in one
    UPDATE (``data_manager/actions/basic.py``). 1,200 tasks get two annotations each by bulk
    import; after the action each keeps the other annotator's. Read 100 tasks a page, the old
    reader (re-reading from the last instant less 1 µs) got the same page back forever.
    """
    url, project_id = label_studio.url, project["id"]
    keeper, dropped = (_whoami(url, s)["id"] for s in annotators[:2])
    tasks = [
        {
            "data": {"prompt": f"p{i}", "item_id": f"tie-{i}"},
            "annotations": [
                {"result": _choice("left"), "completed_by": keeper, "ground_truth": False},
                {"result": _choice("right"), "completed_by": dropped, "ground_truth": False},
            ],
        }
        for i in range(1200)
    ]
    _import(url, admin, project_id, tasks)
    before = datetime.now(UTC) - timedelta(days=3650)
    action = admin.post(
        f"{url}/api/dm/actions",
        params={"id": "delete_tasks_annotations", "project": project_id},
        json={"selectedItems": {"all": True, "excluded": []}, "annotator": dropped},
    )
    assert action.status_code == 200, action.text
    assert action.json()["processed_items"] == 1200

    monkeypatch.setattr(adapter, "PAGE_SIZE", 100)
    platform = LabelStudio(url, label_studio.admin_token, retries=0)
    rubric = load_rubric(
        Path(__file__).resolve().parents[1] / "rubrics" / "rlhf-pairwise" / "v1.yaml"
    )
    pages = []
    for page in platform.pull(str(project_id), rubric, since=before, display_left={}):
        pages.append(page)
        assert len(pages) <= 20, "the reader keeps returning pages: it does not end"
    seen = [task for page in pages for task in page.tasks]
    assert len({task.updated_at for task in seen}) == 1  # the ties are real: one instant
    assert len(seen) == len({task.task_id for task in seen}) == 1200  # each task once
    assert {task.item_key for task in seen} == {f"tie-{i}" for i in range(1200)}
    judgments = [j for page in pages for j in page.judgments]
    assert len(judgments) == 1200
    assert {j.value for j in judgments} == {"a"}
    assert {p.cursor for p in pages[:-1]} <= {None}  # the instant is stored only once read
    assert pages[-1].cursor == seen[0].updated_at
