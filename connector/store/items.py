"""Rubric versions, items, platform tasks (with the agreement last written to each), gold
answers with their log of changes, the gold figures reports may show, and this installation's
secrets.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import (
    bindparam,
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
    GoldChangeRow,
    GoldRelease,
    ItemRow,
    TaskMapping,
)
from connector.store.schema import (
    gold_answers,
    gold_changes,
    gold_releases,
    installation,
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

    def items_with_payload(self, project_key: str) -> list[ItemRow]:
        """The project's items whose prompt and responses are kept (those the connector
        pushed), by item key."""
        i = items
        with self._read("reading items") as connection:
            found = connection.execute(
                select(i.c.item_key, i.c.category, i.c.payload, i.c.response_lengths)
                .where(i.c.project_key == project_key, i.c.payload.is_not(None))
                .order_by(i.c.item_key)
            ).all()
        return [
            ItemRow(
                item_key=row.item_key,
                category=row.category,
                payload=row.payload,
                response_lengths=row.response_lengths,
            )
            for row in found
            if row.payload is not None  # a JSON 'null' written before none_as_null
        ]

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

    def written_agreements(self, project_key: str) -> dict[str, dict[str, float | None]]:
        """Per-task agreement by dimension last written to the platform, for tasks written at
        least once."""
        t = platform_tasks
        with self._read("reading written agreements") as connection:
            found = connection.execute(
                select(t.c.platform_task_id, t.c.written_agreements).where(
                    t.c.project_key == project_key, t.c.written_at.is_not(None)
                )
            ).all()
        return {row.platform_task_id: dict(row.written_agreements or {}) for row in found}

    def record_written(
        self, project_key: str, written: Mapping[str, Mapping[str, float | None]]
    ) -> None:
        """Remember the per-task agreement (by dimension) just written to the platform."""
        if not written:
            return
        t = platform_tasks
        now = utcnow()
        with self._write("recording written agreements") as connection:
            statement = (
                update(t)
                .where(
                    t.c.project_key == bindparam("p_project"),
                    t.c.platform_task_id == bindparam("p_task"),
                )
                .values(written_agreements=bindparam("p_values"), written_at=bindparam("p_at"))
            )
            connection.execute(
                statement,
                [
                    {
                        "p_project": project_key,
                        "p_task": task,
                        "p_values": dict(values),
                        "p_at": now,
                    }
                    for task, values in written.items()
                ],
            )

    # --- gold -------------------------------------------------------------------------------

    def set_gold(self, project_key: str, answers: Iterable[GoldAnswer]) -> int:
        """Record gold answers as they are, without the rules of
        :mod:`connector.calibration.gold` (tests and migrations of old data; the connector
        records gold through :meth:`record_gold_changes`). Returns how many distinct answers
        were written."""
        now = utcnow()
        by_key = {(answer.item_key, answer.dimension): answer for answer in answers}
        params = [
            {
                "project_key": project_key,
                "item_key": answer.item_key,
                "dimension": answer.dimension,
                "value": answer.value,
                "source": answer.source,
                "set_by": answer.set_by,
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
                update=("value", "source", "set_by", "updated_at"),
            )
            execute_many(connection, statement, params)
        return len(params)

    def record_gold_changes(
        self, project_key: str, changes: Sequence[GoldChangeRow]
    ) -> list[GoldChangeRow]:
        """Log gold decisions and apply the accepted ones, in one transaction; return the rows
        logged now (a decision logged before, by fingerprint, is neither logged nor applied
        again)."""
        if not changes:
            return []
        fresh = []
        with self._write("recording gold changes") as connection:
            log_row = upsert(connection, gold_changes, key=["fingerprint"])
            answer = upsert(
                connection,
                gold_answers,
                key=["project_key", "item_key", "dimension"],
                update=("value", "source", "set_by", "updated_at"),
            )
            for change in changes:
                logged = inserted(
                    connection,
                    log_row,
                    {
                        "fingerprint": change.fingerprint,
                        "project_key": project_key,
                        "item_key": change.item_key,
                        "dimension": change.dimension,
                        "old_value": change.old_value,
                        "new_value": change.new_value,
                        "source": change.source,
                        "set_by": change.set_by,
                        "platform_annotation_id": change.platform_annotation_id,
                        "accepted": change.accepted,
                        "reason": change.reason,
                        "at": change.at,
                    },
                )
                if not logged:
                    continue
                fresh.append(change)
                if change.accepted:
                    connection.execute(
                        answer,
                        {
                            "project_key": project_key,
                            "item_key": change.item_key,
                            "dimension": change.dimension,
                            "value": change.new_value,
                            "source": change.source,
                            "set_by": change.set_by,
                            "created_at": change.at,
                            "updated_at": change.at,
                        },
                    )
        return fresh

    def gold_log(self, project_key: str) -> list[GoldChangeRow]:
        """Every logged gold decision of the project, oldest first."""
        g = gold_changes
        with self._read("reading the gold log") as connection:
            found = connection.execute(
                select(g).where(g.c.project_key == project_key).order_by(g.c.at, g.c.id)
            ).all()
        return [
            GoldChangeRow(
                fingerprint=row.fingerprint,
                item_key=row.item_key,
                dimension=row.dimension,
                old_value=row.old_value,
                new_value=row.new_value,
                source=row.source,
                set_by=row.set_by,
                platform_annotation_id=row.platform_annotation_id,
                accepted=bool(row.accepted),
                reason=row.reason,
                at=row.at,
            )
            for row in found
        ]

    def gold_for(self, project_key: str) -> dict[tuple[str, str], GoldAnswer]:
        """The project's gold answers by (item_key, dimension)."""
        g = gold_answers
        with self._read("reading gold answers") as connection:
            found = connection.execute(
                select(g.c.item_key, g.c.dimension, g.c.value, g.c.source, g.c.set_by)
                .where(g.c.project_key == project_key)
                .order_by(g.c.item_key, g.c.dimension)
            ).all()
        return {
            (row.item_key, row.dimension): GoldAnswer(
                item_key=row.item_key,
                dimension=row.dimension,
                value=row.value,
                source=row.source,
                set_by=row.set_by,
            )
            for row in found
        }

    # --- what reports may show of gold ------------------------------------------------------

    def gold_releases(self, project_key: str, rubric_id: str) -> dict[str, GoldRelease]:
        """The per-annotator gold figures last released for reports, by annotator."""
        r = gold_releases
        with self._read("reading gold releases") as connection:
            found = connection.execute(
                select(r).where(r.c.project_key == project_key, r.c.rubric_id == rubric_id)
            ).all()
        return {
            row.annotator: GoldRelease(
                annotator=row.annotator,
                released_at=row.released_at,
                gold_judgments=row.gold_judgments,
                figures=row.figures,
            )
            for row in found
        }

    def release_gold(
        self, project_key: str, rubric_id: str, releases: Sequence[GoldRelease]
    ) -> None:
        """Replace the released gold figures of these annotators."""
        if not releases:
            return
        with self._write("releasing gold figures") as connection:
            statement = upsert(
                connection,
                gold_releases,
                key=["project_key", "rubric_id", "annotator"],
                update=("released_at", "gold_judgments", "figures"),
            )
            execute_many(
                connection,
                statement,
                [
                    {
                        "project_key": project_key,
                        "rubric_id": rubric_id,
                        "annotator": release.annotator,
                        "released_at": release.released_at,
                        "gold_judgments": release.gold_judgments,
                        "figures": dict(release.figures),
                    }
                    for release in releases
                ],
            )

    # --- this installation ------------------------------------------------------------------

    def installation_secret(self, name: str) -> str:
        """A random secret of this installation (made on first use, the same for every replica
        on this database): keys what annotators see, such as opaque task keys."""
        with self._write("reading an installation secret") as connection:
            statement = upsert(connection, installation, key=["name"])
            inserted(
                connection,
                statement,
                {"name": name, "value": secrets.token_hex(32), "created_at": utcnow()},
            )
            value = connection.execute(
                select(installation.c.value).where(installation.c.name == name)
            ).scalar_one()
        return str(value)
