"""Adjudication and rulings: the queue of items sent to an adjudication project (each item and
dimension once), and the rulings pulled back from it or recorded from a calibration session,
with who ruled, when and why.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "adjudication_queue",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_key", sa.String(length=255), nullable=False),
        sa.Column("item_key", sa.String(length=255), nullable=False),
        sa.Column("dimension", sa.String(length=255), nullable=False),
        sa.Column("task_key", sa.String(length=255), nullable=False),
        sa.Column("platform_task_id", sa.String(length=255), nullable=True),
        sa.Column("agreement", sa.Float(), nullable=True),
        sa.Column("n_judgments", sa.Integer(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adjudication_queue")),
        sa.UniqueConstraint(
            "project_key",
            "item_key",
            "dimension",
            name=op.f("uq_adjudication_queue_project_key_item_key_dimension"),
        ),
        sa.UniqueConstraint(
            "project_key", "task_key", name=op.f("uq_adjudication_queue_project_key_task_key")
        ),
    )
    op.create_table(
        "rulings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_key", sa.String(length=255), nullable=False),
        sa.Column("item_key", sa.String(length=255), nullable=False),
        sa.Column("dimension", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("ruled_by", sa.String(length=255), nullable=False),
        sa.Column("ruled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_ref", sa.String(length=255), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "source IN ('adjudication', 'calibration')", name=op.f("ck_rulings_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rulings")),
        sa.UniqueConstraint(
            "project_key",
            "source",
            "source_ref",
            "item_key",
            "dimension",
            name=op.f("uq_rulings_project_key_source_source_ref_item_key_dimension"),
        ),
    )
    op.create_index(
        op.f("ix_rulings_project_key_item_key"),
        "rulings",
        ["project_key", "item_key"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rulings_project_key_item_key"), table_name="rulings")
    op.drop_table("rulings")
    op.drop_table("adjudication_queue")
