"""Tests of connector.service.app: webhook intake (signatures, secrets, limits, durability),
health, readiness, metrics and reports.

Each test builds the app inline over a real SQLite store in ``tmp_path`` and drives it with
Starlette's test client. Secrets come from an ``env`` mapping given to the app, never from the
process environment.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from localhost import QuietHandler, serving
from starlette.applications import Starlette
from starlette.testclient import TestClient

import connector.service as service
import connector.service.webhooks as webhooks
from connector.config import Config, PlatformConfig, ProjectConfig
from connector.rubric import load_rubric
from connector.service import EventWorker, Metrics, create_app
from connector.service.app import MAX_BODY_BYTES
from connector.service.redact import SecretFilter, install_secret_filter, secret_env_names
from connector.service.webhooks import sign_standard_webhook
from connector.store import StatusDecision, Store, StoreError

ROOT = Path(__file__).resolve().parents[1]
RUBRIC = ROOT / "rubrics" / "rlhf-pairwise" / "v2.yaml"
NOW = 1_760_000_000.0
LS_SECRET = "ls-shared-secret-0123456789"
LS_TOKEN = "ls-api-token-abcdef987654"
ARGILLA_KEY = b"argilla-signing-key-32-bytes-xx!"
ARGILLA_SECRET = "whsec_" + base64.b64encode(ARGILLA_KEY).decode()
DATASET = "3d673549-ad31-4485-97eb-31f9dcd0df71"
API_TOKEN = "iaa-api-token-5f0c2a9e7d"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
ENV = {
    "IAA_TEST_LS_SECRET": LS_SECRET,
    "IAA_ARGILLA_WEBHOOK_SECRET": ARGILLA_SECRET,
    "IAA_API_TOKEN": API_TOKEN,
}
METRIC_LINE = re.compile(
    r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? '
    r"(-?[0-9.e+-]+|NaN|[+-]Inf)$"
)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_config(
    tmp_path: Path, *, ls_url: str | None = None, argilla_url: str | None = None
) -> Config:
    return Config(
        path=tmp_path / "iaa.toml",
        store_url=f"sqlite:///{tmp_path / 'iaa.db'}",
        reports_dir=tmp_path / "reports",
        public_url=None,
        platforms=(
            PlatformConfig(
                name="ls",
                kind="label-studio",
                url=ls_url or f"http://127.0.0.1:{_closed_port()}",
                token_env="IAA_TEST_LS_TOKEN",
            ),
            PlatformConfig(
                name="argilla",
                kind="argilla",
                url=argilla_url or f"http://127.0.0.1:{_closed_port()}",
                token_env="IAA_TEST_ARGILLA_TOKEN",
            ),
        ),
        projects=(
            ProjectConfig(
                key="pairwise",
                platform="ls",
                project_id="7",
                rubric=RUBRIC,
                webhook_secret_env="IAA_TEST_LS_SECRET",
            ),
            ProjectConfig(key="no-hooks", platform="ls", project_id="8", rubric=RUBRIC),
            ProjectConfig(key="prefs", platform="argilla", project_id=DATASET, rubric=RUBRIC),
        ),
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'iaa.db'}") as opened:
        yield opened


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


@pytest.fixture
def app(config: Config, store: Store) -> Starlette:
    return create_app(config, store, env=ENV, clock=lambda: NOW)


@pytest.fixture
def client(app: Starlette) -> TestClient:
    return TestClient(app)


def ls_payload(
    action: str = "ANNOTATION_CREATED", annotation: int = 11, updated: str = "t1"
) -> dict[str, Any]:
    return {
        "action": action,
        "annotation": {"id": annotation, "updated_at": updated, "result": []},
        "task": {"id": 5, "data": {"prompt": "p"}},
        "project": {"id": 7, "token": LS_TOKEN},
    }


def post_ls(
    client: TestClient, payload: Any, *, secret: str | None = LS_SECRET, project: str = "pairwise"
) -> Any:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-IAA-Webhook-Secret"] = secret
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(f"/webhooks/label-studio/{project}", content=body, headers=headers)


def argilla_payload(kind: str = "response.created", dataset: str = DATASET) -> dict[str, Any]:
    if kind.startswith("dataset."):
        return {
            "type": kind,
            "version": 1,
            "timestamp": "2024-09-26T14:17:20Z",
            "data": {"id": dataset},
        }
    record = {"id": "rec-1", "dataset": {"id": dataset, "name": "prefs"}}
    data = record if kind.startswith("record.") else {"id": "resp-1", "record": record}
    return {"type": kind, "version": 1, "timestamp": "2024-09-26T14:17:20Z", "data": data}


def signed_headers(
    body: bytes,
    *,
    event_id: str = "msg_1",
    timestamp: float = NOW,
    secret: str = ARGILLA_SECRET,
) -> dict[str, str]:
    stamp = int(timestamp)
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign_standard_webhook(secret, event_id, stamp, body),
        "content-type": "application/json",
    }


def post_argilla(client: TestClient, payload: Any, **kwargs: Any) -> Any:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post("/webhooks/argilla", content=body, headers=signed_headers(body, **kwargs))


def stored(store: Store) -> list[str]:
    return [e.event_id for e in store.pending_webhook_events(1000)]


def rejected(client: TestClient, platform: str, reason: str) -> float:
    metrics: Metrics = client.app.state.metrics  # type: ignore[attr-defined]
    return metrics.counter("iaa_webhook_events_rejected_total", platform=platform, reason=reason)


# --- public API -------------------------------------------------------------------------------


def test_all_is_complete_and_sorted() -> None:
    assert service.__all__ == sorted(service.__all__)
    assert all(hasattr(service, name) for name in service.__all__)
    exported = {
        name
        for module in (service.app, service.runner, service.worker, service.scheduler)
        for name in module.__all__
        if not name.isupper()
    } - {"FailureCallback", "JobSpec", "DELETION_EVENTS"}
    assert exported <= set(service.__all__)


# --- Argilla: Standard Webhooks ---------------------------------------------------------------


def test_argilla_valid_signature_is_stored_before_the_ack(client: TestClient, store: Store) -> None:
    response = post_argilla(client, argilla_payload())
    assert response.status_code == 202
    assert response.json() == {"status": "accepted", "event_id": "msg_1"}
    # the response is back: the event must be in the store already
    (event,) = store.pending_webhook_events(10)
    assert event.event_id == "msg_1"
    assert event.platform == "argilla"
    assert event.project_key == "prefs"
    assert event.payload["event"] == "response.created"
    assert event.payload["dataset_id"] == DATASET
    assert event.payload["record_id"] == "rec-1"


@pytest.mark.parametrize(
    "secret",
    [ARGILLA_SECRET, base64.b64encode(ARGILLA_KEY).decode()],
    ids=["whsec_form", "plain_base64"],
)
def test_argilla_secret_forms(tmp_path: Path, store: Store, secret: str) -> None:
    app = create_app(
        make_config(tmp_path), store, env={"IAA_ARGILLA_WEBHOOK_SECRET": secret}, clock=lambda: NOW
    )
    # the sender signs with the whsec_ form; the receiver may hold either form
    response = post_argilla(TestClient(app), argilla_payload(), secret=ARGILLA_SECRET)
    assert response.status_code == 202
    assert stored(store) == ["msg_1"]


def test_argilla_wrong_signature(client: TestClient, store: Store) -> None:
    wrong = "whsec_" + base64.b64encode(b"another key").decode()
    response = post_argilla(client, argilla_payload(), secret=wrong)
    assert response.status_code == 401
    assert stored(store) == []
    assert rejected(client, "argilla", "signature") == 1


def test_argilla_signature_over_another_body(client: TestClient, store: Store) -> None:
    body = json.dumps(argilla_payload()).encode()
    headers = signed_headers(body)
    response = client.post("/webhooks/argilla", content=body + b" ", headers=headers)
    assert response.status_code == 401
    assert stored(store) == []


def test_argilla_one_of_several_signatures_matches(client: TestClient, store: Store) -> None:
    body = json.dumps(argilla_payload()).encode()
    headers = signed_headers(body)
    headers["webhook-signature"] = f"v1,bm90IGl0 v2,xyz {headers['webhook-signature']}"
    assert client.post("/webhooks/argilla", content=body, headers=headers).status_code == 202


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_argilla_missing_headers(client: TestClient, store: Store, missing: str) -> None:
    body = json.dumps(argilla_payload()).encode()
    headers = signed_headers(body)
    del headers[missing]
    response = client.post("/webhooks/argilla", content=body, headers=headers)
    assert response.status_code == 401
    assert stored(store) == []
    assert rejected(client, "argilla", "missing_headers") == 1


@pytest.mark.parametrize("offset", [-301, 301, -3600], ids=["old", "future", "replay_1h"])
def test_argilla_timestamp_outside_tolerance(client: TestClient, store: Store, offset: int) -> None:
    response = post_argilla(client, argilla_payload(), timestamp=NOW + offset)
    assert response.status_code == 401
    assert "replay/timestamp" in response.json()["error"]
    assert stored(store) == []
    assert rejected(client, "argilla", "timestamp") == 1


def test_argilla_timestamp_at_the_edge_of_tolerance(client: TestClient, store: Store) -> None:
    assert post_argilla(client, argilla_payload(), timestamp=NOW - 300).status_code == 202


def test_argilla_without_secret_configured_refuses(tmp_path: Path, store: Store) -> None:
    app = create_app(make_config(tmp_path), store, env={}, clock=lambda: NOW)
    client = TestClient(app)
    assert post_argilla(client, argilla_payload()).status_code == 401
    assert rejected(client, "argilla", "secret_unset") == 1
    assert stored(store) == []


@pytest.mark.parametrize(
    "kind", ["response.updated", "response.deleted", "record.completed", "record.deleted"]
)
def test_argilla_followed_events(client: TestClient, store: Store, kind: str) -> None:
    assert post_argilla(client, argilla_payload(kind), event_id=f"msg_{kind}").status_code == 202
    (event,) = store.pending_webhook_events(10)
    assert event.payload["event"] == kind
    assert event.project_key == "prefs"


def test_argilla_dataset_events_use_data_id(client: TestClient, store: Store) -> None:
    assert post_argilla(client, argilla_payload("dataset.updated")).status_code == 202
    assert stored(store) == ["msg_1"]


def test_argilla_record_dataset_id_form(client: TestClient, store: Store) -> None:
    payload = {"type": "response.updated", "data": {"record": {"id": "r", "dataset_id": DATASET}}}
    assert post_argilla(client, payload).status_code == 202


def test_argilla_other_dataset_is_acknowledged_and_ignored(
    client: TestClient, store: Store
) -> None:
    response = post_argilla(client, argilla_payload(dataset="someone-elses-dataset"))
    assert response.status_code == 204
    assert stored(store) == []


def test_argilla_unknown_event_type_is_acknowledged_and_ignored(
    client: TestClient, store: Store
) -> None:
    payload = {"type": "user.created", "data": {"id": "u"}}
    assert post_argilla(client, payload).status_code == 204
    assert stored(store) == []


def test_argilla_duplicate_is_stored_once(client: TestClient, store: Store) -> None:
    first = post_argilla(client, argilla_payload())
    again = post_argilla(client, argilla_payload())
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["status"] == "duplicate"
    assert stored(store) == ["msg_1"]


def test_argilla_malformed_json_is_400(client: TestClient, store: Store) -> None:
    assert post_argilla(client, b"{not json").status_code == 400
    assert post_argilla(client, b"[1, 2]", event_id="msg_2").status_code == 400
    assert post_argilla(client, b"\xff\xfe", event_id="msg_3").status_code == 400
    assert post_argilla(client, b"[" * 100_000, event_id="msg_4").status_code == 400
    assert stored(store) == []
    assert rejected(client, "argilla", "malformed") == 4


# --- Label Studio: shared secret --------------------------------------------------------------


def test_label_studio_right_secret_is_stored(client: TestClient, store: Store) -> None:
    response = post_ls(client, ls_payload())
    assert response.status_code == 202
    (event,) = store.pending_webhook_events(10)
    assert event.event_id.startswith("ls:")
    assert event.project_key == "pairwise"
    assert event.payload["event"] == "ANNOTATION_CREATED"
    assert event.payload["annotation_ids"] == ["11"]
    assert event.payload["task_ids"] == ["5"]


def test_label_studio_stores_no_token_and_logs_nothing_secret(
    client: TestClient, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    post_ls(client, ls_payload())
    post_ls(client, ls_payload(), secret="wrong-secret")
    (event,) = store.pending_webhook_events(10)
    assert LS_TOKEN not in json.dumps(dict(event.payload))
    assert LS_TOKEN not in caplog.text
    assert LS_SECRET not in caplog.text


@pytest.mark.parametrize(
    ("secret", "reason"),
    [("wrong", "wrong_secret"), (None, "missing_secret"), ("", "missing_secret")],
)
def test_label_studio_wrong_or_missing_secret(
    client: TestClient, store: Store, secret: str | None, reason: str
) -> None:
    assert post_ls(client, ls_payload(), secret=secret).status_code == 401
    assert stored(store) == []
    assert rejected(client, "label-studio", reason) == 1


def test_label_studio_secret_is_compared_in_constant_time(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    original = webhooks.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return original(a, b)

    monkeypatch.setattr(webhooks.hmac, "compare_digest", spy)
    post_ls(client, ls_payload(), secret="wrong")
    post_ls(client, ls_payload())
    assert calls == [(b"wrong", LS_SECRET.encode()), (LS_SECRET.encode(), LS_SECRET.encode())]


@pytest.mark.parametrize("project", ["unknown", "no-hooks", "prefs"])
def test_label_studio_unknown_project_is_401_like_a_wrong_secret(
    client: TestClient, store: Store, project: str
) -> None:
    # unknown, without webhook_secret_env, or an Argilla project: the same answer as a known
    # project with a wrong secret, so the route does not tell which project keys exist
    unknown = post_ls(client, ls_payload(), project=project)
    unknown_right_secret = post_ls(client, ls_payload(), project=project, secret=LS_SECRET)
    wrong = post_ls(client, ls_payload(), secret="wrong")
    for response in (unknown, unknown_right_secret):
        assert (response.status_code, response.content) == (wrong.status_code, wrong.content)
        assert response.status_code == 401
    assert rejected(client, "label-studio", "unknown_project") == 2
    assert stored(store) == []


def test_label_studio_unknown_project_compares_a_dummy_secret_in_constant_time(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    original = webhooks.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return original(a, b)

    monkeypatch.setattr(webhooks.hmac, "compare_digest", spy)
    post_ls(client, ls_payload(), project="unknown", secret="guess")
    (call,) = calls
    assert call[0] == b"guess"
    assert call[1] not in (b"", LS_SECRET.encode())  # a dummy, never empty


def test_label_studio_secret_is_checked_before_the_body_size(
    client: TestClient, store: Store
) -> None:
    big = b"{" + b" " * (300 * 1024) + b"}"
    assert post_ls(client, big, project="unknown").status_code == 401
    assert post_ls(client, big, secret="wrong").status_code == 401
    assert post_ls(client, big).status_code == 413


def test_label_studio_unset_secret_env_refuses(
    tmp_path: Path, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    client = TestClient(create_app(make_config(tmp_path), store, env={}))
    assert post_ls(client, ls_payload(), secret="").status_code == 401
    assert post_ls(client, ls_payload(), secret="anything").status_code == 401
    assert "IAA_TEST_LS_SECRET" in caplog.text  # names the variable, once
    assert caplog.text.count("IAA_TEST_LS_SECRET") == 1


def test_label_studio_malformed_json_is_400(client: TestClient, store: Store) -> None:
    assert post_ls(client, b"{oops").status_code == 400
    assert post_ls(client, b'"a string"').status_code == 400
    assert stored(store) == []


def test_label_studio_unknown_action_is_204(client: TestClient, store: Store) -> None:
    assert post_ls(client, ls_payload(action="PROJECT_UPDATED")).status_code == 204
    assert post_ls(client, {"no": "action"}).status_code == 204
    assert stored(store) == []
    metrics: Metrics = client.app.state.metrics  # type: ignore[attr-defined]
    ignored = metrics.counter(
        "iaa_webhook_events_ignored_total", platform="label-studio", reason="event_type"
    )
    assert ignored == 2


def test_label_studio_repeat_of_a_change_is_a_duplicate(client: TestClient, store: Store) -> None:
    assert post_ls(client, ls_payload()).status_code == 202
    assert post_ls(client, ls_payload()).status_code == 200
    assert post_ls(client, ls_payload(updated="t2")).status_code == 202  # a new change
    assert post_ls(client, ls_payload(action="ANNOTATION_UPDATED")).status_code == 202
    assert len(stored(store)) == 3


def test_label_studio_deletions(client: TestClient, store: Store) -> None:
    deleted = {
        "action": "ANNOTATIONS_DELETED",
        "annotations": [{"id": 3}, {"id": 1}],
        "project": {"id": 7},
    }
    tasks = {"action": "TASKS_DELETED", "tasks": [{"id": 9}], "project": {"id": 7}}
    assert post_ls(client, deleted).status_code == 202
    assert post_ls(client, tasks).status_code == 202
    events = {e.payload["event"]: e for e in store.pending_webhook_events(10)}
    assert events["ANNOTATIONS_DELETED"].payload["annotation_ids"] == ["1", "3"]
    assert events["TASKS_DELETED"].payload["task_ids"] == ["9"]


def test_new_event_wakes_the_worker(config: Config, store: Store) -> None:
    worker = EventWorker(store, lambda key, full=False: None)
    client = TestClient(create_app(config, store, worker=worker, env=ENV))
    post_ls(client, ls_payload())
    assert worker._wake.is_set()


# --- size limit -------------------------------------------------------------------------------


def test_oversized_by_content_length_is_413(client: TestClient, store: Store) -> None:
    big = b'{"action": "ANNOTATION_CREATED", "x": "' + b"a" * MAX_BODY_BYTES + b'"}'
    assert post_ls(client, big).status_code == 413
    assert post_argilla(client, big).status_code == 413
    assert stored(store) == []
    assert rejected(client, "label-studio", "too_large") == 1
    assert rejected(client, "argilla", "too_large") == 1


def test_exactly_the_limit_is_accepted(client: TestClient, store: Store) -> None:
    payload = ls_payload()
    body = json.dumps(payload).encode()
    padded = body[:-1] + b', "pad": "' + b"a" * (MAX_BODY_BYTES - len(body) - 11) + b'"}'
    assert len(padded) == MAX_BODY_BYTES == 256 * 1024
    assert post_ls(client, padded).status_code == 202
    assert post_ls(client, padded[:-1] + b' "}').status_code == 413


def test_oversized_chunked_body_is_413(client: TestClient, store: Store) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"action": "ANNOTATION_CREATED", "x": "'
        for _ in range(20):
            yield b"a" * 65536
        yield b'"}'

    response = client.post(
        "/webhooks/label-studio/pairwise",
        content=chunks(),
        headers={"X-IAA-Webhook-Secret": LS_SECRET, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    body = b"x" * (MAX_BODY_BYTES + 1)
    argilla = client.post(
        "/webhooks/argilla", content=iter([body[:1000], body[1000:]]), headers=signed_headers(body)
    )
    assert argilla.status_code == 413
    assert stored(store) == []


def test_small_chunked_body_is_accepted(client: TestClient, store: Store) -> None:
    body = json.dumps(ls_payload()).encode()
    response = client.post(
        "/webhooks/label-studio/pairwise",
        content=iter([body[:10], body[10:]]),
        headers={"X-IAA-Webhook-Secret": LS_SECRET, "Content-Type": "application/json"},
    )
    assert response.status_code == 202


# --- fuzzing ----------------------------------------------------------------------------------

header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80)


def test_fuzzed_requests_never_5xx_and_store_nothing(tmp_path: Path, store: Store) -> None:
    client = TestClient(create_app(make_config(tmp_path), store, env=ENV, clock=lambda: NOW))

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        body=st.one_of(
            st.binary(max_size=2048),
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                lambda inner: (
                    st.lists(inner, max_size=4)
                    | st.dictionaries(
                        st.sampled_from(
                            ["action", "type", "data", "annotation", "task", "id", "dataset"]
                        ),
                        inner,
                        max_size=4,
                    )
                ),
                max_leaves=20,
            ).map(lambda v: json.dumps(v).encode()),
        ),
        event_id=header_text,
        stamp=st.one_of(header_text, st.integers(0, 2 * int(NOW)).map(str)),
        signature=header_text,
        secret=header_text,
        project=st.sampled_from(["pairwise", "no-hooks", "prefs", "x"]),
    )
    def fuzz(
        body: bytes, event_id: str, stamp: str, signature: str, secret: str, project: str
    ) -> None:
        argilla = client.post(
            "/webhooks/argilla",
            content=body,
            headers={
                "webhook-id": event_id,
                "webhook-timestamp": stamp,
                "webhook-signature": signature,
            },
        )
        assert argilla.status_code < 500
        assert argilla.status_code in (400, 401, 413, 415)
        ls = client.post(
            f"/webhooks/label-studio/{project}",
            content=body,
            headers={"X-IAA-Webhook-Secret": secret, "Content-Type": "application/json"},
        )
        assert ls.status_code == 401
        assert stored(store) == []

    fuzz()


def test_fuzzed_validly_signed_bodies_never_5xx(tmp_path: Path, store: Store) -> None:
    client = TestClient(create_app(make_config(tmp_path), store, env=ENV, clock=lambda: NOW))
    counter = iter(range(10**9))

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        body=st.one_of(
            st.binary(max_size=512),
            st.fixed_dictionaries(
                {
                    "type": st.sampled_from(
                        ["response.created", "record.deleted", "dataset.updated", "x"]
                    ),
                    "data": st.recursive(
                        st.none() | st.integers() | st.text(max_size=10) | st.just(DATASET),
                        lambda inner: st.dictionaries(
                            st.sampled_from(["id", "dataset", "record", "dataset_id"]),
                            inner,
                            max_size=3,
                        ),
                        max_leaves=10,
                    ),
                }
            ).map(lambda v: json.dumps(v).encode()),
        )
    )
    def fuzz(body: bytes) -> None:
        event_id = f"msg_{next(counter)}"
        response = client.post(
            "/webhooks/argilla", content=body, headers=signed_headers(body, event_id=event_id)
        )
        assert response.status_code in (202, 204, 400)
        ls = client.post(
            "/webhooks/label-studio/pairwise",
            content=body,
            headers={"X-IAA-Webhook-Secret": LS_SECRET, "Content-Type": "application/json"},
        )
        assert ls.status_code in (200, 202, 204, 400)

    fuzz()


# --- health, readiness, metrics, reports -------------------------------------------------------


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.text) == (200, "ok\n")


def test_readyz_names_the_platforms_that_are_down(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503
    down = response.json()["down"]
    assert set(down) == {"platform ls", "platform argilla"}
    assert "store" not in down


class _Health(QuietHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 401)
        self.end_headers()


@pytest.fixture
def platform_url() -> Iterator[str]:
    with serving(_Health) as url:
        yield url


def test_readyz_ready_when_everything_answers(
    tmp_path: Path, store: Store, platform_url: str
) -> None:
    config = make_config(tmp_path, ls_url=platform_url, argilla_url=platform_url)
    client = TestClient(create_app(config, store, env=ENV))
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"store": "ok", "platform ls": "ok", "platform argilla": "ok"},
    }


def test_readyz_reports_an_unreachable_store(tmp_path: Path, platform_url: str) -> None:
    config = make_config(tmp_path, ls_url=platform_url, argilla_url=platform_url)
    broken = Store.open(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}", migrate=False)
    (tmp_path / "missing-dir").rmdir()
    client = TestClient(create_app(config, broken, env=ENV))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert list(response.json()["down"]) == ["store"]


def test_metrics_text_parses(client: TestClient, store: Store) -> None:
    post_ls(client, ls_payload())
    post_ls(client, ls_payload())
    post_ls(client, ls_payload(), secret="bad")
    post_argilla(client, argilla_payload(), secret="whsec_" + base64.b64encode(b"k").decode())
    rubric = load_rubric(RUBRIC, check_layout=False)
    store.save_report(
        "pairwise",
        {
            "dimensions": {
                "overall": {"krippendorff_alpha": {"value": 0.712}},
                "helpfulness": {"krippendorff_alpha": {"value": None}},
            }
        },
    )
    for name, status in [("ann-1", "qualified"), ("ann-2", "qualified"), ("ann-3", "probation")]:
        store.record_decisions(
            "pairwise",
            [
                StatusDecision(
                    annotator=name,
                    rubric_id=rubric.id,
                    status=status,
                    decided_at=datetime(2024, 5, 1, tzinfo=UTC),
                )
            ],
        )
    metrics: Metrics = client.app.state.metrics  # type: ignore[attr-defined]
    metrics.observe_sync("pairwise", 1.5)
    metrics.count("iaa_sync_errors_total", project="pairwise")

    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    values: dict[str, float] = {}
    for line in response.text.splitlines():
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) [a-z_]+ .+$", line), line
            continue
        assert METRIC_LINE.match(line), line
        name, value = line.rsplit(" ", 1)
        values[name] = float(value)
    assert values['iaa_webhook_events_received_total{platform="label-studio"}'] == 2
    assert values['iaa_webhook_events_stored_total{platform="label-studio"}'] == 1
    assert values['iaa_webhook_events_duplicate_total{platform="label-studio"}'] == 1
    assert (
        values['iaa_webhook_events_rejected_total{platform="label-studio",reason="wrong_secret"}']
        == 1
    )
    assert values['iaa_webhook_events_rejected_total{platform="argilla",reason="signature"}'] == 1
    assert values['iaa_alpha{dimension="overall",project="pairwise"}'] == pytest.approx(0.712)
    assert not any(k.startswith('iaa_alpha{dimension="helpfulness"') for k in values)
    assert values['iaa_annotators{project="pairwise",status="qualified"}'] == 2
    assert values['iaa_annotators{project="pairwise",status="probation"}'] == 1
    assert values['iaa_annotators{project="prefs",status="qualified"}'] == 0
    assert values['iaa_sync_duration_seconds_count{project="pairwise"}'] == 1
    assert values['iaa_sync_duration_seconds_sum{project="pairwise"}'] == pytest.approx(1.5)
    assert values['iaa_sync_duration_seconds_bucket{le="1",project="pairwise"}'] == 0
    assert values['iaa_sync_duration_seconds_bucket{le="2.5",project="pairwise"}'] == 1
    assert values['iaa_sync_duration_seconds_bucket{le="+Inf",project="pairwise"}'] == 1
    assert values['iaa_sync_errors_total{project="pairwise"}'] == 1


def test_metrics_escape_label_values() -> None:
    metrics = Metrics()
    metrics.count("iaa_sync_errors_total", project='we"ird\\key\nx')
    (line,) = [
        line
        for line in metrics.render().splitlines()
        if not line.startswith("#") and "errors" in line
    ]
    assert line == 'iaa_sync_errors_total{project="we\\"ird\\\\key\\nx"} 1'
    assert METRIC_LINE.match(line)


def test_reports_serves_the_latest_html(client: TestClient, store: Store, tmp_path: Path) -> None:
    assert client.get("/reports/pairwise", headers=AUTH).status_code == 404
    assert client.get("/reports/unknown", headers=AUTH).status_code == 404
    old, new = tmp_path / "old.html", tmp_path / "new.html"
    old.write_text("<html>old</html>", encoding="utf-8")
    new.write_text("<html>new report</html>", encoding="utf-8")
    store.save_report(
        "pairwise", {"dimensions": {}}, html_path=old, created_at=datetime(2024, 1, 1, tzinfo=UTC)
    )
    store.save_report(
        "pairwise", {"dimensions": {}}, html_path=new, created_at=datetime(2024, 2, 1, tzinfo=UTC)
    )
    response = client.get("/reports/pairwise", headers=AUTH)
    assert response.status_code == 200
    assert response.text == "<html>new report</html>"
    assert response.headers["content-type"].startswith("text/html")


def test_reports_404_when_the_file_is_gone(
    client: TestClient, store: Store, tmp_path: Path
) -> None:
    store.save_report("pairwise", {"dimensions": {}}, html_path=tmp_path / "deleted.html")
    assert client.get("/reports/pairwise", headers=AUTH).status_code == 404


# --- secrets in logs --------------------------------------------------------------------------


def test_secret_filter_redacts_known_secret_values(config: Config) -> None:
    env = {
        "IAA_TEST_LS_TOKEN": LS_TOKEN,
        "IAA_TEST_LS_SECRET": LS_SECRET,
        "IAA_ARGILLA_WEBHOOK_SECRET": "tiny",
    }
    names = secret_env_names(config, "IAA_ARGILLA_WEBHOOK_SECRET")
    assert names == (
        "IAA_TEST_LS_TOKEN",
        "IAA_TEST_ARGILLA_TOKEN",
        "IAA_TEST_LS_SECRET",
        "IAA_ARGILLA_WEBHOOK_SECRET",
        "IAA_API_TOKEN",
    )
    secret_filter = SecretFilter(names, env=env)
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "token %s in %r", (LS_TOKEN, {"s": LS_SECRET}), None
    )
    assert secret_filter.filter(record)
    assert record.getMessage() == "token *** in {'s': '***'}"
    try:
        raise RuntimeError(f"failed with {LS_TOKEN}")
    except RuntimeError:
        import sys

        failed = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    secret_filter.filter(failed)
    assert failed.exc_text is not None
    assert LS_TOKEN not in failed.exc_text
    assert "failed with ***" in failed.exc_text
    harmless = logging.LogRecord("x", logging.INFO, __file__, 1, "tiny words stay", None, None)
    secret_filter.filter(harmless)  # secrets shorter than MIN_SECRET_LENGTH are not masked
    assert harmless.getMessage() == "tiny words stay"


def test_lifespan_starts_and_stops_the_worker(
    tmp_path: Path, store: Store, platform_url: str
) -> None:
    config = make_config(tmp_path, ls_url=platform_url, argilla_url=platform_url)
    synced: list[str] = []
    worker = EventWorker(store, lambda key, full=False: synced.append(key), debounce_s=0.0)
    app = create_app(config, store, worker=worker, env=ENV, freeze_gc=False)
    with TestClient(app) as client:
        assert worker.running
        ready = client.get("/readyz")
        assert ready.json()["checks"]["event worker"] == "ok"
        assert post_ls(client, ls_payload()).status_code == 202
        deadline = time.monotonic() + 10
        while store.pending_webhook_events(10) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert synced == ["pairwise"]
    assert not worker.running
    metrics: Metrics = app.state.metrics
    assert metrics.counter("iaa_webhook_events_processed_total", platform="label-studio") == 1


def test_install_secret_filter_guards_handlers(caplog: pytest.LogCaptureFixture) -> None:
    handler = logging.StreamHandler(io.StringIO())
    logger = logging.getLogger("iaa-test-redaction")
    logger.addHandler(handler)
    try:
        install_secret_filter(
            ["IAA_TEST_LS_TOKEN"],
            loggers=["iaa-test-redaction"],
            env={"IAA_TEST_LS_TOKEN": LS_TOKEN},
        )
        logger.warning("the token is %s", LS_TOKEN)
        assert isinstance(handler.stream, io.StringIO)
        assert handler.stream.getvalue() == "the token is ***\n"
    finally:
        logger.removeHandler(handler)


def test_argilla_overlong_event_id_is_400(client: TestClient, store: Store) -> None:
    assert post_argilla(client, argilla_payload(), event_id="m" * 256).status_code == 400
    assert post_argilla(client, argilla_payload(), event_id="m" * 255).status_code == 202
    assert stored(store) == ["m" * 255]


# --- API token: /metrics and /reports ----------------------------------------------------------


@pytest.mark.parametrize("route", ["/metrics", "/reports/pairwise", "/reports/unknown"])
@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing_token"),
        ({"Authorization": "Bearer wrong-token"}, "wrong_token"),
        ({"Authorization": f"Basic {API_TOKEN}"}, "wrong_token"),
        ({"Authorization": API_TOKEN}, "wrong_token"),
        ({"Authorization": f"Bearer {API_TOKEN}x"}, "wrong_token"),
    ],
    ids=["none", "wrong", "basic_scheme", "no_scheme", "longer"],
)
def test_reports_and_metrics_need_the_bearer_token(
    client: TestClient, route: str, headers: dict[str, str], reason: str
) -> None:
    response = client.get(route, headers=headers)
    assert response.status_code == 401  # an unknown project too: keys are not revealed
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "iaa_annotators" not in response.text
    metrics: Metrics = client.app.state.metrics  # type: ignore[attr-defined]
    assert metrics.counter("iaa_api_requests_rejected_total", reason=reason) == 1


def test_the_right_bearer_token_opens_metrics_and_reports(client: TestClient) -> None:
    assert client.get("/metrics", headers=AUTH).status_code == 200
    assert client.get("/metrics", headers={"Authorization": f"bearer {API_TOKEN}"}).is_success
    assert client.get("/reports/pairwise", headers=AUTH).status_code == 404  # none yet
    assert client.get("/reports/unknown", headers=AUTH).status_code == 404


def test_a_rotated_token_takes_effect_at_once(config: Config, store: Store) -> None:
    env = dict(ENV)
    client = TestClient(create_app(config, store, env=env))
    assert client.get("/metrics", headers=AUTH).status_code == 200
    env["IAA_API_TOKEN"] = "a-new-token-after-rotation"
    assert client.get("/metrics", headers=AUTH).status_code == 401
    new = {"Authorization": "Bearer a-new-token-after-rotation"}
    assert client.get("/metrics", headers=new).status_code == 200


@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
def test_unset_api_token_refuses_everyone_and_warns_once(
    config: Config, store: Store, caplog: pytest.LogCaptureFixture, value: str | None
) -> None:
    env = {k: v for k, v in ENV.items() if k != "IAA_API_TOKEN"}
    if value is not None:
        env["IAA_API_TOKEN"] = value
    client = TestClient(create_app(config, store, env=env))
    for headers in ({}, {"Authorization": "Bearer "}, AUTH):
        assert client.get("/metrics", headers=headers).status_code == 401
        assert client.get("/reports/pairwise", headers=headers).status_code == 401
    warnings = [r.getMessage() for r in caplog.records if "IAA_API_TOKEN" in r.getMessage()]
    assert len(warnings) == 1
    assert API_TOKEN not in caplog.text


def test_api_token_is_compared_in_constant_time_on_bytes(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import connector.service.app as app_module

    calls: list[tuple[object, object]] = []
    original = app_module.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return original(a, b)

    monkeypatch.setattr(app_module.hmac, "compare_digest", spy)
    client.get("/metrics", headers={"Authorization": "Bearer guess"})
    client.get("/reports/pairwise", headers={"Authorization": "Basic guess"})
    assert calls == [(b"guess", API_TOKEN.encode()), (b"guess", API_TOKEN.encode())]


def test_health_and_readiness_stay_open_and_show_no_secret(
    tmp_path: Path, store: Store, platform_url: str
) -> None:
    env = {**ENV, "IAA_TEST_LS_TOKEN": LS_TOKEN}
    for config in (make_config(tmp_path), make_config(tmp_path, ls_url=platform_url)):
        client = TestClient(create_app(config, store, env=env))
        for route in ("/healthz", "/readyz"):
            response = client.get(route)
            assert response.status_code in (200, 503)
            for secret in (API_TOKEN, LS_SECRET, LS_TOKEN, ARGILLA_SECRET, str(tmp_path)):
                assert secret not in response.text
                assert secret not in str(response.headers)


# --- content type -------------------------------------------------------------------------------


def test_webhooks_need_a_json_content_type(client: TestClient, store: Store) -> None:
    body = json.dumps(argilla_payload()).encode()
    for media_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = signed_headers(body)
        ls_headers = {"X-IAA-Webhook-Secret": LS_SECRET}
        if media_type is None:
            del headers["content-type"]
        else:
            headers["content-type"] = ls_headers["Content-Type"] = media_type
        assert client.post("/webhooks/argilla", content=body, headers=headers).status_code == 415
        ls = client.post(
            "/webhooks/label-studio/pairwise",
            content=json.dumps(ls_payload()).encode(),
            headers=ls_headers,
        )
        assert ls.status_code == 415
    assert stored(store) == []
    assert rejected(client, "argilla", "content_type") == 3
    assert rejected(client, "label-studio", "content_type") == 3
    headers = signed_headers(body)
    headers["content-type"] = "Application/JSON; charset=utf-8"
    assert client.post("/webhooks/argilla", content=body, headers=headers).status_code == 202


# --- what is refused before a body is read -------------------------------------------------------


def _asgi_post(
    app: Starlette, path: str, headers: dict[str, str], chunks: list[bytes]
) -> tuple[int, dict[str, str], int]:
    """POST straight through ASGI; (status, headers, how many body chunks the app asked for)."""
    import anyio

    asked = [0]
    sent: dict[str, Any] = {}
    queue = list(chunks)

    async def receive() -> dict[str, Any]:
        asked[0] += 1
        if queue:
            chunk = queue.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(queue)}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            sent["status"] = message["status"]
            sent["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8765),
    }
    anyio.run(app, scope, receive, send)
    return sent["status"], sent["headers"], asked[0]


def _argilla_headers(body_size: int, **changes: str | None) -> dict[str, str]:
    headers = {
        "content-type": "application/json",
        "content-length": str(body_size),
        "webhook-id": "msg_x",
        "webhook-timestamp": str(int(NOW)),
        "webhook-signature": "v1,bm90IGEgc2lnbmF0dXJl",
    }
    for name, value in changes.items():
        name = name.replace("_", "-")
        if value is None:
            del headers[name]
        else:
            headers[name] = value
    return headers


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"webhook_id": None}, 401),
        ({"webhook_timestamp": None}, 401),
        ({"webhook_signature": None}, 401),
        ({"webhook_timestamp": str(int(NOW) - 301)}, 401),
        ({"webhook_timestamp": str(int(NOW) + 3600)}, 401),
        ({"webhook_timestamp": "soon"}, 401),
        ({"webhook_id": "m" * 256}, 400),
        ({"content_type": "text/plain"}, 415),
        ({"content_length": str(MAX_BODY_BYTES + 1)}, 413),
    ],
    ids=[
        "no_id",
        "no_timestamp",
        "no_signature",
        "stale",
        "future",
        "not_a_time",
        "long_id",
        "media_type",
        "declared_too_large",
    ],
)
def test_argilla_refuses_before_reading_the_body(
    app: Starlette, store: Store, changes: dict[str, str | None], status: int
) -> None:
    body = b"{" + b" " * 1000 + b"}"
    answer, _, asked = _asgi_post(
        app, "/webhooks/argilla", _argilla_headers(len(body), **changes), [body]
    )
    assert answer == status
    assert asked == 0  # not a byte of the body was read
    assert stored(store) == []


def test_label_studio_refuses_a_wrong_secret_before_reading_the_body(app: Starlette) -> None:
    body = json.dumps(ls_payload()).encode()
    for path, secret in (
        ("/webhooks/label-studio/pairwise", "wrong"),
        ("/webhooks/label-studio/unknown", LS_SECRET),
    ):
        headers = {"content-type": "application/json", "x-iaa-webhook-secret": secret}
        status, _, asked = _asgi_post(app, path, headers, [body])
        assert (status, asked) == (401, 0)


def test_only_so_many_bodies_are_read_at_once(tmp_path: Path, store: Store) -> None:
    """Bodies being read hold a slot; with every slot taken the next request gets 503 and
    Retry-After without its body being read; once the slots free up requests pass again."""
    import anyio

    app = create_app(
        make_config(tmp_path), store, env=ENV, clock=lambda: NOW, max_concurrent_bodies=2
    )
    body = json.dumps(argilla_payload()).encode()
    results: dict[str, tuple[int, dict[str, str], int]] = {}
    release = anyio.Event()

    async def post(name: str, *, stall: bool) -> None:
        headers = signed_headers(body, event_id=name)
        headers["content-length"] = str(len(body))
        asked = [0]
        sent: dict[str, Any] = {}

        async def receive() -> dict[str, Any]:
            asked[0] += 1
            if asked[0] == 1:
                return {"type": "http.request", "body": body[:10], "more_body": True}
            if stall:
                await release.wait()  # a slow sender: the slot stays taken
            return {"type": "http.request", "body": body[10:], "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
                sent["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/webhooks/argilla",
            "raw_path": b"/webhooks/argilla",
            "query_string": b"",
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 8765),
        }
        await app(scope, receive, send)
        results[name] = (sent["status"], sent["headers"], asked[0])

    async def main() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(lambda: post("slow_1", stall=True))
            group.start_soon(lambda: post("slow_2", stall=True))
            await anyio.wait_all_tasks_blocked()
            await post("refused", stall=False)
            release.set()
        await post("after", stall=False)

    anyio.run(main)
    status, headers, asked = results["refused"]
    assert (status, headers["retry-after"], asked) == (503, "1", 0)
    assert results["slow_1"][0] == results["slow_2"][0] == 202
    assert results["after"][0] == 202
    metrics: Metrics = app.state.metrics
    assert (
        metrics.counter("iaa_webhook_events_rejected_total", platform="argilla", reason="busy") == 1
    )
    assert sorted(stored(store)) == ["after", "slow_1", "slow_2"]


# --- the body limit against real event sizes ------------------------------------------------------


def _argilla_response_event(fields: dict[str, str]) -> bytes:
    """A ``response.created`` event as argilla-server 2.8 sends it (its webhooks/v1/schemas.py:
    the response, its record with every field, the dataset's schema and guidelines, the user),
    for a dataset made from the pairwise rubric by the connector's own settings."""
    from connector.platforms.argilla.settings import dataset_fields, dataset_questions

    rubric = load_rubric(RUBRIC, check_layout=False)
    at = "2024-09-26T14:17:20.123456"

    def row(**values: Any) -> dict[str, Any]:
        return {"id": "9b8c6d1e-1f2a-4b3c-8d4e-5f6a7b8c9d0e", **values, "inserted_at": at}

    dataset = row(
        name="prefs",
        guidelines=rubric.guidelines,
        allow_extra_metadata=False,
        status="ready",
        distribution={"strategy": "overlap", "min_submitted": 3},
        workspace=row(name="iaa", updated_at=at),
        questions=[row(**q, updated_at=at) for q in dataset_questions(rubric)],
        fields=[row(**f, updated_at=at) for f in dataset_fields(rubric)],
        metadata_properties=[
            row(
                name="iaa_agreement",
                title="Inter-annotator agreement",
                settings={"type": "float", "min": 0.0, "max": 1.0},
                visible_for_annotators=False,
                updated_at=at,
            )
        ],
        vectors_settings=[],
        last_activity_at=at,
        updated_at=at,
    )
    dataset["id"] = DATASET
    record = row(
        status="pending",
        fields=fields,
        metadata={"display_left": "a", "iaa_agreement": 0.42},
        external_id="k" * 40,
        dataset=dataset,
        updated_at=at,
    )
    user = row(first_name="Ann", last_name=None, username="annotator1", role="annotator")
    data = row(
        values={d.name: {"value": "a"} for d in rubric.dimensions},
        status="submitted",
        record=record,
        user=user,
        updated_at=at,
    )
    event = {"type": "response.created", "version": 1, "timestamp": at + "Z", "data": data}
    return json.dumps(event).encode()


def test_real_sized_events_fit_the_body_limit(client: TestClient, store: Store) -> None:
    """The schema, guidelines and envelope of an Argilla event are ~6 KiB; the rest is the
    record's text. The largest demo item makes a 7 KB event; a long-context item (a 30,000-word
    prompt and two 2,000-word responses) still fits in 256 KiB."""
    items = [
        json.loads(line)
        for line in (ROOT / "examples" / "label-studio-demo" / "items.jsonl")
        .read_text()
        .splitlines()
    ]
    names = ("prompt", "response_a", "response_b")
    largest = max(items, key=lambda item: sum(len(item[n]) for n in names))
    demo = _argilla_response_event({n: largest[n] for n in names})
    words = "the quick brown fox jumps over a lazy dog "
    long_context = _argilla_response_event(
        {
            "prompt": (words * 3400).strip(),  # ~30,000 words
            "response_a": (words * 230).strip(),
            "response_b": (words * 230).strip(),
        }
    )
    assert len(demo) < 16 * 1024
    assert len(long_context) < MAX_BODY_BYTES
    for n, body in enumerate((demo, long_context)):
        response = post_argilla(client, body, event_id=f"msg_real_{n}")
        assert response.status_code == 202, response.text
    assert sorted(stored(store)) == ["msg_real_0", "msg_real_1"]


# --- group commit: many requests, few transactions, each answer after its own write ----------


def _post_concurrently(
    app: Starlette, bodies: list[tuple[str, bytes]], *, on_answer: Any = None
) -> list[tuple[int, Any]]:
    """Signed Argilla events (id, body) posted through ASGI at once, in one event loop; their
    (status, JSON answer). ``on_answer(event_id, status)`` runs as each answer starts."""
    import asyncio

    answers: list[tuple[int, Any]] = [(0, None)] * len(bodies)

    async def post(index: int, event_id: str, body: bytes) -> None:
        headers = signed_headers(body, event_id=event_id)
        delivered = False
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answers[index] = (message["status"], None)
                if on_answer is not None:
                    on_answer(event_id, message["status"])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/webhooks/argilla",
            "raw_path": b"/webhooks/argilla",
            "query_string": b"",
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 8765),
        }
        await app(scope, receive, send)
        answers[index] = (answers[index][0], json.loads(b"".join(chunks) or b"null"))

    async def main() -> None:
        await asyncio.gather(*(post(i, e, b) for i, (e, b) in enumerate(bodies)))

    asyncio.run(main())
    return answers


