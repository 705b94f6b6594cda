"""The store's tables (SQLAlchemy Core), the shape that migration ``0001_initial`` creates.

Every table that holds platform data is scoped by ``project_key`` (a platform-qualified project
name chosen by the adapter, e.g. ``"label-studio:12"``). Natural keys are unique constraints, so
every write can be an idempotent upsert::

    rubric_versions   content_hash                        one row per rubric version
    items             (project_key, item_key)             the things judged
    platform_tasks    (project_key, platform_task_id)     platform task → item (and batch)
    judgments         (project_key, platform_annotation_id, dimension)
    quarantine        (project_key, platform_annotation_id, reason)
    gold_answers      (project_key, item_key, dimension)   with who set it (set_by)
    gold_changes      fingerprint                         every gold change, accepted or refused
    gold_releases     (project_key, rubric_id, annotator) per-annotator gold figures reports show
    installation      name                                this installation's secrets
    alert_outbox      (project_key, outbox_key)           alerts recorded with their decision
    batches           batch_id                            the idempotency key of a push
    batch_items       (batch_id, position)
    sync_cursors      (platform, project_key)
    sync_runs         id                                  counters of one sync run
    reports           id
    annotator_status  id; (project_key, rubric_id, annotator, decided_at) unique (history)
    webhook_events    event_id
    adjudication_queue (project_key, item_key, dimension) an item queued for a ruling, once
    rulings           (project_key, source, source_ref, item_key, dimension)  who ruled, when, why
    rubric_promotions (project_key, rubric_hash)          a rubric version let into production
    reannotations     (project_key, round, item_key)  an item pushed again for more judgments

Timestamps are :class:`~connector.store.columns.UTCDateTime`; judgment and gold values are
:class:`~connector.store.columns.JSONValue` (comparable text), blobs
:data:`~connector.store.columns.JSONDocument`.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from connector.store.columns import JSONDocument, JSONValue, UTCDateTime

__all__ = [
    "ANNOTATOR_STATUSES",
    "BATCH_STATUSES",
    "DISPLAY_SIDES",
    "GOLD_SOURCES",
    "RULING_SOURCES",
    "TASK_KINDS",
    "adjudication_queue",
    "alert_outbox",
    "annotator_status",
    "batch_items",
    "batches",
    "gold_answers",
    "gold_changes",
    "gold_releases",
    "installation",
    "items",
    "judgments",
    "metadata",
    "platform_tasks",
    "quarantine",
    "reannotations",
    "reports",
    "rubric_promotions",
    "rubric_versions",
    "rulings",
    "sync_cursors",
    "sync_runs",
    "webhook_events",
]

TASK_KINDS: tuple[str, ...] = ("production", "gold", "retest", "contentious", "validation")
DISPLAY_SIDES: tuple[str, ...] = ("a", "b")
GOLD_SOURCES: tuple[str, ...] = ("file", "platform_ground_truth", "adjudicated")
BATCH_STATUSES: tuple[str, ...] = ("planned", "pushed")
ANNOTATOR_STATUSES: tuple[str, ...] = (
    "candidate",
    "qualified",
    "probation",
    "retraining",
    "suspended",
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Lengths keep keys indexable everywhere (PostgreSQL does not need them; they document intent).
_KEY = 255
_HASH = 80


def _one_of(column: str, values: tuple[str, ...], name: str, *, nullable: bool) -> CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    condition = f"{column} IN ({listed})"
    if nullable:
        condition = f"{column} IS NULL OR {condition}"
    return CheckConstraint(condition, name=name)


rubric_versions = Table(
    "rubric_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rubric_id", String(_KEY), nullable=False),
    Column("version", String(_KEY), nullable=False),
    Column("content_hash", String(_HASH), nullable=False),
    Column("canonical_json", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("content_hash"),
    UniqueConstraint("rubric_id", "version"),
)

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_key", String(_KEY), nullable=False),
    Column("item_key", String(_KEY), nullable=False),
    Column("category", String(_KEY)),
    Column("payload", JSONDocument),
    Column("response_lengths", JSONDocument),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("project_key", "item_key"),
)

platform_tasks = Table(
    "platform_tasks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_key", String(_KEY), nullable=False),
    Column("platform_task_id", String(_KEY), nullable=False),
    Column("item_key", String(_KEY), nullable=False),
    Column("batch_id", String(_KEY)),
    Column("kind", String(16), nullable=False),
    Column("display_left", String(1)),
    Column("rubric_hash", String(_HASH)),
    Column("created_at", UTCDateTime, nullable=False),
    # the per-task agreement (per dimension) last written back to the platform, so only
    # changes are written
    Column("written_agreements", JSONDocument),
    Column("written_at", UTCDateTime),
    UniqueConstraint("project_key", "platform_task_id"),
    _one_of("kind", TASK_KINDS, "kind", nullable=False),
    _one_of("display_left", DISPLAY_SIDES, "display_left", nullable=True),
    Index(None, "project_key", "item_key"),
)

judgments = Table(
    "judgments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_key", String(_KEY), nullable=False),
    Column("platform_annotation_id", String(_KEY), nullable=False),
    Column("dimension", String(_KEY), nullable=False),
    Column("item_key", String(_KEY), nullable=False),
    Column("platform_task_id", String(_KEY)),
    Column("annotator", String(_KEY), nullable=False),
    Column("value", JSONValue, nullable=False),
    Column("rubric_hash", String(_HASH)),
    Column("submitted_at", UTCDateTime),
    Column("platform_updated_at", UTCDateTime),
    Column("lead_time_s", Float),
    Column("display_left", String(1)),
    Column("is_retest", Boolean(create_constraint=False), nullable=False),
    Column("deleted_at", UTCDateTime),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("project_key", "platform_annotation_id", "dimension"),
    _one_of("display_left", DISPLAY_SIDES, "display_left", nullable=True),
    Index(None, "project_key", "item_key"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_key", String(_KEY), nullable=False),
    Column("platform_task_id", String(_KEY)),
    Column("platform_annotation_id", String(_KEY), nullable=False),
    Column("reason", String(1000), nullable=False),
    Column("raw", JSONDocument),
    Column("first_seen_at", UTCDateTime, nullable=False),
    UniqueConstraint("project_key", "platform_annotation_id", "reason"),
)

gold_answers = Table(
    "gold_answers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_key", String(_KEY), nullable=False),
    Column("item_key", String(_KEY), nullable=False),
    Column("dimension", String(_KEY), nullable=False),
    Column("value", JSONValue, nullable=False),
    Column("source", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("set_by", String(_KEY)),
    UniqueConstraint("project_key", "item_key", "dimension"),
    _one_of("source", GOLD_SOURCES, "source", nullable=False),
)

gold_changes = Table(
    "gold_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("fingerprint", String(_HASH), nullable=False),
    Column("project_key", String(_KEY), nullable=False),
    Column("item_key", String(_KEY), nullable=False),
    Column("dimension", String(_KEY), nullable=False),
    Column("old_value", JSONValue),
    Column("new_value", JSONValue, nullable=False),
    Column("source", String(32), nullable=False),
    Column("set_by", String(_KEY), nullable=False),
    Column("platform_annotation_id", String(_KEY)),
    Column("accepted", Boolean, nullable=False),
    Column("reason", String(1000), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    UniqueConstraint("fingerprint"),
    Index(None, "project_key", "at"),
    _one_of("source", GOLD_SOURCES, "source", nullable=False),
)

gold_releases = Table(
    "gold_releases",
    metadata,
    Column("project_key", String(_KEY), primary_key=True),
    Column("rubric_id", String(_KEY), primary_key=True),
    Column("annotator", String(_KEY), primary_key=True),
    Column("released_at", UTCDateTime, nullable=False),
    Column("gold_judgments", Integer, nullable=False),
    Column("figures", JSONDocument, nullable=False),
)

installation = Table(
    "installation",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

batches = Table(
    "batches",
    metadata,
    Column("batch_id", String(_KEY), primary_key=True),
    Column("project_key", String(_KEY), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("rubric_hash", String(_HASH), nullable=False),
    Column("status", String(16), nullable=False),
    Column("n_tasks", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("pushed_at", UTCDateTime),
    _one_of("kind", TASK_KINDS, "kind", nullable=False),
    _one_of("status", BATCH_STATUSES, "status", nullable=False),
    Index(None, "project_key"),
)

batch_items = Table(
    "batch_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", String(_KEY), nullable=False),
    Column("position", Integer, nullable=False),
    Column("item_key", String(_KEY), nullable=False),
    Column("role", String(16), nullable=False),
    Column("payload_hash", String(_HASH), nullable=False),
    Column("platform_task_id", String(_KEY)),
    Column("task_created_at", UTCDateTime),
    UniqueConstraint("batch_id", "position"),
    ForeignKeyConstraint(["batch_id"], ["batches.batch_id"], ondelete="CASCADE"),
    _one_of("role", TASK_KINDS, "role", nullable=False),
)

sync_cursors = Table(
    "sync_cursors",
    metadata,
    Column("platform", String(64), primary_key=True),
    Column("project_key", String(_KEY), primary_key=True),
    Column("cursor", Text),
    Column("last_full_reconcile_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform", String(64), nullable=False),
    Column("project_key", String(_KEY), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("pulled", Integer, nullable=False),
    Column("created", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("deleted", Integer, nullable=False),
    Column("skipped", Integer, nullable=False),
    Column("quarantined", Integer, nullable=False),
    Column("error", Text),
    Index(None, "project_key", "started_at"),
)

reports = Table(
    "reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_key", String(_KEY), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("rubric_hash", String(_HASH)),
    Column("body", JSONDocument, nullable=False),
    Column("html_path", Text),
    Index(None, "project_key", "created_at"),
)

annotator_status = Table(
    "annotator_status",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_key", String(_KEY), nullable=False),
    Column("rubric_id", String(_KEY), nullable=False),
    Column("annotator", String(_KEY), nullable=False),
    Column("status", String(16), nullable=False),
    Column("evidence", JSONDocument),
    Column("decided_at", UTCDateTime, nullable=False),
    UniqueConstraint("project_key", "rubric_id", "annotator", "decided_at"),
    _one_of("status", ANNOTATOR_STATUSES, "status", nullable=False),
)

webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(_KEY), nullable=False),
    Column("platform", String(64), nullable=False),
    Column("project_key", String(_KEY)),
    Column("received_at", UTCDateTime, nullable=False),
    Column("payload", JSONDocument, nullable=False),
    Column("processed_at", UTCDateTime),
    Column("attempts", Integer, nullable=False),
    Column("error", Text),
    UniqueConstraint("event_id"),
    Index(None, "processed_at", "received_at"),
)

alert_outbox = Table(
    "alert_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_key", String(_KEY), nullable=False),
    Column("outbox_key", String(_KEY * 2), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("fields", JSONDocument, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    UniqueConstraint("project_key", "outbox_key"),
    Index(None, "project_key", "delivered_at"),
)

# --- adjudication and rulings (migration 0004) ----------------------------------------------

RULING_SOURCES: tuple[str, ...] = ("adjudication", "calibration")

adjudication_queue = Table(
    "adjudication_queue",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_key", String(_KEY), nullable=False),
    Column("item_key", String(_KEY), nullable=False),
    Column("dimension", String(_KEY), nullable=False),
    Column("task_key", String(_KEY), nullable=False),
    Column("platform_task_id", String(_KEY)),
    Column("agreement", Float),
    Column("n_judgments", Integer, nullable=False),
    Column("queued_at", UTCDateTime, nullable=False),
    UniqueConstraint("project_key", "item_key", "dimension"),
    UniqueConstraint("project_key", "task_key"),
)

rulings = Table(
    "rulings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_key", String(_KEY), nullable=False),
    Column("item_key", String(_KEY), nullable=False),
    Column("dimension", String(_KEY), nullable=False),
    Column("value", JSONValue, nullable=False),
    Column("reason", Text, nullable=False),
    Column("ruled_by", String(_KEY), nullable=False),
    Column("ruled_at", UTCDateTime, nullable=False),
    Column("source", String(16), nullable=False),
    # the adjudication task's annotation (or response) id, or the calibration session id
    Column("source_ref", String(_KEY), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    UniqueConstraint("project_key", "source", "source_ref", "item_key", "dimension"),
    Index(None, "project_key", "item_key"),
    _one_of("source", RULING_SOURCES, "source", nullable=False),
)

# --- rubric promotions (migration 0003) ----------------------------------------------------

rubric_promotions = Table(
    "rubric_promotions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_key", String(_KEY), nullable=False),
    Column("rubric_hash", String(_HASH), nullable=False),
    Column("rubric_id", String(_KEY), nullable=False),
    Column("version", String(_KEY), nullable=False),
    Column("promoted_by", String(_KEY), nullable=False),
    Column("promoted_at", UTCDateTime, nullable=False),
    # the gate report the promotion rests on (connector.calibration.gate.GateReport.as_json)
    Column("evidence", JSONDocument, nullable=False),
    UniqueConstraint("project_key", "rubric_hash"),
)

# --- re-annotation of low-agreement items (migration 0005) ------------------------------------

reannotations = Table(
    "reannotations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_key", String(_KEY), nullable=False),
    Column("round", Integer, nullable=False),
    Column("item_key", String(_KEY), nullable=False),
    # the calibration batch that holds the item's new task copy
    Column("batch_id", String(_KEY), nullable=False),
    # per low dimension, the item's agreement when it was chosen
    Column("agreements", JSONDocument, nullable=False),
    Column("n_judgments", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("project_key", "round", "item_key"),
    Index(None, "project_key", "item_key"),
)
