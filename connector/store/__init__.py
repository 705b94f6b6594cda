"""Persistence of the connector: judgments, items, tasks, gold, batches, cursors, reports.

Open a store with :meth:`Store.open` (``sqlite:///path/iaa.db`` by default, PostgreSQL with
``postgresql+psycopg://…``); it migrates the schema with the Alembic revisions shipped in
``connector/store/migrations``. Every write is idempotent, so a crash at any point resumes
cleanly and pulling the same annotation twice changes nothing.

Errors (see :mod:`connector.store.errors`)::

    ConnectorError
    ├── StoreError      the database refused or failed an operation (also a RuntimeError)
    └── StoreRowError   a row given to the store is invalid (also a ValueError)
"""

from __future__ import annotations

from connector.store.bulk import upsert
from connector.store.errors import StoreError, StoreRowError
from connector.store.promotions import RubricPromotion, StoredRubric
from connector.store.reannotations import ReannotationRow
from connector.store.rows import (
    ApplyCounts,
    Batch,
    BatchItem,
    BatchItemPlan,
    GoldAnswer,
    GoldChangeRow,
    GoldRelease,
    ItemRow,
    JudgmentRow,
    OutboxAlert,
    QuarantineRow,
    RunCounts,
    StatusDecision,
    StoredReport,
    SyncCursor,
    SyncRun,
    TaskMapping,
    WebhookEvent,
)
from connector.store.rulings import QueuedItem, Ruling
from connector.store.schema import (
    ANNOTATOR_STATUSES,
    BATCH_STATUSES,
    DISPLAY_SIDES,
    GOLD_SOURCES,
    TASK_KINDS,
)
from connector.store.store import Store

__all__ = [
    "ANNOTATOR_STATUSES",
    "BATCH_STATUSES",
    "DISPLAY_SIDES",
    "GOLD_SOURCES",
    "TASK_KINDS",
    "ApplyCounts",
    "Batch",
    "BatchItem",
    "BatchItemPlan",
    "GoldAnswer",
    "GoldChangeRow",
    "GoldRelease",
    "ItemRow",
    "JudgmentRow",
    "OutboxAlert",
    "QuarantineRow",
    "QueuedItem",
    "ReannotationRow",
    "RubricPromotion",
    "Ruling",
    "RunCounts",
    "StatusDecision",
    "Store",
    "StoreError",
    "StoreRowError",
    "StoredReport",
    "StoredRubric",
    "SyncCursor",
    "SyncRun",
    "TaskMapping",
    "WebhookEvent",
    "upsert",
]
