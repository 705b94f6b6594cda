"""Gold provenance and secrecy: who set each gold answer, the log of gold changes (accepted and
refused), the per-annotator gold figures reports may show, this installation's secrets; the
alert outbox (alerts stored with the decision that raised them, delivered after); and per-task
agreement written per dimension (``written_agreements`` replaces the one-figure column).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_SOURCES = "source IN ('file', 'platform_ground_truth', 'adjudicated')"


def upgrade() -> None:
    with op.batch_alter_table("gold_answers") as batch:
        batch.add_column(sa.Column("set_by", sa.String(length=255), nullable=True))
    with op.batch_alter_table("platform_tasks") as batch:
        # the old figure was of the first dimension only: every task is written again once
        batch.drop_column("written_agreement")
        batch.add_column(sa.Column("written_agreements", _JSON, nullable=True))
    op.create_table(
        "gold_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("fingerprint", sa.String(length=80), nullable=False),
        sa.Column("project_key", sa.String(length=255), nullable=False),
        sa.Column("item_key", sa.String(length=255), nullable=False),
        sa.Column("dimension", sa.String(length=255), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("set_by", sa.String(length=255), nullable=False),
        sa.Column("platform_annotation_id", sa.String(length=255), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_SOURCES, name=op.f("ck_gold_changes_source")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gold_changes")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_gold_changes_fingerprint")),
    )
    op.create_index(
        op.f("ix_gold_changes_project_key_at"), "gold_changes", ["project_key", "at"], unique=False
    )
    op.create_table(
        "gold_releases",
        sa.Column("project_key", sa.String(length=255), nullable=False),
        sa.Column("rubric_id", sa.String(length=255), nullable=False),
        sa.Column("annotator", sa.String(length=255), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("gold_judgments", sa.Integer(), nullable=False),
        sa.Column("figures", _JSON, nullable=False),
        sa.PrimaryKeyConstraint(
            "project_key", "rubric_id", "annotator", name=op.f("pk_gold_releases")
        ),
    )
    op.create_table(
        "installation",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_installation")),
    )

    op.create_table(
        "alert_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_key", sa.String(length=255), nullable=False),
        sa.Column("outbox_key", sa.String(length=510), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("fields", _JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_outbox")),
        sa.UniqueConstraint(
            "project_key", "outbox_key", name=op.f("uq_alert_outbox_project_key_outbox_key")
        ),
    )
    op.create_index(
        op.f("ix_alert_outbox_project_key_delivered_at"),
        "alert_outbox",
        ["project_key", "delivered_at"],
        unique=False,
    )


def downgrade() -> None:
    with op.batch_alter_table("platform_tasks") as batch:
        batch.drop_column("written_agreements")
        batch.add_column(sa.Column("written_agreement", sa.Float(), nullable=True))
    op.drop_index(op.f("ix_alert_outbox_project_key_delivered_at"), table_name="alert_outbox")
    op.drop_table("alert_outbox")
    op.drop_table("installation")
    op.drop_table("gold_releases")
    op.drop_index(op.f("ix_gold_changes_project_key_at"), table_name="gold_changes")
    op.drop_table("gold_changes")
    with op.batch_alter_table("gold_answers") as batch:
        batch.drop_column("set_by")
