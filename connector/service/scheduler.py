"""Periodic syncs: one interval job per project and a nightly full reconciliation.

Built on APScheduler 3 (:class:`BackgroundScheduler`). Every job calls
:meth:`SyncRunner.run`, which takes the project's lock, retries transient platform errors and
never raises, so one failing project does not stop the others. Jobs are ``coalesce=True`` (a
backlog of missed runs becomes one run) and ``max_instances=1`` (a run never overlaps itself);
misfires and skipped overlapping runs are logged by a listener.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from apscheduler.events import (  # type: ignore[import-untyped]
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor  # type: ignore[import-untyped]
from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from connector.config import Config
from connector.service.runner import SyncRunner

__all__ = ["JobSpec", "SyncScheduler"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class JobSpec:
    """A scheduled job as configured (for tests and ``/metrics``-free introspection)."""

    id: str
    project_key: str
    full: bool
    coalesce: bool
    max_instances: int
    next_run_time: datetime | None


class SyncScheduler:
    """Interval syncs and a nightly full reconciliation of every configured project.

    The nightly runs start at ``nightly_at`` (hour, minute) in ``timezone``, staggered by
    ``stagger_minutes`` per project so they do not all hit the platform at once. The first
    interval sync of each project runs ``first_run_after_s`` after :meth:`start`.
    """

    def __init__(
        self,
        config: Config,
        runner: SyncRunner,
        *,
        nightly_at: tuple[int, int] = (3, 0),
        stagger_minutes: int = 5,
        timezone: tzinfo = UTC,
        first_run_after_s: float = 5.0,
        misfire_grace_s: int = 300,
        nightly_lock_wait_s: float = 1800.0,
        max_workers: int = 4,
    ) -> None:
        self.config = config
        self.runner = runner
        self.nightly_lock_wait_s = nightly_lock_wait_s
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": misfire_grace_s,
            },
            timezone=timezone,
        )
        self.scheduler.add_listener(
            self._on_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR
        )
        first = datetime.now(timezone) + timedelta(seconds=first_run_after_s)
        hour, minute = nightly_at
        for index, project in enumerate(config.projects):
            self.scheduler.add_job(
                self.sync,
                IntervalTrigger(minutes=project.sync_interval_minutes, timezone=timezone),
                args=(project.key,),
                id=f"sync:{project.key}",
                name=f"sync {project.key}",
                next_run_time=first,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=misfire_grace_s,
                replace_existing=True,
            )
            offset = hour * 60 + minute + index * stagger_minutes
            self.scheduler.add_job(
                self.reconcile,
                CronTrigger(hour=(offset // 60) % 24, minute=offset % 60, timezone=timezone),
                args=(project.key,),
                id=f"reconcile:{project.key}",
                name=f"full reconciliation {project.key}",
                coalesce=True,
                max_instances=1,
                misfire_grace_time=misfire_grace_s,
                replace_existing=True,
            )

    # -- jobs --------------------------------------------------------------------------------

    def sync(self, project_key: str) -> None:
        """The interval job: an incremental sync."""
        self.runner.run(project_key)

    def reconcile(self, project_key: str) -> None:
        """The nightly job: a full sync (re-reads the project, reconciles deletions); waits for
        a running incremental sync of the project rather than being skipped."""
        self.runner.run(project_key, full=True, lock_wait_s=self.nightly_lock_wait_s)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if not self.scheduler.running:
            self.scheduler.start()

    def stop(self, *, wait: bool = False) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)

    def jobs(self) -> list[JobSpec]:
        """The scheduled jobs, by id."""
        specs = []
        for job in self.scheduler.get_jobs():
            specs.append(
                JobSpec(
                    id=job.id,
                    project_key=job.args[0],
                    full=job.id.startswith("reconcile:"),
                    coalesce=job.coalesce,
                    max_instances=job.max_instances,
                    next_run_time=getattr(job, "next_run_time", None),
                )
            )
        return sorted(specs, key=lambda s: s.id)

    def _on_event(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            log.warning(
                "scheduled job %s missed its run time %s (the process was busy or down); "
                "it runs at its next time",
                event.job_id,
                event.scheduled_run_time,
            )
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            log.info("scheduled job %s skipped: its previous run is still going", event.job_id)
        elif event.code == EVENT_JOB_ERROR:
            log.error("scheduled job %s raised: %s", event.job_id, event.exception)
