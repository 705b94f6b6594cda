"""Judgments: idempotent writes keyed by (annotation, dimension), deletions, quarantine, and the
canonical judgments frame every report is built from.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Text,
    and_,
    func,
    or_,
    select,
    type_coerce,
    update,
)

from connector.judgments import COLUMNS, with_canonical_dtypes
from connector.store.base import AnyRow, StoreBase
from connector.store.bulk import Insert, chunks, execute_many, upsert
from connector.store.columns import as_utc, dumps, utcnow
from connector.store.rows import (
    ApplyCounts,
    JudgmentRow,
    QuarantineRow,
)
from connector.store.schema import (
    gold_answers,
    items,
    judgments,
    platform_tasks,
    quarantine,
    rubric_versions,
)

__all__ = ["JudgmentStore"]

_OLDEST = datetime.min.replace(tzinfo=UTC)

_JUDGMENT_UPDATES = (
    "item_key",
    "platform_task_id",
    "annotator",
    "value",
    "rubric_hash",
    "submitted_at",
    "platform_updated_at",
    "lead_time_s",
    "display_left",
    "is_retest",
    "deleted_at",  # a newer version brings a withdrawn judgment back (Argilla re-submissions)
    "updated_at",
)


class JudgmentStore(StoreBase):
    """Judgments, deletions and quarantined results of a project."""

    # --- judgments --------------------------------------------------------------------------

    def annotation_ids_by_task(
        self, project_key: str, task_ids: Iterable[str] | None
    ) -> dict[str, set[str]]:
        """The annotation ids of the stored, not deleted, judgments of each task (of the given
        tasks, or of all the project's tasks with None), to find annotations deleted on the
        platform. Tasks without judgments are absent."""
        j = judgments
        query = (
            select(j.c.platform_task_id, j.c.platform_annotation_id)
            .distinct()
            .where(
                j.c.project_key == project_key,
                j.c.deleted_at.is_(None),
                j.c.platform_task_id.is_not(None),
            )
        )
        queries = (
            [query]
            if task_ids is None
            else [
                query.where(j.c.platform_task_id.in_(chunk))
                for chunk in chunks(sorted(set(task_ids)))
            ]
        )
        by_task: dict[str, set[str]] = {}
        with self._read("reading annotation ids") as connection:
            for each in queries:
                for task_id, annotation_id in connection.execute(each):
                    by_task.setdefault(task_id, set()).add(annotation_id)
        return by_task

    def apply_judgments(self, project_key: str, rows: Iterable[JudgmentRow]) -> ApplyCounts:
        """Write pulled judgments, keyed by ``(platform_annotation_id, dimension)``.

        A stored judgment takes the incoming one when its ``platform_updated_at`` is newer, or
        the same with a different value; never an older one (a missing timestamp is the
        oldest). Rows repeating a key within ``rows`` count once, the newest winning. A judgment
        marked deleted comes back (counted as updated) when a newer version arrives (an Argilla
        response withdrawn to draft and submitted again keeps its id) or when a pull sees the
        same version again: the platform has it, so the deletion was seen in error (an offset
        page shifted by a concurrent deletion); only an older version leaves it deleted. The
        counts are of distinct keys.
        """
        incoming: dict[tuple[str, str], JudgmentRow] = {}
        for row in rows:
            key = (row.platform_annotation_id, row.dimension)
            held = incoming.get(key)
            if held is None or _newer_key(row) >= _newer_key(held):
                incoming[key] = row
        if not incoming:
            return ApplyCounts()
        now = utcnow()
        created = updated = unchanged = 0
        writes: list[dict[str, Any]] = []
        annotation_ids = sorted({key[0] for key in incoming})
        with self._write("applying judgments") as connection:
            stored: dict[tuple[str, str], tuple[str, datetime | None, bool]] = {}
            for chunk in chunks(annotation_ids):
                found = connection.execute(
                    select(
                        judgments.c.platform_annotation_id,
                        judgments.c.dimension,
                        type_coerce(judgments.c.value, Text),  # canonical JSON text, as stored
                        judgments.c.platform_updated_at,
                        judgments.c.deleted_at.is_not(None),
                    ).where(
                        judgments.c.project_key == project_key,
                        judgments.c.platform_annotation_id.in_(chunk),
                    )
                )
                for annotation_id, dimension, value, updated_at, deleted in found:
                    stored[(annotation_id, dimension)] = (value, updated_at, bool(deleted))
            for key, row in incoming.items():
                before = stored.get(key)
                if before is None:
                    created += 1
                else:
                    newer = _is_newer(row.platform_updated_at, before[1])
                    same = newer is None and dumps(row.value) == before[0] and not before[2]
                    if newer is False or same:
                        unchanged += 1
                        continue
                    updated += 1
                writes.append(_judgment_params(project_key, row, now))
            statement = upsert(
                connection,
                judgments,
                key=["project_key", "platform_annotation_id", "dimension"],
                update=_JUDGMENT_UPDATES,
                where=_replaces,
            )
            execute_many(connection, statement, writes)
        return ApplyCounts(created=created, updated=updated, unchanged=unchanged)

    def mark_deleted(
        self, project_key: str, annotation_ids: Iterable[str], at: datetime | None = None
    ) -> int:
        """Record that annotations were deleted on the platform (rows are kept, with
        ``deleted_at``). Returns how many judgments were newly marked."""
        moment = utcnow() if at is None else at
        ids = sorted(set(annotation_ids))
        marked = 0
        with self._write("marking judgments deleted") as connection:
            for chunk in chunks(ids):
                result = connection.execute(
                    update(judgments)
                    .where(
                        judgments.c.project_key == project_key,
                        judgments.c.platform_annotation_id.in_(chunk),
                        judgments.c.deleted_at.is_(None),
                    )
                    .values(deleted_at=moment, updated_at=utcnow())
                )
                marked += result.rowcount
        return marked

    def judgments_frame(
        self,
        project_key: str,
        *,
        include_deleted: bool = False,
        item_keys: Collection[str] | None = None,
    ) -> pd.DataFrame:
        """The project's judgments as a canonical table (:data:`connector.judgments.COLUMNS`);
        with ``item_keys``, only the judgments of those items.

        ``item_id`` is the item key; ``category`` and ``length_a``/``length_b`` come from the
        item, ``batch`` and (when the judgment has none) ``display_left`` from the task,
        ``rubric_version`` is the rubric's ``<id>@v<version>`` (its content hash if the rubric
        was never saved), ``gold_value`` the item's gold answer on the dimension. Rows are
        sorted by item, dimension, annotator and annotation.
        """
        j, i, t, g, r = judgments, items, platform_tasks, gold_answers, rubric_versions
        query = (
            select(
                j.c.item_key,
                j.c.annotator,
                j.c.dimension,
                j.c.value,
                i.c.category,
                # as the driver returns it (SQLite text, PostgreSQL datetime): one vectorised
                # parse in _canonical_dtypes instead of one per row
                type_coerce(j.c.submitted_at, Text).label("submitted_at"),
                j.c.rubric_hash,
                r.c.rubric_id,
                r.c.version,
                t.c.batch_id,
                j.c.lead_time_s,
                func.coalesce(j.c.display_left, t.c.display_left).label("display_left"),
                g.c.value.label("gold_value"),
                # per item, repeated on each of its judgments: parsed once per distinct text
                type_coerce(i.c.response_lengths, Text).label("response_lengths"),
            )
            .select_from(j)
            .outerjoin(i, and_(i.c.project_key == j.c.project_key, i.c.item_key == j.c.item_key))
            .outerjoin(
                t,
                and_(
                    t.c.project_key == j.c.project_key,
                    t.c.platform_task_id == j.c.platform_task_id,
                ),
            )
            .outerjoin(
                g,
                and_(
                    g.c.project_key == j.c.project_key,
                    g.c.item_key == j.c.item_key,
                    g.c.dimension == j.c.dimension,
                ),
            )
            .outerjoin(r, r.c.content_hash == j.c.rubric_hash)
            .where(j.c.project_key == project_key)
            .order_by(j.c.item_key, j.c.dimension, j.c.annotator, j.c.platform_annotation_id)
        )
        if not include_deleted:
            query = query.where(j.c.deleted_at.is_(None))
        with self._read("reading judgments") as connection:
            if item_keys is None:
                found = connection.execute(query).all()
            else:  # sorted chunks of item keys keep the rows in item order
                found = [
                    row
                    for chunk in chunks(sorted(set(item_keys)))
                    for row in connection.execute(query.where(j.c.item_key.in_(chunk))).all()
                ]
        lengths: dict[str, tuple[object, object]] = {}
        frame = pd.DataFrame.from_records(
            [_canonical_record(row, lengths) for row in found], columns=list(COLUMNS)
        )
        return with_canonical_dtypes(frame)

    def quarantine(self, project_key: str, rows: Iterable[QuarantineRow]) -> int:
        """Keep results that do not fit the rubric; one entry per (annotation, reason), so a
        re-pull adds nothing. Returns how many entries are new."""
        now = utcnow()
        incoming = {(row.platform_annotation_id, row.reason): row for row in rows}
        if not incoming:
            return 0
        with self._write("quarantining results") as connection:
            known: set[tuple[str, str]] = set()
            for chunk in chunks(sorted({key[0] for key in incoming})):
                known.update(
                    (annotation_id, reason)
                    for annotation_id, reason in connection.execute(
                        select(quarantine.c.platform_annotation_id, quarantine.c.reason).where(
                            quarantine.c.project_key == project_key,
                            quarantine.c.platform_annotation_id.in_(chunk),
                        )
                    )
                )
            params = [
                {
                    "project_key": project_key,
                    "platform_task_id": row.platform_task_id,
                    "platform_annotation_id": row.platform_annotation_id,
                    "reason": row.reason,
                    "raw": None if row.raw is None else dict(row.raw),
                    "first_seen_at": now if row.first_seen_at is None else row.first_seen_at,
                }
                for key, row in incoming.items()
                if key not in known
            ]
            statement = upsert(
                connection, quarantine, key=["project_key", "platform_annotation_id", "reason"]
            )
            execute_many(connection, statement, params)
        return len(params)

    def quarantined(self, project_key: str) -> list[QuarantineRow]:
        """The project's quarantined results, oldest first."""
        q = quarantine
        with self._read("reading quarantine") as connection:
            found = connection.execute(
                select(
                    q.c.platform_annotation_id,
                    q.c.reason,
                    q.c.platform_task_id,
                    q.c.raw,
                    q.c.first_seen_at,
                )
                .where(q.c.project_key == project_key)
                .order_by(q.c.first_seen_at, q.c.id)
            ).all()
        return [
            QuarantineRow(
                platform_annotation_id=row.platform_annotation_id,
                reason=row.reason,
                platform_task_id=row.platform_task_id,
                raw=row.raw,
                first_seen_at=row.first_seen_at,
            )
            for row in found
        ]


