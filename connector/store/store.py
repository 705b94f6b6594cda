"""The :class:`Store`: every read and write of the connector's database.

Each public method runs in one transaction and is idempotent: calling it again with the same
rows changes nothing (natural keys are unique constraints, writes are upserts). SQLAlchemy and
driver errors are translated here, once, into :class:`~connector.store.errors.StoreError`.

SQLite (the default, one file) gets write-ahead logging, foreign keys and a busy timeout on every
connection, and write transactions start with ``BEGIN IMMEDIATE`` so two writers queue instead of
failing. PostgreSQL serves several replicas; statements are portable, and the upserts pick the
dialect's ``INSERT … ON CONFLICT`` (see :func:`upsert`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import pandas as pd
from sqlalchemy import (
    URL,
    ColumnElement,
    Connection,
    CursorResult,
    Engine,
    Row,
    Text,
    and_,
    create_engine,
    event,
    func,
    literal,
    make_url,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.elements import BindParameter

from connector.errors import OptionError
from connector.judgments import COLUMNS
from connector.rubric import Rubric
from connector.store import migrate as migrations
from connector.store.bulk import Insert, chunks, execute_many, upsert
from connector.store.columns import UTCDateTime, as_utc, dumps, utcnow
from connector.store.errors import StoreError, StoreRowError
from connector.store.migrate import SQLITE_BEGIN
from connector.store.rows import (
    ApplyCounts,
    Batch,
    BatchItem,
    BatchItemPlan,
    GoldAnswer,
    ItemRow,
    JudgmentRow,
    QuarantineRow,
    RunCounts,
    StatusDecision,
    StoredReport,
    SyncCursor,
    SyncRun,
    TaskMapping,
    WebhookEvent,
)
from connector.store.schema import (
    DISPLAY_SIDES,
    annotator_status,
    batch_items,
    batches,
    gold_answers,
    items,
    judgments,
    platform_tasks,
    quarantine,
    reports,
    rubric_versions,
    sync_cursors,
    sync_runs,
    webhook_events,
)

__all__ = ["SQLITE_BUSY_TIMEOUT_MS", "Store", "upsert"]

SQLITE_BUSY_TIMEOUT_MS = 30_000
_OLDEST = datetime.min.replace(tzinfo=UTC)

_Row = Row[*tuple[Any, ...]]


def _reason(exc: SQLAlchemyError) -> str:
    """The driver's message, first line only (no SQL, no parameters)."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(cause).strip().splitlines()
    return text[0] if text else type(cause).__name__


def _newer_key(row: JudgmentRow) -> datetime:
    moment = row.platform_updated_at
    return _OLDEST if moment is None else as_utc(moment)


def _is_newer(incoming: datetime | None, stored: datetime | None) -> bool | None:
    """True if ``incoming`` is newer, False if older, None if the same (None is the oldest)."""
    if incoming is None or stored is None:
        if incoming is None and stored is None:
            return None
        return stored is None
    incoming, stored = as_utc(incoming), as_utc(stored)
    if incoming == stored:
        return None
    return incoming > stored


