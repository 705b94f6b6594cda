"""Tests of the service's machinery behind the receiver: the event worker, the sync runner
(lock, retries, backoff, failure reports, metrics), the project lock and the scheduler.

The store is real (SQLite in ``tmp_path``; PostgreSQL for the advisory lock, marker
``postgres``); the sync function is a fake, because the unit under test is what calls it.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent  # type: ignore[import-untyped]
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from connector.config import Config, PlatformConfig, ProjectConfig
from connector.platforms.base import PlatformError
from connector.service import (
    EventWorker,
    Metrics,
    RetryPolicy,
    SyncOutcome,
    SyncRunner,
    SyncScheduler,
    project_lock,
)
from connector.service.lock import lock_file
from connector.store import Store
from connector.store.schema import webhook_events

ROOT = Path(__file__).resolve().parents[1]
RUBRIC = ROOT / "rubrics" / "rlhf-pairwise" / "v2.yaml"


class FakeSync:
    """Records calls; fails with the queued exceptions first."""

    def __init__(self, *failures: BaseException, delay_s: float = 0.0) -> None:
        self.failures = list(failures)
        self.calls: list[tuple[str, bool]] = []
        self.delay_s = delay_s
        self.lock = threading.Lock()

    def __call__(self, project_key: str, /, *, full: bool = False) -> object:
        with self.lock:
            self.calls.append((project_key, full))
            failure = self.failures.pop(0) if self.failures else None
        if self.delay_s:
            time.sleep(self.delay_s)
        if failure is not None:
            raise failure
        return {"project": project_key}


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'iaa.db'}") as opened:
        yield opened


def add(store: Store, event_id: str, project: str = "a", event: str = "ANNOTATION_CREATED") -> None:
    assert store.add_webhook_event(
        event_id, platform="label-studio", payload={"event": event}, project_key=project
    )


def transient(retry_after_s: float | None = None, status: int = 429) -> PlatformError:
    return PlatformError(
        "busy",
        platform="label-studio",
        url="/api/tasks",
        status=status,
        retry_after_s=retry_after_s,
    )


# --- worker -----------------------------------------------------------------------------------


def test_worker_syncs_once_per_project_and_marks_events(store: Store) -> None:
    for i in range(3):
        add(store, f"a{i}", "a")
    add(store, "b0", "b")
    sync = FakeSync()
    metrics = Metrics()
    worker = EventWorker(store, sync, metrics=metrics)
    assert worker.run_once() == 4
    assert sorted(sync.calls) == [("a", False), ("b", False)]
    assert store.pending_webhook_events(10) == []
    assert metrics.counter("iaa_webhook_events_processed_total", platform="label-studio") == 4
    assert worker.run_once() == 0


def test_worker_asks_for_a_full_sync_after_deletions(store: Store) -> None:
    add(store, "a0", "a")
    add(store, "a1", "a", event="TASKS_DELETED")
    add(store, "b0", "b", event="ANNOTATIONS_DELETED")  # visible to an incremental pull
    sync = FakeSync()
    EventWorker(store, sync).run_once()
    assert sorted(sync.calls) == [("a", True), ("b", False)]


def test_failing_sync_leaves_events_pending_with_error_and_attempts(store: Store) -> None:
    add(store, "a0", "a")
    add(store, "b0", "b")
    sync = FakeSync(RuntimeError("platform exploded"))  # the first call (either project) fails
    worker = EventWorker(store, sync, max_attempts=2, retry_base_s=0.0, min_interval_s=0.0)
    assert worker.run_once() == 1
    (left,) = store.pending_webhook_events(10)
    assert left.attempts == 1
    assert left.error == "RuntimeError: platform exploded"
    assert left.processed_at is None

    sync.failures.append(RuntimeError("again"))
    assert worker.run_once() == 0
    # gave up after max_attempts: still stored (for a person), no longer retried
    assert store.pending_webhook_events(10, max_attempts=2) == []
    (kept,) = store.pending_webhook_events(10)
    assert (kept.event_id, kept.attempts, kept.error) == (left.event_id, 2, "RuntimeError: again")


def test_failed_runner_outcome_is_recorded_on_the_events(store: Store) -> None:
    add(store, "a0", "a")
    runner = SyncRunner(store, FakeSync(ValueError("bad rubric")), sleep=Sleeps())
    EventWorker(store, runner, retry_base_s=0.0).run_once()
    (left,) = store.pending_webhook_events(10)
    assert (left.attempts, left.error) == (1, "ValueError: bad rubric")


def test_worker_backs_off_a_failing_project(store: Store) -> None:
    add(store, "a0", "a")
    now = [100.0]
    sync = FakeSync(RuntimeError("down"))
    worker = EventWorker(store, sync, retry_base_s=10.0, min_interval_s=0.0, clock=lambda: now[0])
    worker.run_once()
    worker.run_once()  # within the backoff: not retried
    assert len(sync.calls) == 1
    now[0] += 10.0
    assert worker.run_once() == 1
    assert len(sync.calls) == 2


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_webhook_syncs_are_rate_limited_per_project_and_coalesced(store: Store) -> None:
    clock = Clock()
    sync = FakeSync()
    worker = EventWorker(store, sync, min_interval_s=30.0, clock=clock)
    for i in range(3):
        add(store, f"a{i}", "a")
    assert worker.run_once() == 3
    assert sync.calls == [("a", False)]

    # an annotator with the secret posts more events: stored, but no sync before the interval
    for i in range(3, 50):
        clock.now += 0.5
        add(store, f"a{i}", "a")
        assert worker.run_once() == 0
    assert sync.calls == [("a", False)]
    assert len(store.pending_webhook_events(100)) == 47  # kept, not lost
    add(store, "b0", "b")  # another project is not held back by a's limit
    assert worker.run_once() == 1
    assert sync.calls == [("a", False), ("b", False)]

    clock.now = 1000.0 + 30.0  # a's interval is over: one sync takes every waiting event
    assert worker.run_once() == 47
    assert sync.calls == [("a", False), ("b", False), ("a", False)]
    assert store.pending_webhook_events(100) == []


def test_deletions_force_at_most_one_full_sync_per_interval(store: Store) -> None:
    clock = Clock()
    sync = FakeSync()
    worker = EventWorker(store, sync, min_interval_s=30.0, clock=clock)
    add(store, "d0", "a", event="TASKS_DELETED")
    assert worker.run_once() == 1
    for i in range(1, 20):  # a burst of deletions within the interval
        clock.now += 1.0
        add(store, f"d{i}", "a", event="TASKS_DELETED")
        add(store, f"n{i}", "a")
        worker.run_once()
    assert sync.calls == [("a", True)]
    clock.now = 1000.0 + 30.0
    assert worker.run_once() == 38  # one full sync for all of them
    assert sync.calls == [("a", True), ("a", True)]
    clock.now += 29.0
    add(store, "d99", "a", event="record.deleted")
    assert worker.run_once() == 0
    clock.now += 1.0
    assert worker.run_once() == 1
    assert [full for _, full in sync.calls] == [True, True, True]


def test_a_failed_sync_counts_for_the_interval_too(store: Store) -> None:
    clock = Clock()
    sync = FakeSync(RuntimeError("down"))
    worker = EventWorker(store, sync, min_interval_s=30.0, retry_base_s=1.0, clock=clock)
    add(store, "a0", "a")
    assert worker.run_once() == 0
    clock.now += 5.0  # past the backoff, not past the interval
    assert worker.run_once() == 0
    assert len(sync.calls) == 1
    clock.now += 25.0
    assert worker.run_once() == 1
    assert len(sync.calls) == 2


def test_a_locked_project_does_not_start_the_interval(store: Store) -> None:
    clock = Clock()
    runner = SyncRunner(store, FakeSync())
    worker = EventWorker(store, runner, min_interval_s=30.0, clock=clock)
    add(store, "a0", "a")
    with project_lock(store, "a"):
        assert worker.run_once() == 0  # someone else syncs: no webhook sync ran
    assert worker.run_once() == 1  # so the next round may sync at once


def test_worker_thread_sleeps_until_the_interval_is_over(store: Store) -> None:
    sync = FakeSync()
    worker = EventWorker(store, sync, debounce_s=0.05, poll_s=5.0, min_interval_s=1.0)
    add(store, "a0", "a")
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while store.pending_webhook_events(10) and time.monotonic() < deadline:
            time.sleep(0.02)
        first = time.monotonic()
        add(store, "a1", "a")
        worker.notify()
        while store.pending_webhook_events(10) and time.monotonic() < deadline:
            time.sleep(0.02)
        second = time.monotonic()
    finally:
        worker.stop()
    assert store.pending_webhook_events(10) == []
    assert sync.calls == [("a", False), ("a", False)]
    assert 0.8 <= second - first < 3.0  # waited for the interval, not for the 5 s poll


def test_one_sync_takes_a_backlog_bigger_than_the_old_batch(store: Store) -> None:
    """A flood held back by the interval is taken whole by the next sync (up to batch_size,
    10,000 by default), not 1,000 per interval."""
    clock = Clock()
    sync = FakeSync()
    worker = EventWorker(store, sync, min_interval_s=30.0, clock=clock)
    add(store, "first", "a")
    assert worker.run_once() == 1
    with store.engine.begin() as connection:  # 2,500 events in one transaction, quickly
        connection.execute(
            webhook_events.insert(),
            [
                {
                    "event_id": f"flood-{i}",
                    "platform": "label-studio",
                    "project_key": "a",
                    "received_at": datetime(2024, 5, 1, tzinfo=UTC),
                    "payload": {"event": "ANNOTATION_CREATED"},
                    "attempts": 0,
                }
                for i in range(2500)
            ],
        )
    assert worker.run_once() == 0
    clock.now += 30.0
    assert worker.run_once() == 2500
    assert len(sync.calls) == 2
    assert store.pending_webhook_events(10) == []


def test_events_of_a_waiting_project_do_not_make_the_worker_read_the_store(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync = FakeSync()
    worker = EventWorker(store, sync, debounce_s=0.01, poll_s=30.0, min_interval_s=30.0)
    add(store, "a0", "a")
    reads: list[float] = []
    original = store.pending_webhook_events

    def counting(*args: Any, **kwargs: Any) -> Any:
        reads.append(time.monotonic())
        return original(*args, **kwargs)

    monkeypatch.setattr(store, "pending_webhook_events", counting)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while sync.calls == [] and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        before = len(reads)
        for i in range(1, 101):  # a flood for the project that just synced
            add(store, f"a{i}", "a")
            worker.notify("a")
            time.sleep(0.005)
        time.sleep(0.2)
        during = len(reads) - before
        add(store, "b0", "b")  # another project's event is taken at once
        worker.notify("b")
        while ("b", False) not in sync.calls and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        worker.stop()
    assert during == 0
    assert sync.calls == [("a", False), ("b", False)]
    assert len(store.pending_webhook_events(1000)) == 100  # a's flood waits, stored


def test_locked_project_keeps_its_events_pending_without_an_attempt(store: Store) -> None:
    add(store, "a0", "a")
    runner = SyncRunner(store, FakeSync())
    with project_lock(store, "a") as held:
        assert held
        assert EventWorker(store, runner).run_once() == 0
    (left,) = store.pending_webhook_events(10)
    assert (left.attempts, left.error) == (0, None)
    assert EventWorker(store, runner).run_once() == 1


def test_worker_thread_coalesces_a_burst_into_one_sync(store: Store) -> None:
    sync = FakeSync()
    worker = EventWorker(store, sync, debounce_s=1.0, poll_s=5.0)
    worker.start()
    try:
        for i in range(5):
            add(store, f"a{i}", "a")
            worker.notify()
            time.sleep(0.02)
        deadline = time.monotonic() + 10
        while store.pending_webhook_events(10) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    assert store.pending_webhook_events(10) == []
    assert sync.calls == [("a", False)]
    assert not worker.running


def test_worker_picks_up_events_left_by_a_crash(store: Store) -> None:
    add(store, "a0", "a")  # stored by a process that died before syncing
    sync = FakeSync()
    worker = EventWorker(store, sync, debounce_s=0.0, poll_s=0.05)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while store.pending_webhook_events(10) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    assert sync.calls == [("a", False)]


# --- lock -------------------------------------------------------------------------------------


def test_lock_excludes_a_second_thread(store: Store) -> None:
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with project_lock(store, "a") as held:
            assert held
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(10)
        with project_lock(store, "a") as second:
            assert not second
        with project_lock(store, "b") as other_project:
            assert other_project
    finally:
        release.set()
        thread.join()
    with project_lock(store, "a") as after:
        assert after


def test_lock_is_released_when_the_block_raises(store: Store) -> None:
    def crash() -> None:
        with project_lock(store, "a") as held:
            assert held
            raise RuntimeError("sync crashed")

    with pytest.raises(RuntimeError, match="sync crashed"):
        crash()
    with project_lock(store, "a") as again:
        assert again


def _hold_lock_in_another_process(url: str, key: str, holding: Any, release: Any) -> None:
    with Store.open(url, migrate=False) as other, project_lock(other, key) as held:
        if held:
            holding.set()
            release.wait(20)


def test_lock_excludes_a_second_process_on_one_sqlite_file(store: Store, tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    holding, release = context.Event(), context.Event()
    url = f"sqlite:///{tmp_path / 'iaa.db'}"
    process = context.Process(
        target=_hold_lock_in_another_process, args=(url, "a", holding, release)
    )
    process.start()
    try:
        assert holding.wait(60), "the other process never took the lock"
        with project_lock(store, "a") as held:
            assert not held
        with project_lock(store, "b") as other_project:
            assert other_project
    finally:
        release.set()
        process.join(30)
    assert process.exitcode == 0
    with project_lock(store, "a") as after:
        assert after
    assert lock_file(tmp_path / "iaa.db", "a").parent == tmp_path


@pytest.mark.postgres
def test_postgres_advisory_lock_excludes_another_replica(postgres_url: str) -> None:
    with Store.open(postgres_url) as first, Store.open(postgres_url) as second:
        with project_lock(first, "pg-project") as held:
            assert held
            with project_lock(second, "pg-project") as other:
                assert not other
            with project_lock(second, "pg-other") as unrelated:
                assert unrelated
        with project_lock(second, "pg-project") as after:
            assert after


# --- runner -----------------------------------------------------------------------------------


def test_runner_skips_when_the_lock_is_held_elsewhere(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    sync = FakeSync()
    runner = SyncRunner(store, sync)
    caplog.set_level(logging.INFO)
    with project_lock(store, "a"):
        outcome = runner.run("a")
    assert outcome.status == "locked"
    assert sync.calls == []
    assert "holds its lock" in caplog.text
    assert runner.metrics.counter("iaa_sync_runs_total", project="a", outcome="locked") == 1


def test_runner_marks_runs_of_a_killed_process_abandoned(store: Store) -> None:
    from connector.store.runs import ABANDONED_RUN_ERROR

    killed = store.start_run("label-studio", "a")  # its process died mid-run
    other = store.start_run("label-studio", "b")  # another project's run may be going
    runner = SyncRunner(store, FakeSync())
    with project_lock(store, "a"):
        assert runner.run("a").status == "locked"
    running = store.get_run(killed)
    assert running is not None
    assert running.finished_at is None  # not ours to close while another holds the lock
    assert runner.run("a").ok
    closed = store.get_run(killed)
    assert closed is not None
    assert closed.finished_at is not None
    assert closed.error == ABANDONED_RUN_ERROR
    untouched = store.get_run(other)
    assert untouched is not None
    assert untouched.finished_at is None


def test_runner_waits_for_the_lock_when_asked(store: Store) -> None:
    sync = FakeSync()
    sleeps = Sleeps()
    runner = SyncRunner(store, sync, sleep=sleeps)
    with project_lock(store, "a"):
        outcome = runner.run("a", full=True, lock_wait_s=0.05)
    assert outcome.status == "locked"
    assert sleeps.waits  # it tried again before giving up


def test_backoff_honours_retry_after(store: Store) -> None:
    sync = FakeSync(transient(retry_after_s=7.0), transient(retry_after_s=7.0))
    sleeps = Sleeps()
    runner = SyncRunner(
        store, sync, sleep=sleeps, retry=RetryPolicy(attempts=4, base_delay_s=2.0, max_delay_s=60)
    )
    outcome = runner.run("a")
    assert outcome.ok
    assert outcome.attempts == 3
    assert sleeps.waits == [7.0, 7.0]
    assert outcome.result == {"project": "a"}


def test_backoff_is_exponential_and_bounded(store: Store) -> None:
    sync = FakeSync(
        transient(status=503), transient(status=503), transient(retry_after_s=3600.0), transient()
    )
    sleeps = Sleeps()
    runner = SyncRunner(
        store, sync, sleep=sleeps, retry=RetryPolicy(attempts=5, base_delay_s=2.0, max_delay_s=60)
    )
    assert runner.run("a").ok
    assert sleeps.waits == [2.0, 4.0, 60.0, 16.0]


def test_retries_give_up_after_the_last_attempt(store: Store) -> None:
    sync = FakeSync(*(transient(status=None) for _ in range(3)))
    sleeps = Sleeps()
    runner = SyncRunner(store, sync, sleep=sleeps, retry=RetryPolicy(attempts=3, base_delay_s=1))
    outcome = runner.run("a")
    assert outcome.status == "failed"
    assert outcome.attempts == 3
    assert sleeps.waits == [1.0, 2.0]
    assert outcome.error is not None
    assert outcome.error.startswith("PlatformError: label-studio")
    assert runner.metrics.counter("iaa_sync_retries_total", project="a") == 2


def test_permanent_platform_errors_are_not_retried(store: Store) -> None:
    sync = FakeSync(transient(status=404))
    sleeps = Sleeps()
    outcome = SyncRunner(store, sync, sleep=sleeps).run("a")
    assert (outcome.status, outcome.attempts, sleeps.waits) == ("failed", 1, [])


def test_repeated_failures_are_reported(store: Store) -> None:
    reports: list[tuple[str, str, int]] = []
    sync = FakeSync(*(RuntimeError(f"boom {i}") for i in range(4)))
    runner = SyncRunner(
        store,
        sync,
        alert_after=2,
        on_failure=lambda project, error, n: reports.append((project, str(error), n)),
    )
    for _ in range(4):
        runner.run("a")
    assert reports == [("a", "boom 1", 2), ("a", "boom 2", 3), ("a", "boom 3", 4)]
    assert runner.run("a").ok
    assert runner.consecutive_failures("a") == 0
    assert runner.metrics.counter("iaa_sync_errors_total", project="a") == 4
    assert runner.metrics.sync_durations("a")[0] == 5


def test_a_failing_alert_callback_does_not_break_the_runner(store: Store) -> None:
    def broken(project: str, error: BaseException, n: int) -> None:
        raise RuntimeError("alerting is down")

    runner = SyncRunner(store, FakeSync(RuntimeError("x")), alert_after=1, on_failure=broken)
    assert runner.run("a").status == "failed"


def test_runner_is_a_sync_function_for_the_worker(store: Store) -> None:
    runner = SyncRunner(store, FakeSync())
    outcome = runner("a", full=True)
    assert isinstance(outcome, SyncOutcome)
    assert (outcome.status, outcome.full) == ("synced", True)


# --- scheduler --------------------------------------------------------------------------------


def make_config(tmp_path: Path) -> Config:
    return Config(
        path=tmp_path / "iaa.toml",
        store_url=f"sqlite:///{tmp_path / 'iaa.db'}",
        reports_dir=tmp_path / "reports",
        public_url=None,
        platforms=(
            PlatformConfig(name="ls", kind="label-studio", url="http://127.0.0.1:9", token_env="T"),
        ),
        projects=(
            ProjectConfig(key="a", platform="ls", project_id="1", rubric=RUBRIC),
            ProjectConfig(
                key="b", platform="ls", project_id="2", rubric=RUBRIC, sync_interval_minutes=0.5
            ),
        ),
    )


def test_scheduler_jobs_never_overlap_and_coalesce(store: Store, tmp_path: Path) -> None:
    scheduler = SyncScheduler(make_config(tmp_path), SyncRunner(store, FakeSync()))
    scheduler.scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.scheduler.get_jobs()}
        assert sorted(jobs) == ["reconcile:a", "reconcile:b", "sync:a", "sync:b"]
        for job in jobs.values():
            assert job.coalesce is True
            assert job.max_instances == 1
            assert job.next_run_time is not None
        assert isinstance(jobs["sync:a"].trigger, IntervalTrigger)
        assert jobs["sync:a"].trigger.interval.total_seconds() == 300
        assert jobs["sync:b"].trigger.interval.total_seconds() == 30
        assert isinstance(jobs["reconcile:a"].trigger, CronTrigger)
        nightly = {job.id: job.next_run_time for job in scheduler.jobs() if job.full}
        assert (nightly["reconcile:a"].hour, nightly["reconcile:a"].minute) == (3, 0)
        assert (nightly["reconcile:b"].hour, nightly["reconcile:b"].minute) == (3, 5)
        assert [spec.full for spec in scheduler.jobs()] == [True, True, False, False]
    finally:
        scheduler.stop()


def test_scheduler_runs_each_project_even_when_one_fails(store: Store, tmp_path: Path) -> None:
    class Selective(FakeSync):
        def __call__(self, project_key: str, /, *, full: bool = False) -> object:
            super().__call__(project_key, full=full)
            if project_key == "a":
                raise RuntimeError("project a is broken")
            return None

    sync = Selective()
    scheduler = SyncScheduler(
        make_config(tmp_path), SyncRunner(store, sync, sleep=Sleeps()), first_run_after_s=0.0
    )
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while len(sync.calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.stop(wait=True)
    assert sorted(sync.calls) == [("a", False), ("b", False)]
    scheduler.reconcile("b")
    assert sync.calls[-1] == ("b", True)


def test_scheduler_logs_misfires(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    scheduler = SyncScheduler(make_config(tmp_path), SyncRunner(store, FakeSync()))
    missed = JobExecutionEvent(
        EVENT_JOB_MISSED, "sync:a", "default", datetime(2024, 5, 1, 3, 0, tzinfo=UTC)
    )
    scheduler._on_event(missed)
    assert "sync:a missed its run time 2024-05-01 03:00:00+00:00" in caplog.text
