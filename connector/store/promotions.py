"""Rubric versions a project uses and the promotions its validation gate granted.

A promotion lets a rubric version into production for one project; it is stored once, with who
promoted it, when, and the gate report it rests on (:mod:`connector.calibration.gate` decides;
this module only keeps the record). The reads here are what the gate needs from the store: the
stored rubric versions (canonical JSON), the project's batches, the versions its judgments were
synced under, promotions.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from connector.store.base import AnyRow, StoreBase, inserted
from connector.store.batches import _batch
from connector.store.bulk import upsert
from connector.store.columns import as_utc
from connector.store.rows import Batch
from connector.store.schema import batches, judgments, rubric_promotions, rubric_versions

__all__ = ["PromotionStore", "RubricPromotion", "StoredRubric"]


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredRubric:
    """A rubric version as the store keeps it (first saved at ``created_at``)."""

    rubric_id: str
    version: str
    content_hash: str
    canonical_json: str
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class RubricPromotion:
    """A rubric version promoted to production for a project, with its evidence (the gate
    report as JSON)."""

    project_key: str
    rubric_hash: str
    rubric_id: str
    version: str
    promoted_by: str
    promoted_at: datetime
    evidence: Mapping[str, Any]


class PromotionStore(StoreBase):
    """Stored rubric versions, a project's batches, rubric promotions."""

    def stored_rubrics(self, rubric_id: str) -> list[StoredRubric]:
        """Every stored version of rubric ``rubric_id``, oldest first."""
        r = rubric_versions
        with self._read("reading rubric versions") as connection:
            found = connection.execute(
                select(r).where(r.c.rubric_id == rubric_id).order_by(r.c.created_at, r.c.id)
            ).all()
        return [_stored_rubric(row) for row in found]

    def project_batches(self, project_key: str) -> list[Batch]:
        """The project's calibration batches, oldest first."""
        with self._read("reading batches") as connection:
            found = connection.execute(
                select(batches)
                .where(batches.c.project_key == project_key)
                .order_by(batches.c.created_at, batches.c.batch_id)
            ).all()
        return [_batch(row) for row in found]

    def rubrics_by_hash(self, content_hashes: Collection[str]) -> list[StoredRubric]:
        """The stored rubric versions among ``content_hashes`` (any rubric id), oldest first;
        a hash the store does not keep is left out."""
        r = rubric_versions
        wanted = sorted(set(content_hashes))
        if not wanted:
            return []
        with self._read("reading rubric versions") as connection:
            found = connection.execute(
                select(r).where(r.c.content_hash.in_(wanted)).order_by(r.c.created_at, r.c.id)
            ).all()
        return [_stored_rubric(row) for row in found]

    def judged_rubric_hashes(self, project_key: str) -> set[str]:
        """The rubric versions (content hashes) the project's judgments were synced under."""
        with self._read("reading judged rubric versions") as connection:
            found = connection.execute(
                select(judgments.c.rubric_hash)
                .where(judgments.c.project_key == project_key, judgments.c.rubric_hash.is_not(None))
                .distinct()
            ).scalars()
            return set(found)

    def record_promotion(self, promotion: RubricPromotion) -> bool:
        """Store a promotion; False (and nothing changed) if the version is promoted already
        for the project (the first promotion is kept)."""
        with self._write("recording a rubric promotion") as connection:
            statement = upsert(connection, rubric_promotions, key=["project_key", "rubric_hash"])
            return inserted(
                connection,
                statement,
                {
                    "project_key": promotion.project_key,
                    "rubric_hash": promotion.rubric_hash,
                    "rubric_id": promotion.rubric_id,
                    "version": promotion.version,
                    "promoted_by": promotion.promoted_by,
                    "promoted_at": as_utc(promotion.promoted_at),
                    "evidence": dict(promotion.evidence),
                },
            )

    def promotions(self, project_key: str) -> list[RubricPromotion]:
        """The project's promotions, oldest first."""
        p = rubric_promotions
        with self._read("reading rubric promotions") as connection:
            found = connection.execute(
                select(p).where(p.c.project_key == project_key).order_by(p.c.promoted_at, p.c.id)
            ).all()
        return [
            RubricPromotion(
                project_key=row.project_key,
                rubric_hash=row.rubric_hash,
                rubric_id=row.rubric_id,
                version=row.version,
                promoted_by=row.promoted_by,
                promoted_at=row.promoted_at,
                evidence=row.evidence,
            )
            for row in found
        ]


def _stored_rubric(row: AnyRow) -> StoredRubric:
    return StoredRubric(
        rubric_id=row.rubric_id,
        version=row.version,
        content_hash=row.content_hash,
        canonical_json=row.canonical_json,
        created_at=row.created_at,
    )