class Store:
    """The connector's database: SQLite file by default, PostgreSQL by URL.

    >>> store = Store.open("sqlite:///iaa.db")  # doctest: +SKIP
    >>> store.apply_judgments("label-studio:12", rows)  # doctest: +SKIP
    ApplyCounts(created=3, updated=0, unchanged=0)

    Use it as a context manager, or call :meth:`close`, to release its connections.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # --- opening ----------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str | URL, *, migrate: bool = True) -> Self:
        """Connect to ``url`` (``sqlite:///path/iaa.db``, ``postgresql+psycopg://…``) and, with
        ``migrate``, bring the schema to the newest revision.

        A SQLite file's directory is created if missing.

        Raises:
            StoreError: the URL is invalid, the database is unreachable or not supported, or a
                migration failed; the message shows the URL with its password hidden.
        """
        try:
            parsed = make_url(url)
        except (SQLAlchemyError, ValueError) as exc:
            raise StoreError(
                "invalid database URL; expected e.g. sqlite:///path/iaa.db or "
                "postgresql+psycopg://user:password@host/dbname",
                operation="open",
            ) from exc
        shown = parsed.render_as_string(hide_password=True)
        backend = parsed.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise StoreError(
                f"{shown}: database {backend!r} is not supported; use sqlite:///path/iaa.db or "
                "postgresql+psycopg://…",
                operation="open",
                url=shown,
            )
        try:
            if backend == "sqlite":
                engine = _sqlite_engine(parsed)
            else:
                engine = create_engine(parsed, pool_pre_ping=True)
        except (SQLAlchemyError, ImportError) as exc:
            hint = "; pip install 'iaa-connector[postgres]'" if isinstance(exc, ImportError) else ""
            raise StoreError(
                f"cannot open {shown}: {exc}{hint}", operation="open", url=shown
            ) from exc
        store = cls(engine)
        if migrate:
            try:
                migrations.upgrade(engine)
            except SQLAlchemyError as exc:
                engine.dispose()
                raise StoreError(
                    f"migrating {shown} failed: {_reason(exc)}", operation="migrate", url=shown
                ) from exc
        return store

    @property
    def url(self) -> str:
        """The database URL with the password hidden (safe to log)."""
        return self._engine.url.render_as_string(hide_password=True)

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    def schema_revision(self) -> str | None:
        """The migration revision the database is at."""
        with self._translated("reading the schema revision"):
            return migrations.current_revision(self._engine)

    def close(self) -> None:
        """Release the store's connections."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    # --- transactions -----------------------------------------------------------------------

    @contextmanager
    def _translated(self, operation: str) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            raise StoreError(
                f"{operation} failed on {self.url}: {_reason(exc)}",
                operation=operation,
                url=self.url,
            ) from exc

    @contextmanager
    def _write(self, operation: str) -> Iterator[Connection]:
        """One write transaction (``BEGIN IMMEDIATE`` on SQLite)."""
        with (
            self._translated(operation),
            self._engine.connect().execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}) as connection,
            connection.begin(),
        ):
            yield connection

    @contextmanager
    def _read(self, operation: str) -> Iterator[Connection]:
        with (
            self._translated(operation),
            self._engine.connect() as connection,
            connection.begin(),
        ):
            yield connection

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
            return _inserted(
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
        oldest). Rows repeating a key within ``rows`` count once, the newest winning. A deleted
        judgment stays deleted unless a newer version arrives (an Argilla response withdrawn to
        draft and submitted again keeps its id). The counts are of distinct keys.
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
            stored: dict[tuple[str, str], tuple[str, datetime | None]] = {}
            for chunk in chunks(annotation_ids):
                found = connection.execute(
                    select(
                        judgments.c.platform_annotation_id,
                        judgments.c.dimension,
                        type_coerce(judgments.c.value, Text),  # canonical JSON text, as stored
                        judgments.c.platform_updated_at,
                    ).where(
                        judgments.c.project_key == project_key,
                        judgments.c.platform_annotation_id.in_(chunk),
                    )
                )
                for annotation_id, dimension, value, updated_at in found:
                    stored[(annotation_id, dimension)] = (value, updated_at)
            for key, row in incoming.items():
                before = stored.get(key)
                if before is None:
                    created += 1
                else:
                    newer = _is_newer(row.platform_updated_at, before[1])
                    if newer is False or (newer is None and dumps(row.value) == before[0]):
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

    def judgments_frame(self, project_key: str, *, include_deleted: bool = False) -> pd.DataFrame:
        """The project's judgments as a canonical table (:data:`connector.judgments.COLUMNS`).

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
            found = connection.execute(query).all()
        lengths: dict[str, tuple[object, object]] = {}
        frame = pd.DataFrame.from_records(
            [_canonical_record(row, lengths) for row in found], columns=list(COLUMNS)
        )
        return _canonical_dtypes(frame)

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
            return _new_id(result)

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
            if _inserted(
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
                    pushed_at=func.coalesce(batches.c.pushed_at, _moment(at)),
                )
            )
            if result.rowcount != 1:
                raise StoreError(f"no batch {batch_id!r}", operation=operation)

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
            return _new_id(result)

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

    def record_status(self, project_key: str, decision: StatusDecision) -> bool:
        """Append a status decision to the annotator's history; False if this decision (same
        annotator, rubric and ``decided_at``) is stored already."""
        with self._write("recording an annotator status") as connection:
            return _inserted(
                connection,
                upsert(
                    connection,
                    annotator_status,
                    key=["project_key", "rubric_id", "annotator", "decided_at"],
                ),
                {
                    "project_key": project_key,
                    "rubric_id": decision.rubric_id,
                    "annotator": decision.annotator,
                    "status": decision.status,
                    "evidence": dict(decision.evidence),
                    "decided_at": decision.decided_at,
                },
            )

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

    # --- webhook events ---------------------------------------------------------------------

    def add_webhook_event(
        self,
        event_id: str,
        *,
        platform: str,
        payload: Mapping[str, Any],
        project_key: str | None = None,
        received_at: datetime | None = None,
    ) -> bool:
        """Store a received webhook event before it is acknowledged; False if an event with
        this id is stored already."""
        with self._write("storing a webhook event") as connection:
            return _inserted(
                connection,
                upsert(connection, webhook_events, key=["event_id"]),
                {
                    "event_id": event_id,
                    "platform": platform,
                    "project_key": project_key,
                    "received_at": utcnow() if received_at is None else received_at,
                    "payload": dict(payload),
                    "attempts": 0,
                },
            )

    def pending_webhook_events(
        self, limit: int = 100, *, max_attempts: int | None = None
    ) -> list[WebhookEvent]:
        """Events not processed yet, oldest first (with fewer than ``max_attempts`` failed
        attempts, if given)."""
        w = webhook_events
        query = (
            select(w)
            .where(w.c.processed_at.is_(None))
            .order_by(w.c.received_at, w.c.id)
            .limit(limit)
        )
        if max_attempts is not None:
            query = query.where(w.c.attempts < max_attempts)
        with self._read("reading webhook events") as connection:
            found = connection.execute(query).all()
        return [
            WebhookEvent(
                event_id=row.event_id,
                platform=row.platform,
                project_key=row.project_key,
                received_at=row.received_at,
                payload=row.payload,
                processed_at=row.processed_at,
                attempts=row.attempts,
                error=row.error,
            )
            for row in found
        ]

    def mark_event_processed(
        self, event_id: str, *, error: str | None = None, at: datetime | None = None
    ) -> None:
        """Count an attempt at an event: processed if ``error`` is None, else left pending with
        the error. An event processed already stays processed.

        Raises:
            StoreError: no event has that id.
        """
        operation = "marking a webhook event processed"
        w = webhook_events
        with self._write(operation) as connection:
            result = connection.execute(
                update(w)
                .where(w.c.event_id == event_id)
                .values(
                    attempts=w.c.attempts + 1,
                    error=error,
                    processed_at=w.c.processed_at
                    if error
                    else func.coalesce(w.c.processed_at, _moment(at)),
                )
            )
            if result.rowcount != 1:
                raise StoreError(f"no webhook event {event_id!r}", operation=operation)


# --- engine -----------------------------------------------------------------------------------


def _moment(at: datetime | None) -> BindParameter[datetime]:
    """``at`` (default: now) as a bound UTC timestamp, for use inside SQL expressions."""
    return literal(utcnow() if at is None else at, type_=UTCDateTime())


def _sqlite_engine(url: URL) -> Engine:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's "begin" event, not the driver, open transactions (see _begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")  # first: WAL waits
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _inserted(connection: Connection, statement: Insert, params: Mapping[str, Any]) -> bool:
    """Run a one-row ``INSERT … ON CONFLICT DO NOTHING``; True if the row was inserted.

    Asks with ``RETURNING`` (SQLite 3.35+, PostgreSQL): with a serial key, psycopg reports no
    ``rowcount`` for the implicit ``RETURNING`` SQLAlchemy adds.
    """
    key = next(iter(statement.table.primary_key))
    returning = statement.returning(key)
    return connection.execute(returning, dict(params)).first() is not None


def _new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    if key is None:
        raise StoreError("the database returned no id for the new row")
    return int(key[0])


# --- row conversion ---------------------------------------------------------------------------

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


def _replaces(statement: Insert) -> ColumnElement[bool]:
    """The incoming judgment replaces the stored one: newer, or as new with another value."""
    incoming = statement.excluded.platform_updated_at
    stored = judgments.c.platform_updated_at
    newer = or_(and_(stored.is_(None), incoming.is_not(None)), incoming > stored)
    same_time = or_(and_(stored.is_(None), incoming.is_(None)), incoming == stored)
    return or_(newer, and_(same_time, statement.excluded.value != judgments.c.value))


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


def _canonical_record(row: _Row, lengths: dict[str, tuple[object, object]]) -> tuple[object, ...]:
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


def _batch(row: _Row) -> Batch:
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


def _sync_run(row: _Row) -> SyncRun:
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


def _canonical_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """The canonical dtypes of :func:`connector.judgments.normalise`, without its row-by-row
    validation: the store only holds rows that were validated when they were written."""
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True).astype(
        "datetime64[ns, UTC]"
    )
    for column in ("lead_time_s", "length_a", "length_b"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in ("item_id", "annotator", "dimension", "value", "category", "rubric_version",
                   "batch", "display_left", "gold_value"):  # fmt: skip
        values = frame[column].astype(object)
        frame[column] = values.where(values.notna(), None)
    return frame
