"""The initial schema: every table of :mod:`connector.store.schema`.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Written out in full (not imported from the schema module) so that this revision keeps creating
the same tables when the schema module moves on; ``tests/test_store.py`` checks that the
migrated database matches the schema module.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "annotator_status",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_key", sa.String(length=255), nullable=False),
        sa.Column("rubric_id", sa.String(length=255), nullable=False),
        sa.Column("annotator", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("evidence", _JSON, nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('candidate', 'qualified', 'probation', 'retraining', 'suspended')",
            name=op.f("ck_annotator_status_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotator_status")),
        sa.UniqueConstraint(
            "project_key",
            "rubric_id",
            "annotator",
            "decided_at",
            name=op.f("uq_annotator_status_project_key_rubric_id_annotator_decided_at"),
        ),
    )
    op.create_table(
        "batches",
        sa.Column("batch_id", sa.String(length=255), nullable=False),
        sa.Column("project_key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("rubric_hash", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("n_tasks", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('production', 'gold', 'retest', 'contentious', 'validation')",
            name=op.f("ck_batches_kind"),
        ),
        sa.CheckConstraint("status IN ('planned', 'pushed')", name=op.f("ck_batches_status")),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_batches")),
    )
    op.create_index(op.f("ix_batches_project_key"), "batches", ["project_key"], unique=False)
    op.create_table(
        "gold_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_key", sa.String(length=255), nullable=False),
        sa.Column("item_key", sa.String(length=255), nullable=False),
        sa.Column("dimension", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "source IN ('file', 'platform_ground_truth', 'adjudicated')",
            name=op.f("ck_gold_answers_source"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gold_answers")),
        sa.UniqueConstraint(
            "project_key",
            "item_key",
            "dimension",
            name=op.f("uq_gold_answers_project_key_item_key_dimension"),
        ),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_key", sa.String(length=255), nullable=False),
        sa.Column("item_key", sa.String(length=255), nullable=False),
        sa.Column("category", sa.String(length=255), nullable=True),
        sa.Column("payload", _JSON, nullable=True),
        sa.Column("response_lengths", _JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_items")),
        sa.UniqueConstraint("project_key", "item_key", name=op.f("uq_items_project_key_item_key")),
    )
    op.create_table(
        "judgments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_key", sa.String(length=255), nullable=False),
        sa.Column("platform_annotation_id", sa.String(length=255), nullable=False),
        sa.Column("dimension", sa.String(length=255), nullable=False),
        sa.Column("item_key", sa.String(length=255), nullable=False),
        sa.Column("platform_task_id", sa.String(length=255), nullable=True),
        sa.Column("annotator", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("rubric_hash", sa.String(length=80), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("platform_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lead_time_s", sa.Float(), nullable=True),
        sa.Column("display_left", sa.String(length=1), nullable=True),
        sa.Column("is_retest", sa.Boolean(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "display_left IS NULL OR display_left IN ('a', 'b')",
            name=op.f("ck_judgments_display_left"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_judgments")),
        sa.UniqueConstraint(
            "project_key",
            "platform_annotation_id",
            "dimension",
            name=op.f("uq_judgments_project_key_platform_annotation_id_dimension"),
        ),
    )
    op.create_index(
        op.f("ix_judgments_project_key_item_key"),
        "judgments",
        ["project_key", "item_key"],
        unique=False,
    )
    op.create_table(
        "platform_tasks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_key", sa.String(length=255), nullable=False),
        sa.Column("platform_task_id", sa.String(length=255), nullable=False),
        sa.Column("item_key", sa.String(length=255), nullable=False),
        sa.Column("batch_id", sa.String(length=255), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("display_left", sa.String(length=1), nullable=True),
        sa.Column("rubric_hash", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("written_agreement", sa.Float(), nullable=True),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "display_left IS NULL OR display_left IN ('a', 'b')",
            name=op.f("ck_platform_tasks_display_left"),
        ),
        sa.CheckConstraint(
            "kind IN ('production', 'gold', 'retest', 'contentious', 'validation')",
            name=op.f("ck_platform_tasks_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_tasks")),
        sa.UniqueConstraint(
            "project_key",
            "platform_task_id",
            name=op.f("uq_platform_tasks_project_key_platform_task_id"),
        ),
    )
    op.create_index(
        op.f("ix_platform_tasks_project_key_item_key"),
        "platform_tasks",
        ["project_key", "item_key"],
        unique=False,
    )
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_key", sa.String(length=255), nullable=False),
        sa.Column("platform_task_id", sa.String(length=255), nullable=True),
        sa.Column("platform_annotation_id", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("raw", _JSON, nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
        sa.UniqueConstraint(
            "project_key",
            "platform_annotation_id",
            "reason",
            name=op.f("uq_quarantine_project_key_platform_annotation_id_reason"),
        ),
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_key", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rubric_hash", sa.String(length=80), nullable=True),
        sa.Column("body", _JSON, nullable=False),
        sa.Column("html_path", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
    )
    op.create_index(
        op.f("ix_reports_project_key_created_at"),
        "reports",
        ["project_key", "created_at"],
        unique=False,
    )
    op.create_table(
        "rubric_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rubric_id", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("content_hash", sa.String(length=80), nullable=False),
        sa.Column("canonical_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rubric_versions")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_rubric_versions_content_hash")),
        sa.UniqueConstraint(
            "rubric_id", "version", name=op.f("uq_rubric_versions_rubric_id_version")
        ),
    )
    op.create_table(
        "sync_cursors",
        sa.Column("platform", sa.String(length=64), nullable=False),
        sa.Column("project_key", sa.String(length=255), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("last_full_reconcile_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "project_key", name=op.f("pk_sync_cursors")),
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(length=64), nullable=False),
        sa.Column("project_key", sa.String(length=255), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pulled", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    op.create_index(
        op.f("ix_sync_runs_project_key_started_at"),
        "sync_runs",
        ["project_key", "started_at"],
        unique=False,
    )
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("platform", sa.String(length=64), nullable=False),
        sa.Column("project_key", sa.String(length=255), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", _JSON, nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_webhook_events_event_id")),
    )
    op.create_index(
        op.f("ix_webhook_events_processed_at_received_at"),
        "webhook_events",
        ["processed_at", "received_at"],
        unique=False,
    )
    op.create_table(
        "batch_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item_key", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("payload_hash", sa.String(length=80), nullable=False),
        sa.Column("platform_task_id", sa.String(length=255), nullable=True),
        sa.Column("task_created_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('production', 'gold', 'retest', 'contentious', 'validation')",
            name=op.f("ck_batch_items_role"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batches.batch_id"],
            name=op.f("fk_batch_items_batch_id_batches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_items")),
        sa.UniqueConstraint("batch_id", "position", name=op.f("uq_batch_items_batch_id_position")),
    )


def downgrade() -> None:
    op.drop_table("batch_items")
    op.drop_table("webhook_events")
    op.drop_table("sync_runs")
    op.drop_table("sync_cursors")
    op.drop_table("rubric_versions")
    op.drop_table("reports")
    op.drop_table("quarantine")
    op.drop_table("platform_tasks")
    op.drop_table("judgments")
    op.drop_table("items")
    op.drop_table("gold_answers")
    op.drop_table("batches")
    op.drop_table("annotator_status")
