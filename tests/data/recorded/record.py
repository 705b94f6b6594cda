"""Record the real platform answers that tests/test_labelstudio_parse.py and
tests/test_argilla_parse.py parse offline (see README.md here).

    .venv/bin/python tests/data/recorded/record.py [label-studio] [argilla]

Uses the servers the tests use (IAA_LS_URL ... / IAA_ARGILLA_URL ..., or starts its own with
deploy/*/start.sh), builds one small project (Label Studio) and one small dataset (Argilla)
through the platforms' own REST APIs, acting as the admin and as annotators with their own
tokens, saves the answers the adapters read as JSON next to this file, and deletes the project
and the dataset. Only the users' lists are trimmed (to the users involved, and to the keys the
adapters read: no API key is ever written); every other answer is saved as the server sent it.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path[:0] = [str(REPO / "tests"), str(REPO)]

from argilla_server import ensure_argilla  # noqa: E402
from labelstudio_server import ensure_label_studio  # noqa: E402

from connector.platforms.argilla.settings import dataset_fields, dataset_questions  # noqa: E402
from connector.platforms.label_studio.labelconfig import generate_label_config  # noqa: E402
from connector.rubric import Dimension, load_rubric  # noqa: E402

RUBRIC = load_rubric(REPO / "rubrics" / "rlhf-pairwise" / "v2.yaml")


def save(path: str, payload: Any) -> None:
    target = HERE / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {target.relative_to(REPO)} ({target.stat().st_size} bytes)")


def ok(response: requests.Response) -> Any:
    if response.status_code >= 300:
        raise RuntimeError(f"{response.request.method} {response.url}: {response.text[:500]}")
    return response.json() if response.content else None


# -- Label Studio ---------------------------------------------------------------------------------


def _choice(name: str, value: str) -> dict[str, Any]:
    return {
        "from_name": name,
        "to_name": "prompt",
        "type": "choices",
        "value": {"choices": [value]},
    }


def _rating(name: str, value: int) -> dict[str, Any]:
    return {"from_name": name, "to_name": "prompt", "type": "rating", "value": {"rating": value}}


def record_label_studio() -> None:
    server = ensure_label_studio(annotators=3)
    try:
        url = server.url
        admin = requests.Session()
        admin.headers.update(server.headers(server.admin_token))
        people = []
        for token in server.annotator_tokens[:3]:
            session = requests.Session()
            session.headers.update(server.headers(token))
            people.append(session)
        first, second, third = people
        version = ok(admin.get(f"{url}/api/version"))
        project = ok(
            admin.post(
                f"{url}/api/projects/",
                json={
                    "title": f"iaa-recorded-{uuid.uuid4().hex[:6]}",
                    "label_config": generate_label_config(RUBRIC),
                    "maximum_annotations": 2,
                },
            )
        )
        pid = project["id"]
        try:
            started = datetime.now(UTC)
            ok(
                admin.post(
                    f"{url}/api/projects/{pid}/import",
                    json=[
                        {
                            "key": f"t-recorded-{name}",
                            "prompt": f"Question {name}?",
                            "response_left": f"Left answer to {name}.",
                            "response_right": f"Right answer to {name}, longer.",
                            **({"item_id": "item-e"} if name == "e" else {}),
                        }
                        for name in "abcdef"
                    ],
                )
            )
            tasks = ok(admin.get(f"{url}/api/tasks/", params={"project": pid}))["tasks"]
            a, b, c, d, _e, f = sorted(t["id"] for t in tasks)

            def annotate(session: requests.Session, task: int, result: Any, **extra: Any) -> int:
                body = {"result": result, "ground_truth": False, "lead_time": 4.5, **extra}
                created = ok(session.post(f"{url}/api/tasks/{task}/annotations/", json=body))
                return int(created["id"])

            # task a: two judgments (maximum_annotations 2), one updated afterwards, a second
            # annotation by the first annotator, and a third annotator over the maximum
            annotate(first, a, [_choice("overall", "left"), _rating("strength", 2)])
            changed = annotate(second, a, [_choice("overall", "tie")])
            time.sleep(1.1)
            ok(
                second.patch(
                    f"{url}/api/annotations/{changed}/",
                    json={"result": [_choice("overall", "right"), _rating("strength", 3)]},
                )
            )
            annotate(first, a, [_choice("overall", "right"), _rating("strength", 1)])
            annotate(third, a, [_choice("overall", "both_bad")])
            # task b: a skip, drafts (the admin's own is the only one its task list shows), and
            # results outside the rubric
            annotate(first, b, [], was_cancelled=True)
            for session in (second, admin):
                ok(
                    session.post(
                        f"{url}/api/tasks/{b}/drafts",
                        json={"result": [_choice("overall", "left")], "lead_time": 2.0},
                    )
                )
            annotate(
                third,
                b,
                [_choice("overall", "maybe"), _rating("strength", 5), _choice("tone", "rude")],
            )
            # task c: ground truth by the admin (a gold author in the tests), and a judgment;
            # task f: ground truth by an annotator. (One ground truth per task: Label Studio
            # unsets the task's earlier one when another annotation is marked.)
            annotate(admin, c, [_choice("overall", "left")], ground_truth=True)
            annotate(second, c, [_choice("overall", "left"), _rating("strength", 2)])
            annotate(first, f, [_choice("overall", "right")], ground_truth=True)
            annotate(third, f, [_choice("overall", "right"), _rating("strength", 1)])
            # task d: shown with b on the left (the store knows; the test says so)
            annotate(second, d, [_choice("overall", "left"), _rating("strength", 3)])
            annotate(third, d, [_choice("overall", "right"), _rating("strength", 1)])

            since = started.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            query = {
                "filters": {
                    "conjunction": "and",
                    "items": [
                        {
                            "filter": "filter:tasks:updated_at",
                            "operator": "greater",
                            "type": "Datetime",
                            "value": "2000-01-01T00:00:00.000000Z",
                        }
                    ],
                },
                "ordering": ["tasks:updated_at"],
            }
            page = admin.get(
                f"{url}/api/tasks/",
                params={
                    "project": pid,
                    "fields": "all",
                    "page": 1,
                    "page_size": 100,
                    "query": json.dumps(query),
                },
            )
            save("label_studio/tasks_page.json", ok(page))
            query["ordering"] = ["tasks:created_at"]
            query["filters"]["items"][0]["filter"] = "filter:tasks:created_at"  # type: ignore[index]
            query["filters"]["items"][0]["value"] = since  # type: ignore[index]
            page = admin.get(
                f"{url}/api/tasks/",
                params={
                    "project": pid,
                    "fields": "task_only",
                    "page": 1,
                    "page_size": 100,
                    "query": json.dumps(query),
                },
            )
            save("label_studio/tasks_task_only.json", ok(page))
            base = f"{url}/api/projects/{pid}/exports"
            export = ok(
                admin.post(
                    f"{base}/",
                    json={
                        "title": "iaa-connector full sync",
                        "task_filter_options": {"only_with_annotations": True},
                        "annotation_filter_options": {
                            "usual": True,
                            "ground_truth": True,
                            "skipped": True,
                        },
                    },
                )
            )
            while export.get("status") not in ("completed", "failed"):
                time.sleep(0.5)
                export = ok(admin.get(f"{base}/{export['id']}"))
            save(
                "label_studio/export_snapshot.json",
                ok(admin.get(f"{base}/{export['id']}/download", params={"exportType": "JSON"})),
            )
            ok(admin.delete(f"{base}/{export['id']}"))
            involved = {ok(s.get(f"{url}/api/current-user/whoami"))["id"] for s in (admin, *people)}
            users = ok(admin.get(f"{url}/api/users/"))
            users = users if isinstance(users, list) else users["results"]
            save(
                "label_studio/users.json",
                [
                    {k: u.get(k) for k in ("id", "email", "username")}
                    for u in users
                    if u["id"] in involved
                ],
            )
            save(
                "label_studio/version.json",
                {"label-studio-os-package": version.get("label-studio-os-package")},
            )
        finally:
            admin.delete(f"{url}/api/projects/{pid}/")
    finally:
        server.stop()


# -- Argilla --------------------------------------------------------------------------------------


def record_argilla() -> None:
    server = ensure_argilla(annotators=3)
    try:
        url = server.url
        owner = requests.Session()
        owner.headers.update(server.headers(server.owner_api_key))
        people = []
        for key in server.annotator_api_keys[:3]:
            session = requests.Session()
            session.headers.update(server.headers(key))
            people.append(session)
        first, second, third = people
        status = ok(owner.get(f"{url}/api/v1/status"))
        workspaces = ok(owner.get(f"{url}/api/v1/me/workspaces"))["items"]
        workspace = next(w for w in workspaces if w["name"] == server.workspace)
        # the dataset offers more than rubric v2 allows: an extra value, a longer scale and a
        # question the rubric does not have (what a dataset edited by hand might hold)
        overall, strength = RUBRIC.dimensions
        wide = replace(
            RUBRIC,
            dimensions=(
                replace(overall, values=(*overall.values, "unsure")),
                replace(strength, values=(1, 2, 3, 4, 5)),
                Dimension(
                    name="tone",
                    question="Is either response rude?",
                    kind="choice",
                    values=("ok", "rude"),
                    level="nominal",
                ),
            ),
        )
        dataset = ok(
            owner.post(
                f"{url}/api/v1/datasets",
                json={
                    "name": f"iaa-recorded-{uuid.uuid4().hex[:6]}",
                    "workspace_id": workspace["id"],
                    "distribution": {"strategy": "overlap", "min_submitted": 2},
                },
            )
        )
        did = dataset["id"]
        try:
            for field in dataset_fields(wide):
                ok(owner.post(f"{url}/api/v1/datasets/{did}/fields", json=field))
            for question in dataset_questions(wide):
                question["required"] = question["name"] == "overall"
                ok(owner.post(f"{url}/api/v1/datasets/{did}/questions", json=question))
            ok(owner.put(f"{url}/api/v1/datasets/{did}/publish"))
            ok(
                owner.post(
                    f"{url}/api/v1/datasets/{did}/records/bulk",
                    json={
                        "items": [
                            {
                                "external_id": f"t-recorded-{name}",
                                "fields": {
                                    "prompt": f"Question {name}?",
                                    "response_a": f"First answer to {name}.",
                                    "response_b": f"Second answer to {name}, longer.",
                                },
                            }
                            for name in "abcd"
                        ]
                    },
                )
            )
            records = ok(owner.get(f"{url}/api/v1/datasets/{did}/records", params={"limit": 10}))
            ids = {r["external_id"][-1]: r["id"] for r in records["items"]}

            def respond(session: requests.Session, name: str, status: str, **values: Any) -> str:
                body = {"values": {k: {"value": v} for k, v in values.items()}, "status": status}
                created = ok(session.post(f"{url}/api/v1/records/{ids[name]}/responses", json=body))
                return str(created["id"])

            # record a: two submitted (one changed afterwards) and a draft
            respond(first, "a", "submitted", overall="a", strength=2)
            changed = respond(second, "a", "submitted", overall="tie")
            time.sleep(1.1)
            ok(
                second.put(
                    f"{url}/api/v1/responses/{changed}",
                    json={
                        "values": {"overall": {"value": "b"}, "strength": {"value": 3}},
                        "status": "submitted",
                    },
                )
            )
            respond(third, "a", "draft", overall="a")
            # record b: a discarded response, and answers outside rubric v2
            respond(first, "b", "discarded")
            respond(second, "b", "submitted", overall="unsure", strength=5, tone="rude")
            # record c: shown with b first (the store knows; the test says so)
            respond(third, "c", "submitted", overall="a", strength=1)
            respond(first, "c", "submitted", overall="both_bad")
            save(
                "argilla/records_page.json",
                ok(
                    owner.get(
                        f"{url}/api/v1/datasets/{did}/records",
                        params={"offset": 0, "limit": 500, "include": "responses"},
                    )
                ),
            )
            save(
                "argilla/records_without_responses.json",
                ok(
                    owner.get(
                        f"{url}/api/v1/datasets/{did}/records", params={"offset": 0, "limit": 500}
                    )
                ),
            )
            involved = {ok(s.get(f"{url}/api/v1/me"))["id"] for s in (owner, *people)}
            users = ok(owner.get(f"{url}/api/v1/users"))["items"]
            save(
                "argilla/users.json",
                {
                    "items": [
                        {k: u.get(k) for k in ("id", "username", "role")}
                        for u in users
                        if u["id"] in involved
                    ]
                },
            )
            save("argilla/version.json", {"version": status.get("version")})
        finally:
            owner.delete(f"{url}/api/v1/datasets/{did}")
    finally:
        server.stop()


if __name__ == "__main__":
    wanted = set(sys.argv[1:]) or {"label-studio", "argilla"}
    if "label-studio" in wanted:
        record_label_studio()
    if "argilla" in wanted:
        record_argilla()