def _newer_key(row: JudgmentRow) -> datetime:
    moment = row.platform_updated_at
    return _OLDEST if moment is None else as_utc(moment)


def _is_newer(incoming: datetime | None, stored: datetime | None) -> bool | None:
    """True if ``incoming`` is newer, False if older, None if the same (None is the oldest)."""
    new = _OLDEST if incoming is None else as_utc(incoming)
    old = _OLDEST if stored is None else as_utc(stored)
    return None if new == old else new > old


def _replaces(statement: Insert) -> ColumnElement[bool]:
    """The incoming judgment replaces the stored one: newer, or as new with another value or
    over a judgment marked deleted."""
    incoming = statement.excluded.platform_updated_at
    stored = judgments.c.platform_updated_at
    newer = or_(and_(stored.is_(None), incoming.is_not(None)), incoming > stored)
    same_time = or_(and_(stored.is_(None), incoming.is_(None)), incoming == stored)
    differs = or_(
        statement.excluded.value != judgments.c.value, judgments.c.deleted_at.is_not(None)
    )
    return or_(newer, and_(same_time, differs))


def _judgment_params(project_key: str, row: JudgmentRow, now: datetime) -> dict[str, Any]:
    return {
        "project_key": project_key,
        "platform_annotation_id": row.platform_annotation_id,
        "dimension": row.dimension,
        "item_key": row.item_key,
        "platform_task_id": row.platform_task_id,
        "annotator": row.annotator,
        "value": row.value,
        "rubric_hash": row.rubric_hash,
        "submitted_at": row.submitted_at,
        "platform_updated_at": row.platform_updated_at,
        "lead_time_s": row.lead_time_s,
        "display_left": row.display_left,
        "is_retest": row.is_retest,
        "deleted_at": None,
        "first_seen_at": now,
        "updated_at": now,
    }


def _response_lengths(raw: object, seen: dict[str, tuple[object, object]]) -> tuple[object, object]:
    """``(a, b)`` of an item's ``response_lengths``: JSON text from SQLite (parsed once per
    distinct text, memo in ``seen``), a dict already from PostgreSQL's ``jsonb``, or NULL."""
    if isinstance(raw, str):
        if raw not in seen:
            seen[raw] = _response_lengths(json.loads(raw), seen)
        return seen[raw]
    if isinstance(raw, dict):
        return raw.get("a"), raw.get("b")
    return None, None


def _canonical_record(row: AnyRow, lengths: dict[str, tuple[object, object]]) -> tuple[object, ...]:
    if row.rubric_id is not None:
        rubric_version: str | None = f"{row.rubric_id}@v{row.version}"
    else:
        rubric_version = row.rubric_hash
    length_a, length_b = _response_lengths(row.response_lengths, lengths)
    return (
        row.item_key,
        row.annotator,
        row.dimension,
        row.value,
        row.category,
        row.submitted_at,
        rubric_version,
        row.batch_id,
        row.lead_time_s,
        row.display_left,
        row.gold_value,
        length_a,
        length_b,
    )
