"""``iaa-connector serve`` as a real process against a real Label Studio.

Label Studio calls the service's webhook inside each annotator's request; the service stores the
event before acknowledging it and its worker runs the same sync the scheduler runs. The service
is killed with SIGKILL while annotators keep working (Label Studio never retries, so those
events are lost) and restarted: its first scheduled sync catches up, with nothing lost and
nothing doubled against what the platform holds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from labelstudio_server import LabelStudioServer
from localhost import free_port
from test_labelstudio_loop import Loop, _choice, _items

pytestmark = pytest.mark.labelstudio

SECRET_ENV = "IAA_TEST_WEBHOOK_SECRET"
API_TOKEN = "iaa-e2e-api-token-8b1f"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def _wait(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


class Service:
    def __init__(self, config: Path, port: int, env: dict[str, str]) -> None:
        self.config, self.port, self.env = config, port, env
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "connector.cli", "serve", "-c", str(self.config),
             "--port", str(self.port), "--log-level", "warning"],
            env=self.env,
        )  # fmt: skip
        assert _wait(self._healthy), "the service did not become healthy"

    def _healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def running(label_studio: LabelStudioServer, tmp_path: Path) -> Iterator[tuple[Loop, Service]]:
    loop = Loop(label_studio, tmp_path)
    text = loop.config.path.read_text().replace(
        "overlap_seconds = 2\n", f'overlap_seconds = 2\nwebhook_secret_env = "{SECRET_ENV}"\n'
    )
    loop.config.path.write_text(text + "sync_interval_minutes = 0.05\n")
    env = {
        **os.environ,
        SECRET_ENV: "s3cret-e2e",
        "IAA_API_TOKEN": API_TOKEN,
        "PYTHONUNBUFFERED": "1",
    }
    service = Service(loop.config.path, free_port(), env)
    service.start()
    try:
        yield loop, service
    finally:
        service.kill()
        loop.store.close()


def _judgments(loop: Loop) -> int:
    return len(loop.store.judgments_frame("p"))


def test_webhook_to_judgments_and_crash_recovery(
    running: tuple[Loop, Service], label_studio: LabelStudioServer
) -> None:
    loop, service = running
    loop.push(_items("x", 6))
    loop.platform.install_webhook(
        str(loop.project_id),
        url=f"{service.url}/webhooks/label-studio/p",
        secret="s3cret-e2e",
    )
    tasks = [str(t["id"]) for t in loop.tasks()]
    one, two, three = label_studio.annotator_tokens[:3]
    for task in tasks[:3]:
        loop.annotate(one, task, _choice("left"))
    assert _wait(lambda: _judgments(loop) == 3), "webhook events were not synced"
    assert requests.get(f"{service.url}/metrics", timeout=5).status_code == 401
    metrics = requests.get(f"{service.url}/metrics", headers=AUTH, timeout=5).text
    assert 'iaa_webhook_events_received_total{platform="label-studio"}' in metrics
    assert requests.get(f"{service.url}/readyz", timeout=10).status_code == 200

    service.kill()  # SIGKILL: no shutdown code runs
    for task in tasks:
        loop.annotate(two, task, _choice("right"))  # webhooks fail: Label Studio drops them
    service.start()
    for task in tasks[3:]:
        loop.annotate(three, task, _choice("tie"))
    expected = 3 + len(tasks) + 3
    assert _wait(lambda: _judgments(loop) == expected, timeout=60), "the restart did not catch up"
    frame = loop.store.judgments_frame("p")
    live = {str(a["id"]) for t in loop.tasks() for a in t["annotations"]}
    stored = {a for ids in loop.store.annotation_ids_by_task("p", None).values() for a in ids}
    assert stored == live  # nothing lost
    assert len(frame) == len(live)  # nothing twice
    assert requests.get(f"{service.url}/reports/p", timeout=5).status_code == 401
    report = requests.get(f"{service.url}/reports/p", headers=AUTH, timeout=5)
    assert report.status_code == 200
    assert "<svg" in report.text


def test_bad_webhooks_are_refused_and_store_nothing(running: tuple[Loop, Service]) -> None:
    loop, service = running
    url = f"{service.url}/webhooks/label-studio/p"
    body = {"action": "ANNOTATION_CREATED", "annotation": {"id": 1}, "task": {"id": 1}}
    assert requests.post(url, json=body, timeout=5).status_code == 401
    wrong = {"X-IAA-Webhook-Secret": "nope"}
    assert requests.post(url, json=body, headers=wrong, timeout=5).status_code == 401
    right_secret = {"X-IAA-Webhook-Secret": "s3cret-e2e"}
    unknown = f"{service.url}/webhooks/label-studio/no-such-project"
    assert requests.post(unknown, json=body, headers=right_secret, timeout=5).status_code == 401
    as_text = {**right_secret, "Content-Type": "text/plain"}
    assert requests.post(url, data=b"{}", headers=as_text, timeout=5).status_code == 415
    right = {"X-IAA-Webhook-Secret": "s3cret-e2e", "Content-Type": "application/json"}
    assert requests.post(url, data=b"{not json", headers=right, timeout=5).status_code == 400
    assert requests.post(url, data=b"x" * (2 << 20), headers=right, timeout=10).status_code == 413
    assert loop.store.pending_webhook_events(100) == []


class _AlertSink:
    """A Slack-compatible webhook receiver on 127.0.0.1 that keeps every alert it gets."""

    def __init__(self) -> None:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, HTTPServer

        self.alerts: list[dict[str, object]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                sink.alerts.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def texts(self) -> list[str]:
        return [str(alert.get("text", "")) for alert in self.alerts]


def test_platform_down_service_keeps_serving_alerts_once_and_catches_up(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    if not label_studio.started_here:
        pytest.skip("stops the server: only on a server this session started")
    from labelstudio_server import DEPLOY_DIR

    sink = _AlertSink()
    loop = Loop(label_studio, tmp_path)
    loop.config.path.write_text(
        loop.config.path.read_text().replace(
            "[[platforms]]",
            '[alerts]\nwebhook_env = "IAA_TEST_ALERTS"\nmin_interval_seconds = 0.1\n\n'
            "[[platforms]]",
            1,
        )
        + "sync_interval_minutes = 0.01\n"
    )
    loop.push(_items("x", 2))
    tasks = [str(t["id"]) for t in loop.tasks()]
    env = {**os.environ, "IAA_TEST_ALERTS": sink.url, "PYTHONUNBUFFERED": "1"}
    service = Service(loop.config.path, free_port(), env)
    service.start()
    scripts = {
        **os.environ,
        "IAA_LS_PORT": str(label_studio.port),
        "IAA_LS_HOME": str(label_studio.home),
    }
    try:
        loop.annotate(label_studio.annotator_tokens[0], tasks[0], _choice("left"))
        assert _wait(lambda: _judgments(loop) == 1, timeout=30)
        subprocess.run(
            [str(DEPLOY_DIR / "stop.sh"), str(label_studio.port)], env=scripts, check=True
        )
        assert _wait(lambda: any("fail" in t.lower() for t in sink.texts()), timeout=60), (
            sink.texts()
        )
        time.sleep(5)  # several more failed runs: still one alert for this cause
        failing = [t for t in sink.texts() if "fail" in t.lower()]
        assert len(failing) == 1, sink.texts()
        assert requests.get(f"{service.url}/healthz", timeout=5).status_code == 200
        assert requests.get(f"{service.url}/readyz", timeout=10).status_code == 503
        restarted = subprocess.run(
            [str(DEPLOY_DIR / "start.sh")],
            env={**scripts, "IAA_LS_KEEP_DATA": "1"},
            capture_output=True,
            text=True,
        )
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
        loop.annotate(label_studio.annotator_tokens[1], tasks[1], _choice("right"))
        assert _wait(lambda: _judgments(loop) == 2, timeout=60), "no catch-up after the restart"
        # /readyz caches its answer for 5 s, so the 503 seen above may still be served.
        assert _wait(
            lambda: requests.get(f"{service.url}/readyz", timeout=10).status_code == 200,
            timeout=30,
        ), "/readyz did not recover after the restart"
    finally:
        service.kill()
        loop.store.close()
        sink.server.shutdown()
        sink.server.server_close()
