"""Status decisions stored together with the alerts they raise (an outbox), and delivery.

A sync records an annotator's transition and its alert in one transaction, then writes back to
the platform and delivers pending alerts. When write-back fails, the retry finds no new
transition (it is stored), but the alert is still pending and is delivered then: nothing lost.
Delivered alerts are marked, so nothing is sent twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select, update

from connector.store.base import StoreBase, inserted
from connector.store.bulk import upsert
from connector.store.columns import utcnow
from connector.store.rows import OutboxAlert, StatusDecision
from connector.store.schema import alert_outbox, annotator_status

__all__ = ["OutboxStore"]


class OutboxStore(StoreBase):
    """Status decisions with their alerts, and the alerts still to deliver."""

    def record_decisions(
        self,
        project_key: str,
        decisions: Sequence[StatusDecision],
        alerts: Sequence[OutboxAlert] = (),
    ) -> int:
        """Append status decisions and queue their alerts, in one transaction; return how many
        decisions were new (a decision or alert stored before is not stored again)."""
        if not decisions and not alerts:
            return 0
        now = utcnow()
        new = 0
        with self._write("recording status decisions") as connection:
            status = upsert(
                connection,
                annotator_status,
                key=["project_key", "rubric_id", "annotator", "decided_at"],
            )
            for decision in decisions:
                new += inserted(
                    connection,
                    status,
                    {
                        "project_key": project_key,
                        "rubric_id": decision.rubric_id,
                        "annotator": decision.annotator,
                        "status": decision.status,
                        "evidence": dict(decision.evidence),
                        "decided_at": decision.decided_at,
                    },
                )
            self._queue(connection, project_key, alerts, now)
        return new

    def queue_alerts(self, project_key: str, alerts: Sequence[OutboxAlert]) -> None:
        """Queue alerts on their own (each once, by ``outbox_key``)."""
        if alerts:
            with self._write("queueing alerts") as connection:
                self._queue(connection, project_key, alerts, utcnow())

    @staticmethod
    def _queue(
        connection: Connection, project_key: str, alerts: Sequence[OutboxAlert], now: datetime
    ) -> None:
        statement = upsert(connection, alert_outbox, key=["project_key", "outbox_key"])
        for alert in alerts:
            connection.execute(
                statement,
                {
                    "project_key": project_key,
                    "outbox_key": alert.outbox_key,
                    "kind": alert.kind,
                    "text": alert.text,
                    "fields": dict(alert.fields),
                    "created_at": now,
                },
            )

    def pending_alerts(self, project_key: str) -> list[OutboxAlert]:
        """Alerts of the project not delivered yet, oldest first."""
        o = alert_outbox
        with self._read("reading pending alerts") as connection:
            found = connection.execute(
                select(o)
                .where(o.c.project_key == project_key, o.c.delivered_at.is_(None))
                .order_by(o.c.id)
            ).all()
        return [
            OutboxAlert(
                outbox_key=row.outbox_key,
                kind=row.kind,
                text=row.text,
                fields=row.fields,
                id=row.id,
                created_at=row.created_at,
            )
            for row in found
        ]

    def mark_alerts_delivered(self, ids: Sequence[int]) -> None:
        """Mark outbox alerts delivered (they are not delivered again)."""
        if not ids:
            return
        with self._write("marking alerts delivered") as connection:
            connection.execute(
                update(alert_outbox)
                .where(alert_outbox.c.id.in_(list(ids)), alert_outbox.c.delivered_at.is_(None))
                .values(delivered_at=utcnow())
            )
