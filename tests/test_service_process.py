"""``iaa-connector serve`` as a real process, for the tests that need its real logging, sockets
and memory: a small configuration in a directory, start (wait for ``/healthz``), stop, output.

    with ServeProcess(tmp_path, env={"IAA_TEST_LS_TOKEN": "…"}) as service:
        requests.get(f"{service.url}/healthz")
    service.output  # what it printed on stdout and stderr

Free of connector imports beyond the command line itself, so it can measure another checkout
(``PYTHONPATH=/path/to/checkout``).
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from types import TracebackType

import requests
from localhost import free_port

__all__ = ["RUBRIC", "ServeProcess", "rss_kib", "write_config"]

ROOT = Path(__file__).resolve().parents[1]
RUBRIC = ROOT / "rubrics" / "rlhf-pairwise" / "v2.yaml"


def write_config(
    folder: Path, *, platform_port: int, platform_path: str = "", extra_server: str = ""
) -> Path:
    """A configuration with one Label Studio project ``p`` (webhook secret in
    ``IAA_TEST_LS_SECRET``, token in ``IAA_TEST_LS_TOKEN``) at
    ``http://127.0.0.1:{platform_port}{platform_path}`` and one Argilla dataset ``prefs``."""
    config = folder / "iaa.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{folder / "iaa.db"}"\n'
        f'[reports]\ndir = "{folder / "reports"}"\n'
        f"[server]\n{extra_server}\n"
        "[[platforms]]\n"
        'name = "ls"\nkind = "label-studio"\n'
        f'url = "http://127.0.0.1:{platform_port}{platform_path}"\n'
        'token_env = "IAA_TEST_LS_TOKEN"\n'
        "[[platforms]]\n"
        'name = "argilla"\nkind = "argilla"\n'
        f'url = "http://127.0.0.1:{platform_port}"\ntoken_env = "IAA_TEST_ARGILLA_TOKEN"\n'
        "[[projects]]\n"
        'key = "p"\nplatform = "ls"\nproject_id = 7\n'
        f'rubric = "{RUBRIC}"\nwebhook_secret_env = "IAA_TEST_LS_SECRET"\n'
        "[[projects]]\n"
        'key = "prefs"\nplatform = "argilla"\nproject_id = "3d673549-ad31-4485-97eb-31f9dcd0df71"\n'
        f'rubric = "{RUBRIC}"\n',
        encoding="utf-8",
    )
    return config


def rss_kib(pid: int) -> tuple[int, int]:
    """(current, peak) resident set size of a process in KiB (``VmRSS``, ``VmHWM``)."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields["VmRSS"], fields["VmHWM"]


class ServeProcess:
    """``python -m connector.cli serve`` on a free port, its output captured to files."""

    def __init__(
        self,
        folder: Path,
        *,
        env: dict[str, str],
        args: tuple[str, ...] = ("--no-scheduler",),
        log_level: str = "info",
        platform_port: int | None = None,
        platform_path: str = "",
        extra_server: str = "",
    ) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = write_config(
            folder,
            platform_port=platform_port or free_port(),
            platform_path=platform_path,
            extra_server=extra_server,
        )
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
        self.args = args
        self.log_level = log_level
        self.process: subprocess.Popen[bytes] | None = None
        self._stdout = folder / "serve.stdout"
        self._stderr = folder / "serve.stderr"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout_s: float = 60.0) -> None:
        with self._stdout.open("wb") as out, self._stderr.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "connector.cli", "serve", "-c", str(self.config),
                 "--port", str(self.port), "--log-level", self.log_level, *self.args],
                env=self.env,
                stdout=out,
                stderr=err,
            )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited with {self.process.returncode}:\n{self.output}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"serve did not become healthy within {timeout_s} s:\n{self.output}")

    def stop(self) -> None:
        """SIGTERM (uvicorn shuts down cleanly, flushing its logs), then wait."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    @property
    def output(self) -> str:
        """Everything the process wrote on stdout and stderr so far."""
        parts = [p.read_text(errors="replace") for p in (self._stdout, self._stderr) if p.exists()]
        return "\n".join(parts)

    def __enter__(self) -> ServeProcess:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


# --- memory under a flood of unauthenticated webhook bodies ----------------------------------


