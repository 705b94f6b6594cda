"""The :class:`Store`: every read and write of the connector's database.

Each public method runs in one transaction and is idempotent: calling it again with the same
rows changes nothing (natural keys are unique constraints, writes are upserts). SQLAlchemy and
driver errors are translated once, in :mod:`connector.store.base`, into
:class:`~connector.store.errors.StoreError`. The methods live with their domain:
:mod:`~connector.store.judgments`, :mod:`~connector.store.items` (rubrics, items, tasks, gold),
:mod:`~connector.store.batches`, :mod:`~connector.store.runs` (cursors, runs, reports, statuses),
:mod:`~connector.store.events` (webhook events) and :mod:`~connector.store.outbox` (status
decisions with their alerts) and :mod:`~connector.store.promotions` (rubric promotions).

SQLite (the default, one file) gets write-ahead logging, foreign keys and a busy timeout on every
connection, and write transactions start with ``BEGIN IMMEDIATE`` so two writers queue instead of
failing. PostgreSQL serves several replicas; statements are portable, and the upserts pick the
dialect's ``INSERT … ON CONFLICT`` (see :func:`upsert`).
"""

from __future__ import annotations

from connector.store.base import SQLITE_BUSY_TIMEOUT_MS
from connector.store.batches import BatchStore
from connector.store.bulk import upsert
from connector.store.events import EventStore
from connector.store.items import ItemStore
from connector.store.judgments import JudgmentStore
from connector.store.outbox import OutboxStore
from connector.store.promotions import PromotionStore
from connector.store.reannotations import ReannotationStore
from connector.store.rulings import RulingStore
from connector.store.runs import RunStore

__all__ = ["SQLITE_BUSY_TIMEOUT_MS", "Store", "upsert"]


class Store(
    JudgmentStore,
    ItemStore,
    BatchStore,
    RunStore,
    EventStore,
    OutboxStore,
    RulingStore,
    PromotionStore,
    ReannotationStore,
):
    """The connector's database: SQLite file by default, PostgreSQL by URL.

    >>> store = Store.open("sqlite:///iaa.db")  # doctest: +SKIP
    >>> store.apply_judgments("label-studio:12", rows)  # doctest: +SKIP
    ApplyCounts(created=3, updated=0, unchanged=0)

    Use it as a context manager, or call :meth:`close`, to release its connections.
    """
