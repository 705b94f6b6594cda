"""The one way the service runs a sync: locked, retried, timed, reported.

The scheduler and the webhook worker both call :meth:`SyncRunner.run`; neither has logic of its
own. A run

1. takes the project's lock (:func:`~connector.service.lock.project_lock`); if another thread,
   process or replica holds it, the run is skipped and logged (outcome ``locked``); holding it,
   marks the project's runs left unfinished by a killed process as abandoned
   (:meth:`~connector.store.Store.abandon_unfinished_runs`);
2. calls the injected sync function, retrying transient platform errors
   (:attr:`PlatformError.transient`: no answer, 429, 5xx) with exponential backoff that honours
   the platform's ``Retry-After`` (bounded by :attr:`RetryPolicy.max_delay_s`);
3. records its duration and errors for ``/metrics``;
4. after ``alert_after`` failures in a row, calls ``on_failure(project, error, consecutive)``
   on each further failure (a colleague wires alerts to it).

A run never raises: one failing project does not stop the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from connector.alerts import Alerter
from connector.config import Config
from connector.errors import ConnectorError
from connector.platforms.base import PlatformError
from connector.service.lock import project_lock
from connector.service.metrics import Metrics
from connector.store import Store, StoreError

__all__ = [
    "FailureCallback",
    "RetryPolicy",
    "SyncFunction",
    "SyncOutcome",
    "SyncRunner",
    "close_abandoned_runs",
    "platform_sync",
]

log = logging.getLogger(__name__)


class SyncFunction(Protocol):
    """``sync(project_key, full=False)``: one idempotent sync cycle; raises on failure."""

    def __call__(self, project_key: str, /, *, full: bool = False) -> object: ...


FailureCallback = Callable[[str, BaseException, int], object]


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Exponential backoff for transient platform errors.

    The n-th retry waits ``min(max_delay_s, max(base_delay_s * 2**(n-1), retry_after_s))``.
    """

    attempts: int = 4  # calls in all, the first included
    base_delay_s: float = 2.0
    max_delay_s: float = 120.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts must be at least 1, not {self.attempts}")
        if self.base_delay_s < 0 or self.max_delay_s < 0:
            raise ValueError("RetryPolicy delays must not be negative")

    def delay(self, retry: int, retry_after_s: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        backoff = self.base_delay_s * 2.0 ** (retry - 1)
        if retry_after_s is not None and retry_after_s > backoff:
            backoff = retry_after_s
        return min(self.max_delay_s, backoff)


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncOutcome:
    """What one :meth:`SyncRunner.run` did."""

    project_key: str
    status: Literal["synced", "failed", "locked"]
    full: bool
    attempts: int
    seconds: float
    error: str | None = None
    result: object = None

    @property
    def ok(self) -> bool:
        return self.status == "synced"


class SyncRunner:
    """Runs syncs under the project lock with retries, metrics and failure reports."""

    def __init__(
        self,
        store: Store,
        sync: SyncFunction,
        *,
        metrics: Metrics | None = None,
        retry: RetryPolicy | None = None,
        on_failure: FailureCallback | None = None,
        alert_after: int = 3,
        sleep: Callable[[float], object] = time.sleep,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.store = store
        self.sync = sync
        self.metrics = Metrics() if metrics is None else metrics
        self.retry = RetryPolicy() if retry is None else retry
        self.on_failure = on_failure
        self.alert_after = alert_after
        self.sleep = sleep
        self.clock = clock
        self._failures: dict[str, int] = {}
        self._failures_lock = threading.Lock()

    def consecutive_failures(self, project_key: str) -> int:
        with self._failures_lock:
            return self._failures.get(project_key, 0)

    def __call__(self, project_key: str, /, *, full: bool = False) -> SyncOutcome:
        return self.run(project_key, full=full)

    def run(self, project_key: str, *, full: bool = False, lock_wait_s: float = 0.0) -> SyncOutcome:
        """Sync one project once (with retries); never raises.

        ``lock_wait_s``: keep trying the lock this long (once a second) before skipping; the
        nightly full reconciliation waits for a running incremental sync instead of being lost.
        """
        started = self.clock()
        deadline = started + lock_wait_s
        while True:
            with project_lock(self.store, project_key) as held:
                if held:
                    return self._locked_run(project_key, full=full)
            if self.clock() >= deadline:
                break
            self.sleep(min(1.0, max(0.0, deadline - self.clock())))
        log.info("sync of %s skipped: another worker or replica holds its lock", project_key)
        self.metrics.count("iaa_sync_runs_total", project=project_key, outcome="locked")
        return SyncOutcome(
            project_key=project_key,
            status="locked",
            full=full,
            attempts=0,
            seconds=self.clock() - started,
        )

    def _locked_run(self, project_key: str, *, full: bool) -> SyncOutcome:
        started = self.clock()
        close_abandoned_runs(self.store, project_key)
        attempt = 0
        while True:
            attempt += 1
            try:
                result = self.sync(project_key, full=full)
            except PlatformError as exc:
                if exc.transient and attempt < self.retry.attempts:
                    wait = self.retry.delay(attempt, exc.retry_after_s)
                    log.warning(
                        "sync of %s: transient platform error (attempt %d of %d), retrying in "
                        "%.1f s: %s",
                        project_key,
                        attempt,
                        self.retry.attempts,
                        wait,
                        exc,
                    )
                    self.metrics.count("iaa_sync_retries_total", project=project_key)
                    self.sleep(wait)
                    continue
                return self._failed(project_key, exc, full=full, attempts=attempt, started=started)
            except Exception as exc:
                return self._failed(project_key, exc, full=full, attempts=attempt, started=started)
            seconds = self.clock() - started
            self.metrics.observe_sync(project_key, seconds)
            self.metrics.count("iaa_sync_runs_total", project=project_key, outcome="synced")
            with self._failures_lock:
                self._failures.pop(project_key, None)
            log.info("synced %s%s in %.2f s", project_key, " (full)" if full else "", seconds)
            return SyncOutcome(
                project_key=project_key,
                status="synced",
                full=full,
                attempts=attempt,
                seconds=seconds,
                result=result,
            )

    def _failed(
        self, project_key: str, exc: Exception, *, full: bool, attempts: int, started: float
    ) -> SyncOutcome:
        seconds = self.clock() - started
        self.metrics.observe_sync(project_key, seconds)
        self.metrics.count("iaa_sync_runs_total", project=project_key, outcome="failed")
        self.metrics.count("iaa_sync_errors_total", project=project_key)
        with self._failures_lock:
            consecutive = self._failures[project_key] = self._failures.get(project_key, 0) + 1
        if isinstance(exc, ConnectorError):  # messages written to be safe and to the point
            log.error(
                "sync of %s failed (%d in a row): %s", project_key, consecutive, exc, exc_info=False
            )
        else:
            log.exception("sync of %s failed (%d in a row)", project_key, consecutive)
        if self.on_failure is not None and consecutive >= self.alert_after:
            try:
                self.on_failure(project_key, exc, consecutive)
            except Exception:
                log.exception("the failure callback for %s failed", project_key)
        return SyncOutcome(
            project_key=project_key,
            status="failed",
            full=full,
            attempts=attempts,
            seconds=seconds,
            error=f"{type(exc).__name__}: {exc}",
        )


def close_abandoned_runs(store: Store, project_key: str) -> int:
    """Mark the project's runs left unfinished by a killed process as abandoned (call it holding
    the project's lock); a store error is logged, not raised: the sync reports its own."""
    try:
        abandoned = store.abandon_unfinished_runs(project_key)
    except StoreError as exc:
        log.warning("could not close the unfinished sync runs of %s: %s", project_key, exc)
        return 0
    if abandoned:
        log.warning(
            "%s: %d earlier sync run(s) never finished (the process ended); marked abandoned",
            project_key,
            abandoned,
        )
    return abandoned


def platform_sync(config: Config, store: Store, *, alerter: Alerter | None = None) -> SyncFunction:
    """The production sync function: :func:`connector.sync.sync_project` against the project's
    configured platform (an adapter built per run, so runs in parallel threads share nothing)."""
    from connector.platforms.registry import platform_for
    from connector.sync import sync_project

    def sync(project_key: str, /, *, full: bool = False) -> object:
        project = config.project(project_key)
        platform = platform_for(config.platform(project.platform))
        return sync_project(
            config, project_key, store=store, platform=platform, full=full, alerter=alerter
        )

    return sync