async def _post(
    port: int, index: int, size: int, *, chunked: bool, ready: asyncio.Event, now: int
) -> int:
    """One POST /webhooks/argilla with plausible headers and a wrong signature; all but the last
    byte is sent, then it waits for ``ready`` (every request in flight) before finishing."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        "POST /webhooks/argilla HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        f"webhook-id: msg_flood_{index}\r\nwebhook-timestamp: {now}\r\n"
        "webhook-signature: v1,c2lnbmF0dXJl\r\n"
    )
    head += "transfer-encoding: chunked\r\n\r\n" if chunked else f"content-length: {size}\r\n\r\n"
    body = b"a" * (size - 1)
    try:
        writer.write(head.encode())
        if chunked:
            for start in range(0, len(body), 65536):
                piece = body[start : start + 65536]
                writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                await writer.drain()
        else:
            writer.write(body)
            await writer.drain()
        await ready.wait()
        writer.write(b"1\r\na\r\n0\r\n\r\n" if chunked else b"a")
        await writer.drain()
    except (ConnectionError, OSError):
        pass  # answered (413/503) and closed before the whole body was sent
    try:
        status_line = await asyncio.wait_for(reader.readline(), timeout=60)
    except (ConnectionError, OSError, TimeoutError):
        return 0
    finally:
        writer.close()
    parts = status_line.split()
    return int(parts[1]) if len(parts) > 1 else 0


def flood(pid: int, port: int, *, posts: int, size: int, chunked: bool) -> dict[str, object]:
    """Send ``posts`` concurrent bodies of ``size`` bytes; the server's resident memory growth
    (peak sampled every 5 ms minus before) in MiB and the answers by status."""
    before, _ = rss_kib(pid)
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_kib(pid)[0])
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    async def run() -> list[int]:
        ready = asyncio.Event()
        now = int(time.time())
        tasks = [
            asyncio.create_task(_post(port, i, size, chunked=chunked, ready=ready, now=now))
            for i in range(posts)
        ]
        await asyncio.sleep(0)
        await asyncio.wait(tasks, timeout=3)  # the bodies are in flight (or answered)
        await asyncio.sleep(1.0)  # the server reads what it will read
        ready.set()
        return list(await asyncio.gather(*tasks))

    try:
        statuses = asyncio.run(run())
    finally:
        done.set()
        sampler.join()
    peak[0] = max(peak[0], rss_kib(pid)[0])
    return {
        "growth_mib": round((peak[0] - before) / 1024, 1),
        "before_mib": round(before / 1024, 1),
        "statuses": dict(sorted(Counter(statuses).items())),
    }


# --- the tests ----------------------------------------------------------------------------------

LS_TOKEN = "lstok-7d3f9a1c5e2b46809b1e"  # token-like: what must never reach a log line
API_TOKEN = "iaa-api-token-0c8e5d2f71"
ARGILLA_SECRET = "whsec_" + base64.b64encode(b"argilla-signing-key-32-bytes-xx!").decode()


def test_serve_logs_mask_secrets_and_never_print_query_strings(tmp_path: Path) -> None:
    """The real ``iaa-connector serve``: requests that put the platform token in a query string,
    a path and a webhook secret header, and a scheduled sync whose errors name a platform URL
    holding it; the token is nowhere in the output, the paths are."""
    env = {
        "IAA_TEST_LS_TOKEN": LS_TOKEN,
        "IAA_TEST_LS_SECRET": "ls-webhook-secret-1234",
        "IAA_API_TOKEN": API_TOKEN,
    }
    # the scheduler runs: its first sync, 5 s after the start, fails against the closed port
    # and logs the platform URL, whose path holds the token
    service = ServeProcess(
        tmp_path, env=env, args=(), log_level="debug", platform_path=f"/{LS_TOKEN}"
    )
    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    hook = {"Content-Type": "application/json"}
    with service:
        url = service.url
        assert requests.get(f"{url}/metrics?access_token={LS_TOKEN}", timeout=5).status_code == 401
        assert requests.get(f"{url}/metrics?x=1", headers=auth, timeout=5).status_code == 200
        bearer = {"Authorization": f"Bearer {LS_TOKEN}"}
        assert requests.get(f"{url}/reports/p", headers=bearer, timeout=5).status_code == 401
        assert requests.get(f"{url}/reports/{LS_TOKEN}", timeout=5).status_code == 401
        assert (
            requests.get(f"{url}/reports/p?token={LS_TOKEN}", headers=auth, timeout=5).status_code
            == 404
        )
        wrong_secret = {**hook, "X-IAA-Webhook-Secret": LS_TOKEN}
        body = {"action": "ANNOTATION_CREATED", "annotation": {"id": 1}, "project": {"token": 1}}
        for path in ("/webhooks/label-studio/p", f"/webhooks/label-studio/{LS_TOKEN}?s={LS_TOKEN}"):
            answer = requests.post(f"{url}{path}", json=body, headers=wrong_secret, timeout=5)
            assert answer.status_code == 401
        deadline = time.monotonic() + 30
        while "transient platform error" not in service.output and time.monotonic() < deadline:
            time.sleep(0.2)
    output = service.output
    assert "transient platform error" in output, output  # the sync's failure was logged
    assert LS_TOKEN not in output
    assert API_TOKEN not in output
    assert '"GET /metrics HTTP/1.1" 401' in output  # the path, without its query string
    assert '"GET /metrics HTTP/1.1" 200' in output
    assert '"GET /reports/*** HTTP/1.1" 401' in output
    assert '"GET /reports/p HTTP/1.1" 404' in output
    assert '"POST /webhooks/label-studio/*** HTTP/1.1" 401' in output
    assert "/***: GET /api/projects/7/" in output  # the platform URL in the sync's error
    access = [line for line in output.splitlines() if "HTTP/1.1" in line]
    assert access
    assert not any("?" in line for line in access)


def test_200_concurrent_large_bodies_cost_the_service_little_memory(tmp_path: Path) -> None:
    """200 unauthenticated 1 MiB posts in flight at once (plausible Standard Webhooks headers, a
    wrong signature): before the fix the process held every body, +207 MiB; now they are
    refused by their declared size before a byte is read (what remains is the cost of 200
    connections to any route, ~25 MiB). Bodies within the limit are read 32 at a time."""
    from connector.service.app import MAX_BODY_BYTES, MAX_CONCURRENT_BODIES

    service = ServeProcess(
        tmp_path, env={"IAA_ARGILLA_WEBHOOK_SECRET": ARGILLA_SECRET}, log_level="warning"
    )
    with service:
        declared = flood(service.pid, service.port, posts=200, size=1 << 20, chunked=False)
        chunked = flood(service.pid, service.port, posts=200, size=1 << 20, chunked=True)
        within = flood(service.pid, service.port, posts=200, size=MAX_BODY_BYTES, chunked=False)
    print(f"\n1 MiB declared: {declared}\n1 MiB chunked: {chunked}\n256 KiB: {within}")
    assert declared["statuses"] == {413: 200}  # refused by the declared size: no slot needed
    assert isinstance(chunked["statuses"], dict)
    assert set(chunked["statuses"]) <= {413, 503}  # read up to the limit, or no slot free
    statuses = within["statuses"]
    assert isinstance(statuses, dict)
    assert statuses.get(401, 0) >= MAX_CONCURRENT_BODIES  # read, then the signature refused
    assert set(statuses) <= {401, 503}
    for figures in (declared, chunked, within):
        growth = figures["growth_mib"]
        assert isinstance(growth, float)
        assert growth < 80, figures  # was 207 MiB for the first


if __name__ == "__main__":
    # python tests/test_service_process.py [POSTS] [SIZE]: the figures, for any checkout
    # (PYTHONPATH=/path/to/checkout measures that one).
    import tempfile

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    length = int(sys.argv[2]) if len(sys.argv) > 2 else 1024 * 1024
    for chunk_mode in (False, True):
        with tempfile.TemporaryDirectory() as scratch:
            with ServeProcess(
                Path(scratch),
                env={"IAA_ARGILLA_WEBHOOK_SECRET": ARGILLA_SECRET},
                log_level="warning",
            ) as service:
                figures = flood(
                    service.pid, service.port, posts=count, size=length, chunked=chunk_mode
                )
            print(f"{count} x {length} bytes, chunked={chunk_mode}: {figures}")
