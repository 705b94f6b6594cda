"""Sync cursors and runs, stored reports and annotator status decisions."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    select,
    update,
)

from connector.store.base import AnyRow, StoreBase, new_id
from connector.store.bulk import upsert
from connector.store.columns import utcnow
from connector.store.errors import StoreError
from connector.store.rows import (
    RunCounts,
    StatusDecision,
    StoredReport,
    SyncCursor,
    SyncRun,
)
from connector.store.schema import (
    annotator_status,
    reports,
    sync_cursors,
    sync_runs,
)

__all__ = ["ABANDONED_RUN_ERROR", "RunStore"]

ABANDONED_RUN_ERROR = "abandoned: the process ended before the run finished"


class RunStore(StoreBase):
    """Where each sync stands, what each run did, reports and annotator statuses."""

    # --- sync cursors and runs --------------------------------------------------------------

    def get_cursor(self, platform: str, project_key: str) -> SyncCursor | None:
        """Where the last incremental pull stopped; None before the first one."""
        c = sync_cursors
        with self._read("reading a sync cursor") as connection:
            row = connection.execute(
                select(c).where(c.c.platform == platform, c.c.project_key == project_key)
            ).one_or_none()
        if row is None:
            return None
        return SyncCursor(
            platform=row.platform,
            project_key=row.project_key,
            cursor=row.cursor,
            last_full_reconcile_at=row.last_full_reconcile_at,
            updated_at=row.updated_at,
        )

    def set_cursor(
        self,
        platform: str,
        project_key: str,
        cursor: str | None,
        *,
        full_reconcile_at: datetime | None = None,
    ) -> None:
        """Move the cursor; ``full_reconcile_at`` records a full reconcile (kept otherwise)."""
        with self._write("writing a sync cursor") as connection:
            statement = upsert(
                connection,
                sync_cursors,
                key=["platform", "project_key"],
                update=("cursor", "last_full_reconcile_at", "updated_at"),
                keep_when_null=("last_full_reconcile_at",),
            )
            connection.execute(
                statement,
                {
                    "platform": platform,
                    "project_key": project_key,
                    "cursor": cursor,
                    "last_full_reconcile_at": full_reconcile_at,
                    "updated_at": utcnow(),
                },
            )

    def mark_reconciled(self, platform: str, project_key: str, at: datetime) -> None:
        """Record a full reconcile at ``at``; the cursor stays as it is (none for a new row)."""
        with self._write("recording a full reconcile") as connection:
            statement = upsert(
                connection,
                sync_cursors,
                key=["platform", "project_key"],
                update=("last_full_reconcile_at", "updated_at"),
            )
            connection.execute(
                statement,
                {
                    "platform": platform,
                    "project_key": project_key,
                    "cursor": None,
                    "last_full_reconcile_at": at,
                    "updated_at": utcnow(),
                },
            )

    def start_run(
        self, platform: str, project_key: str, *, started_at: datetime | None = None
    ) -> int:
        """Record the start of a sync run; returns its id for :meth:`finish_run`."""
        zero = dataclasses.asdict(RunCounts())
        with self._write("starting a sync run") as connection:
            result = connection.execute(
                sync_runs.insert(),
                {
                    "platform": platform,
                    "project_key": project_key,
                    "started_at": utcnow() if started_at is None else started_at,
                    **zero,
                },
            )
            return new_id(result)

    def finish_run(
        self,
        run_id: int,
        counts: RunCounts,
        *,
        error: str | None = None,
        finished_at: datetime | None = None,
    ) -> None:
        """Record the end of a sync run with its counters (and its error, if it failed).

        Raises:
            StoreError: no run has that id.
        """
        with self._write("finishing a sync run") as connection:
            result = connection.execute(
                update(sync_runs)
                .where(sync_runs.c.id == run_id)
                .values(
                    finished_at=utcnow() if finished_at is None else finished_at,
                    error=error,
                    **dataclasses.asdict(counts),
                )
            )
            if result.rowcount != 1:
                raise StoreError(f"no sync run {run_id}", operation="finishing a sync run")

    def abandon_unfinished_runs(self, project_key: str, *, at: datetime | None = None) -> int:
        """Mark the project's unfinished sync runs finished, with the error
        :data:`ABANDONED_RUN_ERROR`; returns how many there were.

        A run stays unfinished when its process was killed. Call this only while holding the
        project's sync lock (:func:`connector.service.lock.project_lock`), just before a new
        run starts: then no other run of the project can be going.
        """
        r = sync_runs
        with self._write("marking abandoned sync runs") as connection:
            result = connection.execute(
                update(r)
                .where(r.c.project_key == project_key, r.c.finished_at.is_(None))
                .values(finished_at=utcnow() if at is None else at, error=ABANDONED_RUN_ERROR)
            )
            return int(result.rowcount)

    def get_run(self, run_id: int) -> SyncRun | None:
        """A sync run by id."""
        with self._read("reading a sync run") as connection:
            row = connection.execute(
                select(sync_runs).where(sync_runs.c.id == run_id)
            ).one_or_none()
        return None if row is None else _sync_run(row)

    def recent_runs(self, project_key: str, *, limit: int = 20) -> list[SyncRun]:
        """The project's latest sync runs, newest first."""
        with self._read("reading sync runs") as connection:
            found = connection.execute(
                select(sync_runs)
                .where(sync_runs.c.project_key == project_key)
                .order_by(sync_runs.c.started_at.desc(), sync_runs.c.id.desc())
                .limit(limit)
            ).all()
        return [_sync_run(row) for row in found]

    # --- reports ----------------------------------------------------------------------------

    def save_report(
        self,
        project_key: str,
        body: Mapping[str, Any],
        *,
        rubric_hash: str | None = None,
        html_path: str | Path | None = None,
        created_at: datetime | None = None,
    ) -> int:
        """Keep an agreement report's JSON body (and where its HTML was written); returns its
        id."""
        with self._write("saving a report") as connection:
            result = connection.execute(
                reports.insert(),
                {
                    "project_key": project_key,
                    "created_at": utcnow() if created_at is None else created_at,
                    "rubric_hash": rubric_hash,
                    "body": dict(body),
                    "html_path": None if html_path is None else str(html_path),
                },
            )
            return new_id(result)

    def latest_report(self, project_key: str) -> StoredReport | None:
        """The project's newest report."""
        with self._read("reading a report") as connection:
            row = connection.execute(
                select(reports)
                .where(reports.c.project_key == project_key)
                .order_by(reports.c.created_at.desc(), reports.c.id.desc())
                .limit(1)
            ).one_or_none()
        if row is None:
            return None
        return StoredReport(
            id=row.id,
            project_key=row.project_key,
            created_at=row.created_at,
            rubric_hash=row.rubric_hash,
            body=row.body,
            html_path=row.html_path,
        )

    # --- annotator status -------------------------------------------------------------------

    def status_history(
        self, project_key: str, rubric_id: str, *, annotator: str | None = None
    ) -> list[StatusDecision]:
        """Status decisions, oldest first (of one annotator if given)."""
        s = annotator_status
        query = (
            select(s.c.annotator, s.c.rubric_id, s.c.status, s.c.decided_at, s.c.evidence)
            .where(s.c.project_key == project_key, s.c.rubric_id == rubric_id)
            .order_by(s.c.annotator, s.c.decided_at, s.c.id)
        )
        if annotator is not None:
            query = query.where(s.c.annotator == annotator)
        with self._read("reading annotator statuses") as connection:
            found = connection.execute(query).all()
        return [
            StatusDecision(
                annotator=row.annotator,
                rubric_id=row.rubric_id,
                status=row.status,
                decided_at=row.decided_at,
                evidence=row.evidence or {},
            )
            for row in found
        ]

    def current_statuses(self, project_key: str, rubric_id: str) -> dict[str, StatusDecision]:
        """Each annotator's latest status decision, by annotator."""
        latest: dict[str, StatusDecision] = {}
        for decision in self.status_history(project_key, rubric_id):
            latest[decision.annotator] = decision  # history is oldest first
        return latest


def _sync_run(row: AnyRow) -> SyncRun:
    counts = RunCounts(
        **{field.name: getattr(row, field.name) for field in dataclasses.fields(RunCounts)}
    )
    return SyncRun(
        id=row.id,
        platform=row.platform,
        project_key=row.project_key,
        started_at=row.started_at,
        finished_at=row.finished_at,
        counts=counts,
        error=row.error,
    )
