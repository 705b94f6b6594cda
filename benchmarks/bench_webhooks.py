"""Load the webhook receiver: signed Argilla events at 500/s for 60 s, against the real service.

    python benchmarks/bench_webhooks.py [--rate 500] [--seconds 60]

Starts (or uses, by IAA_ARGILLA_URL ...) a real Argilla with an empty dataset made from a
rubric, writes a configuration whose project is that dataset, and runs ``iaa-connector serve``
as its own process (uvicorn with httptools/uvloop, SQLite store). A load generator in this
process sends Standard-Webhooks-signed ``response.created`` events over 8 keep-alive
connections at a fixed rate and measures each acknowledgement from its scheduled send time
(so a stalled server cannot hide queueing). Afterwards it waits for the worker to process every
stored event (each event's processing calls the same sync as the scheduler) and checks the
store: every acknowledged event stored (``lost``), stored once (``duplicates``), processed.

The service's CPU time comes from the kernel's accounting of its process (``utime + stime`` in
``/proc/<pid>/stat``, every thread included: receiver, store writes, the worker and its syncs).
``service_cpu_s_per_1000_events`` covers the load window only (sampled before the first event is
sent and after the last acknowledgement); ``service_cpu_s_per_1000_events_with_processing``
runs on until every event is processed. After a ``--crash-after`` kill the killed process's time
is counted up to its death and the new one's from when it answers ``/healthz`` (its start-up,
imports and migration, is not intake work).

The last line is one JSON object: events, seconds, events_per_second, ack_p50_ms, ack_p99_ms,
processed, duplicates, lost, service_cpu_s_per_1000_events,
service_cpu_s_per_1000_events_with_processing.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import requests
from sqlalchemy import func, select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from argilla_server import ensure_argilla  # noqa: E402

from connector.platforms.argilla.adapter import Argilla  # noqa: E402
from connector.rubric import load_rubric  # noqa: E402
from connector.service.webhooks import sign_standard_webhook  # noqa: E402
from connector.store import Store  # noqa: E402
from connector.store.schema import webhook_events  # noqa: E402

RUBRIC = REPO / "rubrics" / "rlhf-pairwise" / "v1.yaml"
CONNECTIONS = 8


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` (all its threads), from /proc; None if it
    is gone (reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # fields after the command name (which may hold spaces), from field 3 (state): utime is
    # field 14, stime field 15
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


class CpuMeter:
    """The service's CPU seconds since :meth:`start`, across a kill and restart: a killed
    process counts up to its death, its successor from :meth:`follow` (once it answers)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._base = 0.0
        self._finished = 0.0

    def start(self, pid: int) -> None:
        with self._lock:
            self._pid, self._base, self._finished = pid, process_cpu_s(pid) or 0.0, 0.0

    def ended(self, pid: int, cpu_s: float | None) -> None:
        """Process ``pid`` died having used ``cpu_s`` (read before it was reaped)."""
        with self._lock:
            if pid == self._pid and cpu_s is not None:
                self._finished += max(0.0, cpu_s - self._base)
            self._pid = None

    def follow(self, pid: int) -> None:
        """Count ``pid`` from now on (a restarted service)."""
        with self._lock:
            self._pid, self._base = pid, process_cpu_s(pid) or 0.0

    def seconds(self) -> float:
        with self._lock:
            now = process_cpu_s(self._pid) if self._pid is not None else None
            return self._finished + (0.0 if now is None else max(0.0, now - self._base))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def signed_request(secret: str, event_id: str, dataset: str) -> bytes:
    body = json.dumps(
        {
            "type": "response.created",
            "version": 1,
            "timestamp": "2026-01-01T00:00:00Z",
            "data": {"id": event_id, "record": {"id": "r", "dataset": {"id": dataset}}},
        }
    ).encode()
    stamp = int(time.time())
    signature = sign_standard_webhook(secret, event_id, stamp, body)
    head = (
        "POST /webhooks/argilla HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nwebhook-id: {event_id}\r\n"
        f"webhook-timestamp: {stamp}\r\nwebhook-signature: {signature}\r\n\r\n"
    )
    return head.encode() + body


