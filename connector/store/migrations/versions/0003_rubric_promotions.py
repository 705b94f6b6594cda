"""Rubric promotions: a rubric version let into production for a project by its validation gate
(who, when, and the gate report as evidence).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "rubric_promotions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_key", sa.String(length=255), nullable=False),
        sa.Column("rubric_hash", sa.String(length=80), nullable=False),
        sa.Column("rubric_id", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("promoted_by", sa.String(length=255), nullable=False),
        sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("evidence", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rubric_promotions")),
        sa.UniqueConstraint(
            "project_key",
            "rubric_hash",
            name=op.f("uq_rubric_promotions_project_key_rubric_hash"),
        ),
    )


def downgrade() -> None:
    op.drop_table("rubric_promotions")
