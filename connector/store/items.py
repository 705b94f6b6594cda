"""Rubric versions, items, platform tasks (with the agreement last written to each) and gold
answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import (
    select,
    update,
)

from connector.rubric import Rubric
from connector.store.base import StoreBase, inserted
from connector.store.bulk import execute_many, upsert
from connector.store.columns import utcnow
from connector.store.errors import StoreError
from connector.store.rows import (
    GoldAnswer,
    ItemRow,
    TaskMapping,
)
from connector.store.schema import (
    gold_answers,
    items,
    platform_tasks,
    rubric_versions,
)

__all__ = ["ItemStore"]


class ItemStore(StoreBase):
    """Rubrics, items, task mappings and gold answers of a project."""

    # --- rubrics, items, tasks --------------------------------------------------------------

    def save_rubric(self, rubric: Rubric) -> bool:
        """Record a rubric version; False if its content hash is stored already.

        Raises:
            StoreError: the rubric has no content hash, or its id and version are stored with a
                different hash (a rubric version is immutable: bump the version).
        """
        if not rubric.content_hash:
            raise StoreError(f"rubric {rubric.ref} has no content hash; load it with load_rubric")
        with self._write("saving a rubric") as connection:
            stored = connection.execute(
                select(rubric_versions.c.content_hash).where(
                    rubric_versions.c.rubric_id == rubric.id,
                    rubric_versions.c.version == rubric.version,
                )
            ).scalar_one_or_none()
            if stored == rubric.content_hash:
                return False
            if stored is not None:
                raise StoreError(
                    f"rubric {rubric.ref} is stored with content hash {stored}, not "
                    f"{rubric.content_hash}; a rubric version is immutable, so bump the version",
                    operation="saving a rubric",
                )
            statement = upsert(connection, rubric_versions, key=["content_hash"])
            return inserted(
                connection,
                statement,
                {
                    "rubric_id": rubric.id,
                    "version": rubric.version,
                    "content_hash": rubric.content_hash,
                    "canonical_json": rubric.canonical_json(),
                    "created_at": utcnow(),
                },
            )

    def upsert_items(self, project_key: str, rows: Iterable[ItemRow]) -> int:
        """Record items; a field given as None keeps its stored value. Returns how many
        distinct items were written."""
        now = utcnow()
        by_key = {row.item_key: row for row in rows}
        params = [
            {
                "project_key": project_key,
                "item_key": row.item_key,
                "category": row.category,
                "payload": None if row.payload is None else dict(row.payload),
                "response_lengths": (
                    None if row.response_lengths is None else dict(row.response_lengths)
                ),
                "created_at": now,
                "updated_at": now,
            }
            for row in by_key.values()
        ]
        fields = ("category", "payload", "response_lengths")
        with self._write("writing items") as connection:
            statement = upsert(
                connection,
                items,
                key=["project_key", "item_key"],
                update=(*fields, "updated_at"),
                keep_when_null=fields,
            )
            execute_many(connection, statement, params)
        return len(params)

    def map_tasks(self, project_key: str, tasks: Iterable[TaskMapping]) -> int:
        """Record which item each platform task shows; a task mapped again takes the new item,
        kind and batch (``display_left`` and ``rubric_hash`` keep their stored value when given
        as None). Returns how many distinct tasks were written."""
        now = utcnow()
        by_id = {task.platform_task_id: task for task in tasks}
        params = [
            {
                "project_key": project_key,
                "platform_task_id": task.platform_task_id,
                "item_key": task.item_key,
                "batch_id": task.batch_id,
                "kind": task.kind,
                "display_left": task.display_left,
                "rubric_hash": task.rubric_hash,
                "created_at": now,
            }
            for task in by_id.values()
        ]
        with self._write("mapping tasks") as connection:
            statement = upsert(
                connection,
                platform_tasks,
                key=["project_key", "platform_task_id"],
                update=("item_key", "batch_id", "kind", "display_left", "rubric_hash"),
                keep_when_null=("batch_id", "display_left", "rubric_hash"),
            )
            execute_many(connection, statement, params)
        return len(params)

    def task_mappings(self, project_key: str) -> dict[str, TaskMapping]:
        """The project's platform tasks by platform task id."""
        t = platform_tasks
        with self._read("reading task mappings") as connection:
            found = connection.execute(
                select(
                    t.c.platform_task_id,
                    t.c.item_key,
                    t.c.kind,
                    t.c.batch_id,
                    t.c.display_left,
                    t.c.rubric_hash,
                )
                .where(t.c.project_key == project_key)
                .order_by(t.c.platform_task_id)
            ).all()
        return {
            row.platform_task_id: TaskMapping(
                platform_task_id=row.platform_task_id,
                item_key=row.item_key,
                kind=row.kind,
                batch_id=row.batch_id,
                display_left=row.display_left,
                rubric_hash=row.rubric_hash,
            )
            for row in found
        }

    def written_agreements(self, project_key: str) -> dict[str, float | None]:
        """Per-task agreement last written to the platform, for tasks written at least once."""
        t = platform_tasks
        with self._read("reading written agreements") as connection:
            found = connection.execute(
                select(t.c.platform_task_id, t.c.written_agreement).where(
                    t.c.project_key == project_key, t.c.written_at.is_not(None)
                )
            ).all()
        return {row.platform_task_id: row.written_agreement for row in found}

    def record_written(self, project_key: str, written: Mapping[str, float | None]) -> None:
        """Remember the per-task agreement just written to the platform."""
        t = platform_tasks
        now = utcnow()
        with self._write("recording written agreements") as connection:
            for task_id, value in written.items():
                connection.execute(
                    update(t)
                    .where(t.c.project_key == project_key, t.c.platform_task_id == task_id)
                    .values(written_agreement=value, written_at=now)
                )

    # --- gold -------------------------------------------------------------------------------

    def set_gold(self, project_key: str, answers: Iterable[GoldAnswer]) -> int:
        """Record gold answers; a later answer for the same (item, dimension) replaces the
        earlier one. Returns how many distinct answers were written."""
        now = utcnow()
        by_key = {(answer.item_key, answer.dimension): answer for answer in answers}
        params = [
            {
                "project_key": project_key,
                "item_key": answer.item_key,
                "dimension": answer.dimension,
                "value": answer.value,
                "source": answer.source,
                "created_at": now,
                "updated_at": now,
            }
            for answer in by_key.values()
        ]
        with self._write("writing gold answers") as connection:
            statement = upsert(
                connection,
                gold_answers,
                key=["project_key", "item_key", "dimension"],
                update=("value", "source", "updated_at"),
            )
            execute_many(connection, statement, params)
        return len(params)

    def gold_for(self, project_key: str) -> dict[tuple[str, str], GoldAnswer]:
        """The project's gold answers by (item_key, dimension)."""
        g = gold_answers
        with self._read("reading gold answers") as connection:
            found = connection.execute(
                select(g.c.item_key, g.c.dimension, g.c.value, g.c.source)
                .where(g.c.project_key == project_key)
                .order_by(g.c.item_key, g.c.dimension)
            ).all()
        return {
            (row.item_key, row.dimension): GoldAnswer(
                item_key=row.item_key, dimension=row.dimension, value=row.value, source=row.source
            )
            for row in found
        }