async def load(
    port: int, requests_: list[tuple[str, bytes]], rate: float, on_start: Callable[[], None]
) -> tuple[list[float], set[str], float]:
    """Send at ``rate``; return acknowledgement latencies (s), acknowledged ids, elapsed.
    ``on_start`` is called just before the first event is sent.

    A request whose connection breaks (the service was killed) is not acknowledged; the
    connection is opened again, retrying until the service is back.
    """
    queue: asyncio.Queue[tuple[float, str, bytes] | None] = asyncio.Queue()
    latencies: list[float] = []
    acknowledged: set[str] = set()

    async def open_connection() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while True:
            try:
                return await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)

    async def connection() -> None:
        reader, writer = await open_connection()
        while (item := await queue.get()) is not None:
            scheduled, event_id, data = item
            try:
                writer.write(data)
                status = await reader.readline()
                if not status:
                    raise ConnectionResetError("closed")
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
            except (OSError, asyncio.IncompleteReadError):
                writer.close()
                reader, writer = await open_connection()
                continue
            latencies.append(time.perf_counter() - scheduled)
            if b" 202 " in status or b" 200 " in status:
                acknowledged.add(event_id)
        writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(CONNECTIONS)]
    await asyncio.sleep(0.1)  # let the connections open before the clock starts
    on_start()
    start = time.perf_counter()
    for i, (event_id, data) in enumerate(requests_):
        target = start + i / rate
        delay = target - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((target, event_id, data))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    return latencies, acknowledged, time.perf_counter() - start