def _event_body(n: int) -> bytes:
    payload = argilla_payload()
    payload["data"]["id"] = f"resp-{n}"
    return json.dumps(payload).encode()


def test_events_arriving_together_share_a_transaction_each_stored_before_its_answer(
    app: Starlette, store: Store
) -> None:
    post_argilla(TestClient(app), argilla_payload(), event_id="msg_old")
    before = app.state.intake.transactions
    bodies = [(f"msg_{n}", _event_body(n)) for n in range(40)]
    bodies += [("msg_3", _event_body(3)), ("msg_old", _event_body(99))]  # repeats
    seen_stored: dict[str, bool] = {}

    def on_answer(event_id: str, status: int) -> None:
        # the answer is being sent: the event must be in the store already
        seen_stored[event_id] = event_id in stored(store)

    answers = _post_concurrently(app, bodies, on_answer=on_answer)
    assert [status for status, _ in answers] == [202] * 40 + [200, 200]
    assert answers[0][1] == {"status": "accepted", "event_id": "msg_0"}
    assert answers[-1][1] == {"status": "duplicate", "event_id": "msg_old"}
    assert len(seen_stored) == 41
    assert all(seen_stored.values())
    assert sorted(stored(store)) == sorted({"msg_old", *(f"msg_{n}" for n in range(40))})
    # one turn of the event loop: one transaction, not 42
    assert app.state.intake.transactions - before <= 3
    metrics: Metrics = app.state.metrics
    assert metrics.counter("iaa_webhook_events_stored_total", platform="argilla") == 41
    assert metrics.counter("iaa_webhook_events_duplicate_total", platform="argilla") == 2


