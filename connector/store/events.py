"""Webhook events: durable intake before the answer, and their processing state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    func,
    select,
    update,
)

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

__all__ = ["EventStore", "NewWebhookEvent"]

_INTAKE_KEYS = ("event_id", "platform", "project_key", "received_at", "payload", "attempts")


@dataclass(frozen=True, slots=True, kw_only=True)
class NewWebhookEvent:
    """A received webhook event to store (:meth:`EventStore.add_webhook_events`)."""

    event_id: str
    platform: str
    payload: Mapping[str, Any]
    project_key: str | None = None
    received_at: datetime | None = None  # None: when it is written


class EventStore(StoreBase):
    """Webhook events stored on receipt and marked when processed."""

    # the intake's INSERT, compiled on first use (per store: one dialect)
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
        """Store received webhook events in one transaction (the service's group commit: the
        events that arrived while the previous write ran); for each, True if it is new, False
        if an event with its id is stored already (or comes earlier in ``events``).

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
        with self._write("storing webhook events") as connection:
            prepared = self._intake_insert
            if prepared is None or prepared.dialect != connection.dialect.name:
                statement = upsert(connection, webhook_events, key=["event_id"])
                prepared = prepare_insert(connection.dialect, statement, _INTAKE_KEYS)
                self._intake_insert = prepared
            return insert_each(connection, prepared, rows)

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
