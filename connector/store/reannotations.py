"""Re-annotation rounds: which low-agreement items were pushed again, when, in which batch, and
their agreement when they were chosen (:mod:`connector.calibration.reannotation`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from connector.store.base import StoreBase, inserted
from connector.store.bulk import upsert
from connector.store.columns import utcnow
from connector.store.schema import reannotations

__all__ = ["ReannotationRow", "ReannotationStore"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReannotationRow:
    """One item pushed again in one round.

    Attributes:
        agreements: per dimension below the threshold, the item's agreement when chosen.
        n_judgments: the item's judgments (first ones per annotator, most over its dimensions)
            when chosen.
    """

    round: int
    item_key: str
    batch_id: str
    agreements: Mapping[str, float]
    n_judgments: int
    created_at: datetime | None = field(default=None, compare=False)


class ReannotationStore(StoreBase):
    """Re-annotation rounds of a project."""

    def record_reannotations(self, project_key: str, rows: Sequence[ReannotationRow]) -> int:
        """Record items of a round (each ``(round, item)`` once); return how many were new."""
        if not rows:
            return 0
        now = utcnow()
        new = 0
        with self._write("recording re-annotations") as connection:
            statement = upsert(connection, reannotations, key=["project_key", "round", "item_key"])
            for row in rows:
                new += inserted(
                    connection,
                    statement,
                    {
                        "project_key": project_key,
                        "round": row.round,
                        "item_key": row.item_key,
                        "batch_id": row.batch_id,
                        "agreements": dict(row.agreements),
                        "n_judgments": row.n_judgments,
                        "created_at": now,
                    },
                )
        return new

    def reannotations(self, project_key: str) -> list[ReannotationRow]:
        """Every re-annotated item of the project, by round then item."""
        r = reannotations
        with self._read("reading re-annotations") as connection:
            found = connection.execute(
                select(r).where(r.c.project_key == project_key).order_by(r.c.round, r.c.item_key)
            ).all()
        return [
            ReannotationRow(
                round=row.round,
                item_key=row.item_key,
                batch_id=row.batch_id,
                agreements=row.agreements,
                n_judgments=row.n_judgments,
                created_at=row.created_at,
            )
            for row in found
        ]
