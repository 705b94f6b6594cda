"""Webhook events: durable intake before the answer, and their processing state."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from sqlalchemy import (
    PoolProxiedConnection,
    func,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError

from connector.store.base import StoreBase, moment
from connector.store.bulk import PreparedInsert, chunks, insert_each, prepare_insert, upsert
from connector.store.columns import utcnow
from connector.store.errors import StoreError
from connector.store.rows import (
    WebhookEvent,
)
from connector.store.schema import (
    webhook_events,
)

__all__ = ["EventStore", "NewWebhookEvent", "WebhookIntake"]

_INTAKE_KEYS = ("event_id", "platform", "project_key", "received_at", "payload", "attempts")


@dataclass(frozen=True, slots=True, kw_only=True)
class NewWebhookEvent:
    """A received webhook event to store (:meth:`EventStore.add_webhook_events`)."""

    event_id: str
    platform: str
    payload: Mapping[str, Any]
    project_key: str | None = None
    received_at: datetime | None = None  # None: when it is written


class WebhookIntake:
    """One database connection kept for storing webhook events, a transaction per :meth:`add`:
    the service's intake writer writes many small transactions a second, and a pool checkout,
    SQLAlchemy's transaction events and a statement compilation each cost more than the rows.

    For one thread at a time; :meth:`close` hands the connection back. After a failure the
    connection is dropped and the next :meth:`add` opens another; if the kept connection turns
    out dead (the database restarted), the same :meth:`add` tries once more on a new one.
    """

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._connection: PoolProxiedConnection | None = None

    def add(self, events: Sequence[NewWebhookEvent]) -> list[bool]:
        """Store ``events`` in one transaction; for each, True if it is new, False if an event
        with its id is stored already (or comes earlier in ``events``).

        Raises:
            StoreError: the transaction failed; none of the events is stored.
        """
        if not events:
            return []
        now = utcnow()
        rows = [
            {
                "event_id": event.event_id,
                "platform": event.platform,
                "project_key": event.project_key,
                "received_at": now if event.received_at is None else event.received_at,
                "payload": dict(event.payload),
                "attempts": 0,
            }
            for event in events
        ]
        store = self._store
        dialect = store.engine.dialect
        with store._translated("storing webhook events"):
            prepared = store._intake_statement()
            while True:
                kept = self._connection
                try:
                    return self._write(prepared, rows)
                except dialect.loaded_dbapi.Error as exc:
                    died = kept is not None and dialect.is_disconnect(
                        exc, kept.dbapi_connection, None
                    )
                    self._drop()
                    if died:
                        continue  # the kept connection died (a database restart): a new one
                    # as SQLAlchemy would raise it, so the store reports it as any other
                    raise DBAPIError.instance(
                        None, None, exc, dialect.loaded_dbapi.Error, dialect=dialect
                    ) from exc
                except BaseException:
                    self._drop()
                    raise

    def _write(self, prepared: PreparedInsert, rows: list[dict[str, Any]]) -> list[bool]:
        if self._connection is None:
            self._connection = self._store.engine.raw_connection()
        cursor = self._connection.cursor()
        try:
            # PostgreSQL's driver begins by itself. The store's SQLite connections are in the
            # driver's autocommit mode (base._sqlite_engine), where one statement is a
            # transaction of its own, committed when the statement ends: one call into SQLite
            # for a single event instead of three (BEGIN, INSERT, COMMIT), each of which lets
            # go of the GIL and takes it back from the busy event loop.
            if self._store.dialect == "sqlite" and len(rows) > 1:
                cursor.execute("BEGIN IMMEDIATE")
            inserted = insert_each(cursor, prepared, rows)
            self._connection.commit()
        finally:
            cursor.close()
        return inserted

    def close(self) -> None:
        """Hand the connection back to the store's pool."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.rollback()
            connection.invalidate()  # not back to the pool: it may be broken

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class EventStore(StoreBase):
    """Webhook events stored on receipt and marked when processed."""

    # the intake's INSERT, compiled on first use (a store has one dialect)
    _intake_insert: PreparedInsert | None = None

    # --- webhook events ---------------------------------------------------------------------

    def add_webhook_event(
        self,
        event_id: str,
        *,
        platform: str,
        payload: Mapping[str, Any],
        project_key: str | None = None,
        received_at: datetime | None = None,
    ) -> bool:
        """Store a received webhook event before it is acknowledged; False if an event with
        this id is stored already."""
        event = NewWebhookEvent(
            event_id=event_id,
            platform=platform,
            payload=payload,
            project_key=project_key,
            received_at=received_at,
        )
        return self.add_webhook_events([event])[0]

    def add_webhook_events(self, events: Sequence[NewWebhookEvent]) -> list[bool]:
        """Store received webhook events in one transaction; for each, True if it is new,
        False if an event with its id is stored already (or comes earlier in ``events``).
        Writing many small batches, keep a :meth:`webhook_intake` instead.

        Raises:
            StoreError: the transaction failed; none of the events is stored.
        """
        with self.webhook_intake() as intake:
            return intake.add(events)

    def webhook_intake(self) -> WebhookIntake:
        """A :class:`WebhookIntake`: a connection kept for storing webhook events."""
        return WebhookIntake(self)

    def _intake_statement(self) -> PreparedInsert:
        prepared = self._intake_insert
        if prepared is None:
            with self.engine.connect() as connection:
                statement = upsert(connection, webhook_events, key=["event_id"])
            prepared = prepare_insert(self.engine.dialect, statement, _INTAKE_KEYS)
            self._intake_insert = prepared
        return prepared

    def pending_webhook_events(
        self, limit: int = 100, *, max_attempts: int | None = None
    ) -> list[WebhookEvent]:
        """Events not processed yet, oldest first (with fewer than ``max_attempts`` failed
        attempts, if given)."""
        w = webhook_events
        query = (
            select(w)
            .where(w.c.processed_at.is_(None))
            .order_by(w.c.received_at, w.c.id)
            .limit(limit)
        )
        if max_attempts is not None:
            query = query.where(w.c.attempts < max_attempts)
        with self._read("reading webhook events") as connection:
            found = connection.execute(query).all()
        return [
            WebhookEvent(
                event_id=row.event_id,
                platform=row.platform,
                project_key=row.project_key,
                received_at=row.received_at,
                payload=row.payload,
                processed_at=row.processed_at,
                attempts=row.attempts,
                error=row.error,
            )
            for row in found
        ]

    def pending_webhook_projects(self, *, max_attempts: int | None = None) -> set[str | None]:
        """The projects with events not processed yet (with fewer than ``max_attempts`` failed
        attempts, if given): what the event worker needs to decide whether a sync is due,
        without reading the events."""
        w = webhook_events
        query = select(w.c.project_key).distinct().where(w.c.processed_at.is_(None))
        if max_attempts is not None:
            query = query.where(w.c.attempts < max_attempts)
        with self._read("reading webhook events") as connection:
            return set(connection.execute(query).scalars())

    def mark_event_processed(
        self, event_id: str, *, error: str | None = None, at: datetime | None = None
    ) -> None:
        """Count an attempt at an event: processed if ``error`` is None, else left pending with
        the error. An event processed already stays processed.

        Raises:
            StoreError: no event has that id.
        """
        if self.mark_events_processed([event_id], error=error, at=at) != 1:
            raise StoreError(
                f"no webhook event {event_id!r}", operation="marking a webhook event processed"
            )

    def mark_events_processed(
        self, event_ids: Sequence[str], *, error: str | None = None, at: datetime | None = None
    ) -> int:
        """:meth:`mark_event_processed` for several events in one short transaction; returns
        how many of the ids were found."""
        w = webhook_events
        marked = 0
        with self._write("marking webhook events processed") as connection:
            for chunk in chunks(sorted(set(event_ids))):
                result = connection.execute(
                    update(w)
                    .where(w.c.event_id.in_(chunk))
                    .values(
                        attempts=w.c.attempts + 1,
                        error=error,
                        processed_at=w.c.processed_at
                        if error
                        else func.coalesce(w.c.processed_at, moment(at)),
                    )
                )
                marked += result.rowcount
        return marked
