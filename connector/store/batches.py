"""Calibration batches: their items, the tasks created for them, and when they were pushed."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    Connection,
    func,
    select,
    update,
)

from connector.errors import OptionError
from connector.store.base import AnyRow, StoreBase, inserted, moment
from connector.store.bulk import execute_many, upsert
from connector.store.columns import as_utc, utcnow
from connector.store.errors import StoreError, StoreRowError
from connector.store.rows import (
    Batch,
    BatchItem,
    BatchItemPlan,
)
from connector.store.schema import (
    DISPLAY_SIDES,
    batch_items,
    batches,
    platform_tasks,
)

__all__ = ["BatchStore"]


class BatchStore(StoreBase):
    """Calibration batches and the platform tasks created for their items."""

    # --- calibration batches ----------------------------------------------------------------

    def create_batch(
        self,
        *,
        batch_id: str,
        project_key: str,
        kind: str,
        rubric_hash: str,
        plan: Sequence[BatchItemPlan],
        created_at: datetime | None = None,
    ) -> Batch:
        """Record a planned calibration batch under its idempotency key ``batch_id``; creating
        it again returns the stored batch.

        Raises:
            OptionError: ``kind`` is not a task kind.
            StoreRowError: two planned tasks share a position.
            StoreError: ``batch_id`` is stored with a different project, kind, rubric or plan
                (a batch id names one plan: choose a new id for a new plan).
        """
        candidate = Batch(
            batch_id=batch_id,
            project_key=project_key,
            kind=kind,
            rubric_hash=rubric_hash,
            status="planned",
            n_tasks=len(plan),
            created_at=as_utc(utcnow() if created_at is None else created_at),
            pushed_at=None,
        )
        positions = [p.position for p in plan]
        if len(set(positions)) != len(positions):
            repeated = sorted({p for p in positions if positions.count(p) > 1})
            raise StoreRowError(f"batch {batch_id!r}: positions {repeated} appear more than once")
        operation = "creating a batch"
        with self._write(operation) as connection:
            if inserted(
                connection,
                upsert(connection, batches, key=["batch_id"]),
                dataclasses.asdict(candidate),
            ):
                params = [
                    {**dataclasses.asdict(item), "batch_id": batch_id}
                    for item in sorted(plan, key=lambda p: p.position)
                ]
                execute_many(connection, batch_items.insert(), params)
                return candidate
            stored = _batch(
                connection.execute(select(batches).where(batches.c.batch_id == batch_id)).one()
            )
            stored_plan = [
                BatchItemPlan(
                    item_key=item.item_key,
                    role=item.role,
                    position=item.position,
                    payload_hash=item.payload_hash,
                )
                for item in _batch_items(connection, batch_id)
            ]
            same = (stored.project_key, stored.kind, stored.rubric_hash) == (
                project_key,
                kind,
                rubric_hash,
            ) and stored_plan == sorted(plan, key=lambda p: p.position)
            if not same:
                raise StoreError(
                    f"batch {batch_id!r} is stored with a different project, kind, rubric or "
                    "plan; a batch id names one plan, so choose a new id for a new plan",
                    operation=operation,
                )
            return stored

    def get_batch(self, batch_id: str) -> Batch | None:
        """A batch by its id."""
        with self._read("reading a batch") as connection:
            row = connection.execute(
                select(batches).where(batches.c.batch_id == batch_id)
            ).one_or_none()
        return None if row is None else _batch(row)

    def batch_items(self, batch_id: str) -> list[BatchItem]:
        """The batch's planned tasks by position, with the platform task once created."""
        with self._read("reading batch items") as connection:
            return _batch_items(connection, batch_id)

    def record_task_created(
        self,
        batch_id: str,
        position: int,
        platform_task_id: str,
        *,
        display_left: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """Record the platform task made for a planned one and map it to its item (kind =
        the item's role, batch and rubric from the batch), in one transaction, so a push that
        crashed resumes with the tasks still to create. Recording the same task again is a
        no-op.

        Raises:
            StoreError: the batch has no such position, or another task was recorded for it.
        """
        operation = "recording a created task"
        if display_left is not None and display_left not in DISPLAY_SIDES:
            raise OptionError("display_left", display_left, (None, *DISPLAY_SIDES))
        with self._write(operation) as connection:
            found = connection.execute(
                select(
                    batch_items.c.item_key,
                    batch_items.c.role,
                    batch_items.c.platform_task_id,
                    batches.c.project_key,
                    batches.c.rubric_hash,
                )
                .join(batches, batches.c.batch_id == batch_items.c.batch_id)
                .where(batch_items.c.batch_id == batch_id, batch_items.c.position == position)
            ).one_or_none()
            if found is None:
                raise StoreError(
                    f"batch {batch_id!r} has no planned task at position {position}",
                    operation=operation,
                )
            if found.platform_task_id == platform_task_id:
                return
            if found.platform_task_id is not None:
                raise StoreError(
                    f"batch {batch_id!r} position {position} already has platform task "
                    f"{found.platform_task_id!r}, not {platform_task_id!r}",
                    operation=operation,
                )
            connection.execute(
                update(batch_items)
                .where(batch_items.c.batch_id == batch_id, batch_items.c.position == position)
                .values(
                    platform_task_id=platform_task_id,
                    task_created_at=utcnow() if at is None else at,
                )
            )
            statement = upsert(
                connection,
                platform_tasks,
                key=["project_key", "platform_task_id"],
                update=("item_key", "batch_id", "kind", "display_left", "rubric_hash"),
            )
            connection.execute(
                statement,
                {
                    "project_key": found.project_key,
                    "platform_task_id": platform_task_id,
                    "item_key": found.item_key,
                    "batch_id": batch_id,
                    "kind": found.role,
                    "display_left": display_left,
                    "rubric_hash": found.rubric_hash,
                    "created_at": utcnow(),
                },
            )

    def mark_batch_pushed(self, batch_id: str, *, at: datetime | None = None) -> None:
        """Record that every task of the batch exists on the platform (first time kept).

        Raises:
            StoreError: no such batch, or some planned tasks have no platform task yet.
        """
        operation = "marking a batch pushed"
        with self._write(operation) as connection:
            missing = connection.execute(
                select(func.count())
                .select_from(batch_items)
                .where(batch_items.c.batch_id == batch_id, batch_items.c.platform_task_id.is_(None))
            ).scalar_one()
            if missing:
                raise StoreError(
                    f"batch {batch_id!r} has {missing} planned task(s) not created yet; "
                    "record them with record_task_created first",
                    operation=operation,
                )
            result = connection.execute(
                update(batches)
                .where(batches.c.batch_id == batch_id)
                .values(
                    status="pushed",
                    pushed_at=func.coalesce(batches.c.pushed_at, moment(at)),
                )
            )
            if result.rowcount != 1:
                raise StoreError(f"no batch {batch_id!r}", operation=operation)


def _batch(row: AnyRow) -> Batch:
    return Batch(
        batch_id=row.batch_id,
        project_key=row.project_key,
        kind=row.kind,
        rubric_hash=row.rubric_hash,
        status=row.status,
        n_tasks=row.n_tasks,
        created_at=row.created_at,
        pushed_at=row.pushed_at,
    )


def _batch_items(connection: Connection, batch_id: str) -> list[BatchItem]:
    found = connection.execute(
        select(batch_items)
        .where(batch_items.c.batch_id == batch_id)
        .order_by(batch_items.c.position)
    ).all()
    return [
        BatchItem(
            batch_id=row.batch_id,
            item_key=row.item_key,
            role=row.role,
            position=row.position,
            payload_hash=row.payload_hash,
            platform_task_id=row.platform_task_id,
            task_created_at=row.task_created_at,
        )
        for row in found
    ]
