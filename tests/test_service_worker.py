"""Tests of what the event worker costs while webhooks flood in: a project waiting for its
interval neither wakes the worker's thread nor makes it read events, only which projects have
some pending (tests/test_service_runner.py has the worker's behaviour).

The store is real (SQLite in ``tmp_path``); the sync function is a fake.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.service import EventWorker
from connector.store import Store


class FakeSync:
    def __init__(self) -> None:
        self.calls: list[tuple[str, bool]] = []
        self.lock = threading.Lock()

    def __call__(self, project_key: str, /, *, full: bool = False) -> object:
        with self.lock:
            self.calls.append((project_key, full))
        return {"project": project_key}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'iaa.db'}") as opened:
        yield opened


def add(store: Store, event_id: str, project: str = "a") -> None:
    assert store.add_webhook_event(
        event_id, platform="argilla", payload={"event": "response.created"}, project_key=project
    )


def test_notify_wakes_the_thread_only_for_a_project_that_may_sync(store: Store) -> None:
    clock = Clock()
    worker = EventWorker(store, FakeSync(), min_interval_s=30.0, clock=clock)
    add(store, "a0")
    assert worker.run_once() == 1  # project a synced: it waits 30 s now
    wake = worker._wake
    wake.clear()
    worker.notify("a")
    assert not wake.is_set()  # waiting: waking the thread would only put it back to sleep
    worker.notify("b")
    assert wake.is_set()  # never synced: due
    wake.clear()
    worker.notify(None)
    assert wake.is_set()  # unknown project: look
    wake.clear()
    clock.now += 30.0
    worker.notify("a")
    assert wake.is_set()  # its interval is over


def test_a_waiting_projects_flood_reads_project_keys_not_events(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker decides whether a sync is due from the projects with pending events; it
    reads the events themselves only for the sync that marks them."""
    sync = FakeSync()
    worker = EventWorker(store, sync, debounce_s=0.01, poll_s=0.05, min_interval_s=1.0)
    reads: dict[str, int] = {"events": 0, "projects": 0}
    events, projects = store.pending_webhook_events, store.pending_webhook_projects

    def read_events(*args: Any, **kwargs: Any) -> Any:
        reads["events"] += 1
        return events(*args, **kwargs)

    def read_projects(*args: Any, **kwargs: Any) -> Any:
        reads["projects"] += 1
        return projects(*args, **kwargs)

    monkeypatch.setattr(store, "pending_webhook_events", read_events)
    monkeypatch.setattr(store, "pending_webhook_projects", read_projects)
    add(store, "a0")
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while not sync.calls and time.monotonic() < deadline:
            time.sleep(0.01)
        for i in range(1, 21):  # a flood while project a waits for its interval
            add(store, f"a{i}")
            worker.notify("a")
            time.sleep(0.002)
        while len(sync.calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        worker.stop()
    assert sync.calls == [("a", False), ("a", False)]
    assert events(10) == []
    assert reads["events"] == 2  # one read per sync, the probes took project keys
    assert reads["projects"] >= 3
