"""Re-annotation of low-agreement items: each item pushed again for more judgments, per round,
with the calibration batch that holds its new task and its agreement when it was chosen.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "reannotations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_key", sa.String(length=255), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("item_key", sa.String(length=255), nullable=False),
        sa.Column("batch_id", sa.String(length=255), nullable=False),
        sa.Column("agreements", _JSON, nullable=False),
        sa.Column("n_judgments", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reannotations")),
        sa.UniqueConstraint(
            "project_key",
            "round",
            "item_key",
            name=op.f("uq_reannotations_project_key_round_item_key"),
        ),
    )
    op.create_index(
        op.f("ix_reannotations_project_key_item_key"),
        "reannotations",
        ["project_key", "item_key"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_reannotations_project_key_item_key"), table_name="reannotations")
    op.drop_table("reannotations")
