"""The service shows the validation gate read-only: ``GET /gate/{project}`` behind the API
token, computed from the store (nothing is promoted by reading it)."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient
from test_gate import Project, items, truth, v2

from connector.service.app import create_app

TOKEN = "gate-test-token"


def test_the_service_shows_the_gate_and_promotes_nothing(tmp_path: Path) -> None:
    project = Project(tmp_path)
    try:
        v2(project)
        project.judge(project.push("validation", items(30)), lambda i, k: truth(i))
        project.sync()
        client = TestClient(create_app(project.config, project.db, env={"IAA_API_TOKEN": TOKEN}))
        assert client.get("/gate/p").status_code == 401
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert client.get("/gate/unknown", headers=auth).status_code == 404
        response = client.get("/gate/p", headers=auth)
        assert response.status_code == 200
        body = response.json()
        assert body["gate"]["state"] == "accepted"
        assert body["gate"]["rubric"] == "gatetest@v2"
        assert body["gate"]["dimensions"][0]["lower"] >= 0.80
        assert body["gate"]["comparison"]["old"] == "gatetest@v1"
        assert body["promoted"] is False
        assert "rubric promote p 2" in body["production_refused"]
        assert body["promotions"] == []
        assert project.db.promotions("p") == []
    finally:
        project.db.close()


def test_every_route_but_health_and_webhooks_refuses_an_annotator(tmp_path: Path) -> None:
    """Gold secrecy (docs/security.md): routes are listed from the app itself, so a new route
    that shows anything is refused without the API token, or the test fails. An annotator's
    platform token (their own, as a bearer or as Label Studio sends it) opens nothing."""
    project = Project(tmp_path)
    try:
        v2(project)
        project.judge(project.push("validation", items(30)), lambda i, k: truth(i))
        project.sync()
        app = create_app(project.config, project.db, env={"IAA_API_TOKEN": TOKEN})
        open_routes = {"/healthz", "/readyz"}
        checked = []
        with TestClient(app) as client:
            for route in app.routes:
                path = getattr(route, "path", "")
                methods = getattr(route, "methods", None) or set()
                if "GET" not in methods or path in open_routes:
                    continue
                url = path.replace("{project}", "p")
                for headers in (
                    {},
                    {"Authorization": "Bearer iaa-ls-token-annotator1"},
                    {"Authorization": "Token iaa-ls-token-annotator1"},
                    {"Authorization": f"Bearer {TOKEN}x"},
                ):
                    answer = client.get(url, headers=headers)
                    assert answer.status_code == 401, (url, headers, answer.status_code)
                    assert "gatetest" not in answer.text
                checked.append(path)
            for path in open_routes:
                text = client.get(path).text
                assert "gate" not in text
                assert "annotator" not in text
        assert {"/gate/{project}", "/reports/{project}", "/metrics"} <= set(checked)
    finally:
        project.db.close()