class _FailingIntake:
    """A store intake that refuses some batches: ``refuse(event ids)`` gives the error's cause
    (None: the batch is written by the real intake)."""

    def __init__(self, store: Store, refuse: Any) -> None:
        self.real = store.webhook_intake()
        self.refuse = refuse
        self.batches: list[list[str]] = []

    def add(self, events: Any) -> list[bool]:
        ids = [e.event_id for e in events]
        self.batches.append(ids)
        cause = self.refuse(ids)
        if cause is not None:
            try:
                raise cause
            except Exception as exc:
                raise StoreError("storing webhook events failed: refused") from exc
        result: list[bool] = self.real.add(events)
        return result

    def close(self) -> None:
        self.real.close()


def test_a_database_failure_fails_its_batch_with_503_counted(
    config: Config, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    locked = OperationalError("INSERT", None, Exception("database is locked"))
    intake = _FailingIntake(store, lambda ids: locked)
    monkeypatch.setattr(store, "webhook_intake", lambda: intake)
    app = create_app(config, store, env=ENV, clock=lambda: NOW)
    answers = _post_concurrently(app, [(f"msg_{n}", _event_body(n)) for n in range(5)])
    assert [status for status, _ in answers] == [503] * 5
    assert answers[0][1] == {"error": "the event could not be stored; retry"}
    assert len(intake.batches) == 1  # the database is the problem: no retries one by one
    metrics: Metrics = app.state.metrics
    assert (
        metrics.counter(
            "iaa_webhook_events_rejected_total", platform="argilla", reason="store_error"
        )
        == 5
    )
    assert stored(store) == []


def test_an_event_the_database_refuses_fails_alone(
    config: Config, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL refuses a NUL character in an event's text (see tests/test_store.py): the
    batch holding it is written again one event per transaction, so only that one fails."""
    from sqlalchemy.exc import DataError

    refused = DataError("INSERT", None, Exception("unsupported Unicode escape sequence"))
    intake = _FailingIntake(store, lambda ids: refused if "msg_bad" in ids else None)
    monkeypatch.setattr(store, "webhook_intake", lambda: intake)
    app = create_app(config, store, env=ENV, clock=lambda: NOW)
    bodies = [(f"msg_{n}", _event_body(n)) for n in range(4)]
    bodies.insert(2, ("msg_bad", _event_body(9)))
    answers = _post_concurrently(app, bodies)
    assert [status for status, _ in answers] == [202, 202, 503, 202, 202]
    assert len(intake.batches[0]) == 5  # the batch, then each of its events alone
    assert len(intake.batches) == 6
    assert sorted(stored(store)) == ["msg_0", "msg_1", "msg_2", "msg_3"]


def test_the_intake_writer_thread_ends_with_the_app_and_starts_again(
    app: Starlette, store: Store
) -> None:
    intake = app.state.intake
    with TestClient(app) as client:
        assert post_argilla(client, argilla_payload(), event_id="msg_1").status_code == 202
        assert intake.running
    assert not intake.running  # the lifespan's end wrote what was handed over and ended it
    # an app driven without its lifespan starts the thread with the next event
    assert post_argilla(TestClient(app), argilla_payload(), event_id="msg_2").status_code == 202
    assert intake.running
    assert stored(store) == ["msg_1", "msg_2"]
    intake.close()
    assert not intake.running


def test_webhook_paths_other_than_the_routes_get_the_routers_answers(client: TestClient) -> None:
    """POSTs to the two webhook routes go straight to their endpoints; everything else about
    those paths is still the router's."""
    assert client.get("/webhooks/argilla").status_code == 405
    assert client.get("/webhooks/label-studio/pairwise").status_code == 405
    headers = {"Content-Type": "application/json", "X-IAA-Webhook-Secret": LS_SECRET}
    for path in ("/webhooks/label-studio/", "/webhooks/label-studio/pairwise/x"):
        assert client.post(path, content=b"{}", headers=headers).status_code == 404


def test_webhooks_under_a_root_path_go_through_the_router_with_the_same_answers(
    app: Starlette, store: Store
) -> None:
    """Under a root_path the webhook POSTs take the router (not the way round Starlette); the
    answers are the same: status, JSON body, content type and length, Retry-After."""
    direct = TestClient(app)
    mounted = TestClient(app, root_path="/iaa")
    body = json.dumps(argilla_payload()).encode()
    answers = []
    for client, event_id in ((direct, "msg_direct"), (mounted, "msg_mounted")):
        headers = signed_headers(body, event_id=event_id)
        path = "/webhooks/argilla" if client is direct else "/iaa/webhooks/argilla"
        accepted = client.post(path, content=body, headers=headers)
        duplicate = client.post(path, content=body, headers=headers)
        wrong = client.post(path, content=body + b" ", headers=headers)
        for response in (accepted, duplicate, wrong):
            assert response.headers["content-type"] == "application/json"
            assert response.headers["content-length"] == str(len(response.content))
        answers.append(
            [
                (accepted.status_code, accepted.json()["status"]),
                (duplicate.status_code, duplicate.json()["status"]),
                (wrong.status_code, wrong.json()),
            ]
        )
        ignored = client.post(
            path,
            content=(other := json.dumps(argilla_payload(dataset="other")).encode()),
            headers=signed_headers(other, event_id=event_id + "_other"),
        )
        assert (ignored.status_code, ignored.content) == (204, b"")
        assert "content-length" not in ignored.headers
    assert (
        answers[0]
        == answers[1]
        == [
            (202, "accepted"),
            (200, "duplicate"),
            (401, {"error": "no webhook-signature matches"}),
        ]
    )
    assert stored(store) == ["msg_direct", "msg_mounted"]


def test_an_unexpected_error_in_a_webhook_endpoint_is_a_logged_500(
    app: Starlette, store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug on the intake's path is answered as Starlette's server-error middleware would
    (500, logged with its traceback), and the event is not stored."""

    def broken(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(service.app, "argilla_summary", broken)
    with caplog.at_level(logging.ERROR, logger="connector.service.app"):
        response = post_argilla(TestClient(app), argilla_payload())
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    (record,) = [r for r in caplog.records if r.name == "connector.service.app"]
    assert record.getMessage() == "webhook /webhooks/argilla failed"
    assert record.exc_info is not None
    assert "a bug" in str(record.exc_info[1])
    assert stored(store) == []


def test_the_intake_writer_thread_ends_when_idle_and_starts_again(
    app: Starlette, store: Store
) -> None:
    intake = app.state.intake
    intake.idle_s = 0.05
    client = TestClient(app)
    assert post_argilla(client, argilla_payload(), event_id="msg_1").status_code == 202
    deadline = time.monotonic() + 10
    while intake.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not intake.running
    assert post_argilla(client, argilla_payload(), event_id="msg_2").status_code == 202
    assert stored(store) == ["msg_1", "msg_2"]
    intake.close()