def start_service(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                break
        except requests.RequestException:
            time.sleep(0.1)
    return process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--crash-after",
        type=float,
        default=None,
        help="kill -9 the service this many seconds into the load, then restart it",
    )
    args = parser.parse_args()
    server = ensure_argilla()
    service = None
    try:
        headers = {"X-Argilla-Api-Key": server.owner_api_key}
        workspace = next(
            w
            for w in requests.get(
                f"{server.url}/api/v1/me/workspaces", headers=headers, timeout=30
            ).json()["items"]
            if w["name"] == "iaa"
        )
        dataset = Argilla(server.url, server.owner_api_key).create_dataset(
            f"load-{uuid.uuid4().hex[:8]}",
            workspace_id=str(workspace["id"]),
            rubric=load_rubric(RUBRIC),
        )
        folder = Path(tempfile.mkdtemp(prefix="iaa-bench-webhooks-"))
        store_url = f"sqlite:///{folder / 'iaa.db'}"
        (folder / "iaa.toml").write_text(
            f'[store]\nurl = "{store_url}"\n[reports]\ndir = "{folder / "reports"}"\n'
            # one webhook-triggered sync a second, as before the per-project rate limit
            "[server]\nwebhook_min_interval_seconds = 1\n"
            f'[[platforms]]\nname = "ar"\nkind = "argilla"\nurl = "{server.url}"\n'
            'token_env = "IAA_BENCH_ARGILLA_KEY"\n'
            f'[[projects]]\nkey = "load"\nplatform = "ar"\nproject_id = "{dataset}"\n'
            f'rubric = "{RUBRIC}"\n'
        )
        secret = base64.b64encode(secrets.token_bytes(24)).decode()
        port = free_port()
        env = {
            **os.environ,
            "IAA_BENCH_ARGILLA_KEY": server.owner_api_key,
            "IAA_ARGILLA_WEBHOOK_SECRET": secret,
        }
        command = [
            *(sys.executable, "-m", "connector.cli", "serve", "-c", str(folder / "iaa.toml")),
            *("--port", str(port), "--no-scheduler", "--log-level", "warning"),
        ]
        service = start_service(command, env, port)
        first_pid = service.pid
        crashes: list[float] = []
        cpu = CpuMeter()

        def crash() -> None:
            nonlocal service
            time.sleep(args.crash_after)
            assert service is not None
            service.send_signal(signal.SIGKILL)
            # wait for its death without reaping it: the zombie still shows its CPU time
            os.waitid(os.P_PID, service.pid, os.WEXITED | os.WNOWAIT)
            cpu.ended(service.pid, process_cpu_s(service.pid))
            service.wait()
            down = time.perf_counter()
            service = start_service(command, env, port)
            cpu.follow(service.pid)
            crashes.append(time.perf_counter() - down)

        if args.crash_after is not None:
            threading.Thread(target=crash, daemon=True).start()
        n = int(args.rate * args.seconds)
        run = uuid.uuid4().hex[:8]
        ids = [f"msg_{run}_{i}" for i in range(n)]
        prepared = [(event_id, signed_request(secret, event_id, dataset)) for event_id in ids]
        print(f"sending {n:,} signed events at {args.rate:.0f}/s", flush=True)
        latencies, acknowledged, elapsed = asyncio.run(
            load(port, prepared, args.rate, lambda: cpu.start(first_pid))
        )
        cpu_load_s = cpu.seconds()
        latencies.sort()

        def quantile(q: float) -> float:
            return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

        print(
            f"{len(acknowledged):,} acknowledged in {elapsed:.1f} s: p50 {quantile(0.5):.1f} ms, "
            f"p99 {quantile(0.99):.1f} ms, max {latencies[-1] * 1000:.1f} ms",
            flush=True,
        )
        if crashes:
            print(
                f"killed with SIGKILL at {args.crash_after:.0f} s, back in {crashes[0]:.1f} s; "
                f"{n - len(acknowledged):,} events refused while it was down",
                flush=True,
            )
        with Store.open(store_url) as store:
            ours = webhook_events.c.event_id.like(f"msg_{run}_%")
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                with store.engine.connect() as connection:
                    pending = connection.execute(
                        select(func.count()).where(ours, webhook_events.c.processed_at.is_(None))
                    ).scalar_one()
                if pending == 0:
                    break
                time.sleep(0.5)
            cpu_all_s = cpu.seconds()
            with store.engine.connect() as connection:
                stored = connection.execute(select(func.count()).where(ours)).scalar_one()
                distinct = connection.execute(
                    select(func.count(func.distinct(webhook_events.c.event_id))).where(ours)
                ).scalar_one()
                processed = connection.execute(
                    select(func.count()).where(ours, webhook_events.c.processed_at.is_not(None))
                ).scalar_one()
                stored_ids = set(
                    connection.execute(select(webhook_events.c.event_id).where(ours)).scalars()
                )
        per_1000 = 1000 / max(1, len(acknowledged))
        print(
            f"service CPU: {cpu_load_s:.2f} s over the load window "
            f"({per_1000 * cpu_load_s:.3f} s per 1,000 acknowledged events), {cpu_all_s:.2f} s "
            f"until every event was processed ({per_1000 * cpu_all_s:.3f} s per 1,000)",
            flush=True,
        )
    finally:
        if service is not None:
            service.terminate()
            service.wait(timeout=30)
        server.stop()
    print(
        json.dumps(
            {
                "events": n,
                "seconds": round(elapsed, 2),
                "events_per_second": round(len(acknowledged) / elapsed, 1),
                "ack_p50_ms": round(quantile(0.5), 2),
                "ack_p99_ms": round(quantile(0.99), 2),
                "processed": int(processed),
                "duplicates": int(stored - distinct),
                "lost": len(acknowledged - stored_ids),  # acknowledged, yet not in the store
                "service_cpu_s_per_1000_events": round(per_1000 * cpu_load_s, 3),
                "service_cpu_s_per_1000_events_with_processing": round(per_1000 * cpu_all_s, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
