"""Turns stored webhook events into syncs, in a background thread.

The receiver stores each event before acknowledging it; this worker takes pending events from
the store, groups them by project and calls the sync function once per project (the same
:class:`~connector.service.runner.SyncRunner` the scheduler uses: the sync fetches fresh state
from the platform, so the payload itself is never trusted or applied). Then it marks the
events it read processed, or records the error and leaves them for a later retry, up to
``max_attempts`` attempts.

Nothing lost, nothing twice: an event is only marked after a sync that started after it was
stored; a crash before the mark leaves it pending, and the repeated sync changes nothing.

Events arriving within ``debounce_s`` of each other are coalesced into one sync per project.
Deletions (a task or record deleted, which an incremental pull cannot see) ask for a full sync.

A webhook is an untrusted trigger (every Label Studio project member can read its secret and
post events), so it only *schedules* a sync, rate-limited per project: at most one sync per
project per ``min_interval_s`` (``[server] webhook_min_interval_seconds``). Events arriving
meanwhile stay pending in the store and are processed by the project's next sync, when the
interval is over (it marks every pending event read before it started, up to ``batch_size``,
10,000 by default); nothing is lost, and a burst of deletions costs at most one full sync (an
export snapshot) per interval. While a project waits for its interval, its new events do not
make the worker read the store (:meth:`EventWorker.notify` names the project); it reads again
when a project is due, or every ``poll_s`` for events stored by other replicas.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence

from connector.service.lock import write_lock
from connector.service.metrics import Metrics
from connector.service.runner import SyncFunction, SyncOutcome
from connector.store import Store, WebhookEvent

__all__ = ["DELETION_EVENTS", "EventWorker"]

log = logging.getLogger(__name__)

# Whole tasks/records gone: an incremental pull does not see them, a full one does.
DELETION_EVENTS = frozenset({"TASKS_DELETED", "record.deleted", "dataset.deleted"})
MARK_CHUNK = 200  # events marked processed per write transaction


def _needs_full(event: WebhookEvent) -> bool:
    kind = event.payload.get("event")
    return isinstance(kind, str) and kind in DELETION_EVENTS


class EventWorker:
    """A background thread: pending webhook events → one sync per project → marked."""

    def __init__(
        self,
        store: Store,
        sync: SyncFunction,
        *,
        metrics: Metrics | None = None,
        debounce_s: float = 0.5,
        poll_s: float = 2.0,
        batch_size: int = 10_000,
        max_attempts: int = 5,
        retry_base_s: float = 5.0,
        retry_max_s: float = 300.0,
        min_interval_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.sync = sync
        self.metrics = Metrics() if metrics is None else metrics
        self.debounce_s = debounce_s
        self.poll_s = poll_s
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.retry_base_s = retry_base_s
        self.retry_max_s = retry_max_s
        self.min_interval_s = min_interval_s
        self.clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._not_before: dict[str, float] = {}  # project → earliest retry after a failure
        self._last_sync: dict[str, float] = {}  # project → when its last sync started
        self._failures: dict[str, int] = defaultdict(int)
        self._notified: set[str | None] = set()  # projects with new events (None: unknown)
        self._notified_lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the background thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="iaa-event-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Ask the thread to finish its current sync and stop; wait up to ``timeout_s``."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("the event worker did not stop within %.0f s", timeout_s)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def notify(self, project_key: str | None = None) -> None:
        """Wake the worker: an event of ``project_key`` (None: unknown) was stored (cheap; safe
        from any thread). A project waiting for its interval does not make the worker read the
        store again."""
        with self._notified_lock:
            self._notified.add(project_key)
        # a project waiting for its interval or backoff would only wake the thread to go back
        # to sleep (a thread switch per event in a flood); its deadline wakes it anyway
        if project_key is None or self._due(project_key):
            self._wake.set()

    # -- work --------------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                projects = self._pending_projects()
            except Exception:
                log.exception("reading pending webhook events failed; retrying")
                self._stop.wait(self.poll_s)
                continue
            if not any(self._due(key) for key in projects):
                self._sleep(projects)
                continue
            if self._stop.wait(self.debounce_s):  # let a burst of events coalesce
                break
            self._wake.clear()
            with self._notified_lock:
                self._notified.clear()
            try:
                self.run_once()
            except Exception:
                log.exception("processing webhook events failed; retrying")
                self._stop.wait(self.poll_s)

    def _sleep(self, projects: Collection[str]) -> None:
        """Nothing is due: sleep until an event of a project that is due arrives, a waiting
        project's interval or backoff ends, or the poll (events stored by other replicas)."""
        deadline = self.clock() + self._idle_s(projects)
        while not self._stop.is_set():
            remaining = deadline - self.clock()
            if remaining <= 0:
                return
            if not self._wake.wait(remaining):
                return
            self._wake.clear()
            with self._notified_lock:
                notified, self._notified = self._notified, set()
            if any(key is None or self._due(key) for key in notified):
                return

    def _read_pending(self, limit: int) -> list[WebhookEvent]:
        return self.store.pending_webhook_events(limit, max_attempts=self.max_attempts)

    def _pending_projects(self) -> set[str]:
        """The projects with pending events (their keys only: the events are read when a sync
        of the project is due)."""
        found = self.store.pending_webhook_projects(max_attempts=self.max_attempts)
        return {key or "" for key in found}

    def _due(self, project_key: str) -> bool:
        """Whether a sync of the project may run now: past its backoff and its interval."""
        return self._due_at(project_key) <= self.clock()

    def _due_at(self, project_key: str) -> float:
        last = self._last_sync.get(project_key)
        interval_over = -math.inf if last is None else last + self.min_interval_s
        return max(self._not_before.get(project_key, -math.inf), interval_over)

    def _idle_s(self, projects: Collection[str]) -> float:
        """How long to sleep when nothing is due: the poll, or less if a waiting project's
        interval or backoff ends sooner."""
        wait = self.poll_s
        now = self.clock()
        for project_key in projects:
            wait = min(wait, max(0.0, self._due_at(project_key) - now))
        return wait

    def _pending(self) -> list[WebhookEvent]:
        """Pending events (up to ``batch_size``, oldest first) of the projects whose sync may
        run now: a sync marks every one of its project's events read before it started."""
        return [e for e in self._read_pending(self.batch_size) if self._due(e.project_key or "")]

    def run_once(self) -> int:
        """Process the pending events once (no debounce); return how many were marked
        processed."""
        by_project: dict[str, list[WebhookEvent]] = defaultdict(list)
        for event in self._pending():
            by_project[event.project_key or ""].append(event)
        processed = 0
        for project_key, events in by_project.items():
            if self._stop.is_set():
                break
            processed += self._process(project_key, events)
        return processed

    def _process(self, project_key: str, events: Sequence[WebhookEvent]) -> int:
        full = any(_needs_full(e) for e in events)
        error: str | None
        started = self.clock()
        try:
            outcome = self.sync(project_key, full=full)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.error(
                "sync of %s for %d webhook event(s) failed: %s", project_key, len(events), error
            )
        else:
            if isinstance(outcome, SyncOutcome) and outcome.status == "locked":
                # another worker or replica is syncing it now; that sync may have started
                # before these events arrived, so keep them pending for the next round
                return 0
            error = outcome.error if isinstance(outcome, SyncOutcome) else None
        self._last_sync[project_key] = started  # a run, failed or not, counts for the interval
        self._record(project_key, failed=error is not None)
        for start in range(0, len(events), MARK_CHUNK):
            chunk = [e.event_id for e in events[start : start + MARK_CHUNK]]
            with write_lock(self.store):  # short writes; webhook intake goes in between
                self.store.mark_events_processed(chunk, error=error)
        processed = 0
        for event in events:
            if error is None:
                processed += 1
                self.metrics.count("iaa_webhook_events_processed_total", platform=event.platform)
            elif event.attempts + 1 >= self.max_attempts:
                log.error(
                    "webhook event %s of %s gave up after %d attempts (left in the store)",
                    event.event_id,
                    project_key,
                    event.attempts + 1,
                )
                self.metrics.count("iaa_webhook_events_abandoned_total", platform=event.platform)
        return processed

    def _record(self, project_key: str, *, failed: bool) -> None:
        if not failed:
            self._failures.pop(project_key, None)
            self._not_before.pop(project_key, None)
            return
        self._failures[project_key] += 1
        delay = min(self.retry_max_s, self.retry_base_s * 2 ** (self._failures[project_key] - 1))
        self._not_before[project_key] = self.clock() + delay
