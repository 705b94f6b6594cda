"""The adjudication queue and the rulings store.

An item and dimension are queued for adjudication once (``adjudication_queue`` is keyed by
project, item and dimension, and by the opaque key of its task on the adjudication project).
A ruling (:class:`Ruling`) says who set which value on an item and dimension, when and why;
it comes from an adjudication task (``source`` ``adjudication``, ``source_ref`` the platform's
annotation or response id) or from a calibration session (``calibration``, the session id).
Recording the same ruling again updates it in place (a senior who edits their answer), so a
pull is idempotent. Rulings are never judgments: nothing here touches the ``judgments`` table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from connector.errors import OptionError
from connector.store.base import StoreBase
from connector.store.bulk import execute_many, upsert
from connector.store.columns import utcnow
from connector.store.errors import StoreRowError
from connector.store.rows import Value
from connector.store.schema import RULING_SOURCES, adjudication_queue, rulings

__all__ = ["QueuedItem", "Ruling", "RulingStore"]


@dataclass(frozen=True, slots=True, kw_only=True)
class QueuedItem:
    """An item and dimension sent to the adjudication project, with the agreement that sent it
    and the task showing it (``platform_task_id`` None until the task is created)."""

    item_key: str
    dimension: str
    task_key: str
    agreement: float | None
    n_judgments: int
    platform_task_id: str | None = None
    queued_at: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("item_key", "dimension", "task_key"):
            if not getattr(self, name):
                raise StoreRowError(f"{name} must be a non-empty string")


@dataclass(frozen=True, slots=True, kw_only=True)
class Ruling:
    """A binding value for an item on a dimension: who ruled, when, why, and where from."""

    item_key: str
    dimension: str
    value: Value
    reason: str
    ruled_by: str
    ruled_at: datetime
    source: str
    source_ref: str

    def __post_init__(self) -> None:
        for name in ("item_key", "dimension", "reason", "ruled_by", "source_ref"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name).strip():
                raise StoreRowError(f"ruling {name} must be a non-empty string")
        if isinstance(self.value, bool) or not isinstance(self.value, str | int | float):
            raise StoreRowError(f"ruling value must be a string or a number, not {self.value!r}")
        if self.source not in RULING_SOURCES:
            raise OptionError("source", self.source, RULING_SOURCES)


class RulingStore(StoreBase):
    """The adjudication queue and the rulings of a project."""

    def queue_adjudications(self, project_key: str, queued: Iterable[QueuedItem]) -> list[str]:
        """Add items to the queue; an item and dimension queued before is left as it is.
        Returns the task keys added now."""
        now = utcnow()
        wanted = list(queued)
        with self._write("queueing items for adjudication") as connection:
            q = adjudication_queue
            known = {
                (row.item_key, row.dimension)
                for row in connection.execute(
                    select(q.c.item_key, q.c.dimension).where(q.c.project_key == project_key)
                )
            }
            fresh = [i for i in wanted if (i.item_key, i.dimension) not in known]
            statement = upsert(connection, q, key=["project_key", "item_key", "dimension"])
            execute_many(
                connection,
                statement,
                [
                    {
                        "project_key": project_key,
                        "item_key": i.item_key,
                        "dimension": i.dimension,
                        "task_key": i.task_key,
                        "platform_task_id": i.platform_task_id,
                        "agreement": i.agreement,
                        "n_judgments": i.n_judgments,
                        "queued_at": now,
                    }
                    for i in fresh
                ],
            )
        return [i.task_key for i in fresh]

    def record_adjudication_tasks(self, project_key: str, task_ids: dict[str, str]) -> None:
        """Remember the platform task created for each queued task key."""
        q = adjudication_queue
        with self._write("recording adjudication tasks") as connection:
            for task_key, task_id in task_ids.items():
                connection.execute(
                    q.update()
                    .where(q.c.project_key == project_key, q.c.task_key == task_key)
                    .values(platform_task_id=task_id)
                )

    def adjudication_queue(self, project_key: str) -> list[QueuedItem]:
        """Every queued item and dimension of the project, in queueing order."""
        q = adjudication_queue
        with self._read("reading the adjudication queue") as connection:
            found = connection.execute(
                select(q).where(q.c.project_key == project_key).order_by(q.c.queued_at, q.c.id)
            ).all()
        return [
            QueuedItem(
                item_key=row.item_key,
                dimension=row.dimension,
                task_key=row.task_key,
                agreement=row.agreement,
                n_judgments=row.n_judgments,
                platform_task_id=row.platform_task_id,
                queued_at=row.queued_at,
            )
            for row in found
        ]

    def record_rulings(self, project_key: str, found: Sequence[Ruling]) -> int:
        """Store rulings; the same (source, source_ref, item, dimension) again updates its
        value, reason and time. Returns how many rows were written."""
        now = utcnow()
        with self._write("recording rulings") as connection:
            statement = upsert(
                connection,
                rulings,
                key=["project_key", "source", "source_ref", "item_key", "dimension"],
                update=("value", "reason", "ruled_by", "ruled_at", "recorded_at"),
            )
            execute_many(
                connection,
                statement,
                [
                    {
                        "project_key": project_key,
                        "item_key": r.item_key,
                        "dimension": r.dimension,
                        "value": r.value,
                        "reason": r.reason,
                        "ruled_by": r.ruled_by,
                        "ruled_at": r.ruled_at,
                        "source": r.source,
                        "source_ref": r.source_ref,
                        "recorded_at": now,
                    }
                    for r in found
                ],
            )
        return len(found)

    def ruling_log(self, project_key: str) -> list[Ruling]:
        """Every ruling of the project, oldest first."""
        r = rulings
        with self._read("reading rulings") as connection:
            found = connection.execute(
                select(r).where(r.c.project_key == project_key).order_by(r.c.ruled_at, r.c.id)
            ).all()
        return [
            Ruling(
                item_key=row.item_key,
                dimension=row.dimension,
                value=row.value,
                reason=row.reason,
                ruled_by=row.ruled_by,
                ruled_at=row.ruled_at,
                source=row.source,
                source_ref=row.source_ref,
            )
            for row in found
        ]

    def current_rulings(self, project_key: str) -> dict[tuple[str, str], Ruling]:
        """The ruling in force per (item, dimension): the latest by ``ruled_at``."""
        current: dict[tuple[str, str], Ruling] = {}
        for ruling in self.ruling_log(project_key):
            current[(ruling.item_key, ruling.dimension)] = ruling
        return current
