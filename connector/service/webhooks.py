"""Webhook verification and interpretation, for the receiver (pure: no I/O, no framework).

- Label Studio sends a shared secret in ``X-IAA-Webhook-Secret`` (installed by
  ``iaa-connector webhooks install``); :func:`check_shared_secret` compares it in constant time.
- Argilla signs with Standard Webhooks (https://www.standardwebhooks.com):
  ``webhook-signature`` lists ``v1,<base64 HMAC-SHA256>`` over ``"{id}.{timestamp}.{body}"``,
  keyed with the base64-decoded secret (given as ``whsec_<base64>`` or plain base64);
  :func:`check_standard_webhook_headers` checks the headers and the timestamp tolerance (before
  the body is read), :func:`check_signature` the signature (with the key prepared once by
  :func:`signing_key`), :func:`verify_standard_webhook` all of it.

Only a small summary of each payload is kept (:class:`Intake`): the event kind and the ids
the sync needs to be debugged. Payloads can hold a platform's API token, annotators' text and
gold-adjacent data; none of that is stored or logged. The sync fetches fresh state from the
platform anyway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connector.errors import ConnectorError

__all__ = [
    "ARGILLA_EVENTS",
    "LABEL_STUDIO_ACTIONS",
    "Intake",
    "SignatureError",
    "argilla_dataset_id",
    "argilla_event",
    "argilla_summary",
    "check_shared_secret",
    "check_signature",
    "check_standard_webhook_headers",
    "check_timestamp",
    "decode_secret",
    "label_studio_intake",
    "sign_standard_webhook",
    "signing_key",
    "verify_standard_webhook",
]

LABEL_STUDIO_ACTIONS = frozenset(
    {
        "ANNOTATION_CREATED",
        "ANNOTATION_UPDATED",
        "ANNOTATIONS_CREATED",
        "ANNOTATIONS_DELETED",
        "TASKS_DELETED",
    }
)
ARGILLA_EVENTS = frozenset(
    {
        "response.created",
        "response.updated",
        "response.deleted",
        "record.created",
        "record.completed",
        "record.updated",
        "record.deleted",
        "dataset.created",
        "dataset.updated",
        "dataset.deleted",
        "dataset.published",
    }
)


class SignatureError(ConnectorError, ValueError):
    """A webhook is not validly signed; ``reason`` is the metric label
    (``missing_headers``, ``timestamp``, ``signature``, ``secret_invalid``)."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True, slots=True, kw_only=True)
class Intake:
    """An accepted event: its id and the summary that is stored (never the raw payload)."""

    event_id: str
    summary: Mapping[str, Any] = field(default_factory=dict)


def check_shared_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a shared-secret header with the expected value."""
    if not expected:
        return False
    return hmac.compare_digest((given or "").encode(), expected.encode())


def decode_secret(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret (``whsec_<base64>`` or plain base64).

    Raises:
        SignatureError: the secret is not valid base64 (reason ``secret_invalid``).
    """
    raw = secret.strip().removeprefix("whsec_")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError(
            "secret_invalid", "the webhook secret is not base64 (nor whsec_<base64>)"
        ) from exc


def sign_standard_webhook(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value (``v1,<base64>``) for a message."""
    signed = f"{event_id}.{timestamp}.".encode() + body
    digest = hmac.new(decode_secret(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def check_standard_webhook_headers(
    headers: Mapping[str, str], *, now: float, tolerance_s: float = 300.0
) -> tuple[str, str, str]:
    """The ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` headers, checked for
    presence and the timestamp tolerance: what can be refused before the body is read.

    Raises:
        SignatureError: headers missing (``missing_headers``) or the timestamp outside
            ``now ± tolerance_s`` (``timestamp``: replay or clock skew).
    """
    event_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not event_id or not stamp or not signatures:
        raise SignatureError(
            "missing_headers", "webhook-id, webhook-timestamp and webhook-signature are required"
        )
    check_timestamp(stamp, now=now, tolerance_s=tolerance_s)
    return event_id, stamp, signatures


def check_timestamp(stamp: str, *, now: float, tolerance_s: float = 300.0) -> None:
    """Check a ``webhook-timestamp`` value: unix seconds within ``now ± tolerance_s``.

    Raises:
        SignatureError: it is not (reason ``timestamp``: replay or clock skew).
    """
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        raise SignatureError("timestamp", "webhook-timestamp is not unix seconds")
    if abs(now - int(stamp)) > tolerance_s:
        raise SignatureError("timestamp", "webhook-timestamp is outside the tolerance (replay?)")


def verify_standard_webhook(
    headers: Mapping[str, str],
    body: bytes,
    *,
    secret: str,
    now: float,
    tolerance_s: float = 300.0,
) -> str:
    """Check a Standard Webhooks signature; return the ``webhook-id``.

    Raises:
        SignatureError: headers missing (``missing_headers``), timestamp outside
            ``now ± tolerance_s`` (``timestamp``: replay or clock skew), no matching signature
            (``signature``), or an undecodable secret (``secret_invalid``).
    """
    event_id, stamp, signatures = check_standard_webhook_headers(
        headers, now=now, tolerance_s=tolerance_s
    )
    check_signature(event_id, stamp, signatures, body, key=decode_secret(secret))
    return event_id


def signing_key(key: bytes) -> hmac.HMAC:
    """An HMAC-SHA256 over nothing yet, keyed with ``key`` (:func:`decode_secret`), for
    :func:`check_signature` to copy: the key is prepared once per secret, not per message."""
    return hmac.new(key, digestmod=hashlib.sha256)


def check_signature(
    event_id: str, stamp: str, signatures: str, body: bytes, *, key: bytes | hmac.HMAC
) -> None:
    """Check that one of the ``webhook-signature`` values (space-separated ``v1,<base64>``)
    signs the message with ``key`` (:func:`decode_secret`, or its :func:`signing_key`); every
    value is compared, in constant time. The headers and timestamp are
    :func:`check_standard_webhook_headers`'s.

    Raises:
        SignatureError: none matches (reason ``signature``).
    """
    mac = signing_key(key) if isinstance(key, bytes) else key.copy()
    # in parts, not joined: no copy of the body (and the GIL is kept for a small one, where a
    # one-shot hmac.digest lets go of it and waits to take it back from the store's thread)
    mac.update(b"%s.%s." % (event_id.encode(), stamp.encode()))
    mac.update(body)
    expected = mac.digest()
    matched = False
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version != "v1":
            continue
        try:
            given = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            continue
        matched |= hmac.compare_digest(given, expected)  # check them all: constant time
    if not matched:
        raise SignatureError("signature", "no webhook-signature matches")


def _get(payload: Any, *path: str) -> Any:
    for name in path:
        if type(payload) is not dict and not isinstance(payload, Mapping):  # JSON: a dict
            return None
        payload = payload.get(name)
    return payload


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        return str(value)
    return None


def _ids(payload: Mapping[str, Any], *names: str) -> list[str]:
    """Ids of the objects under ``names`` (each an object or a list of objects)."""
    found: list[str] = []
    for name in names:
        value = payload.get(name)
        for entry in value if isinstance(value, list) else [value]:
            ident = _scalar(_get(entry, "id")) if isinstance(entry, Mapping) else _scalar(entry)
            if ident is not None:
                found.append(ident)
    return sorted(set(found))


def label_studio_intake(project_key: str, payload: Mapping[str, Any]) -> Intake | None:
    """The event id and summary of a Label Studio webhook; None if the action is not one the
    connector follows.

    Label Studio sends no event id: the id hashes the project, the action, the annotation and
    task ids and ``updated_at``, so a repeat of the same change is a duplicate.
    """
    action = payload.get("action")
    if not isinstance(action, str) or action not in LABEL_STUDIO_ACTIONS:
        return None
    annotations = _ids(payload, "annotation", "annotations")
    tasks = _ids(payload, "task", "tasks")
    updated_at = _scalar(_get(payload, "annotation", "updated_at")) or _scalar(
        _get(payload, "task", "updated_at")
    )
    key = json.dumps([project_key, action, annotations, tasks, updated_at], separators=(",", ":"))
    event_id = "ls:" + hashlib.sha256(key.encode()).hexdigest()
    summary = {
        "event": action,
        "annotation_ids": annotations[:100],
        "task_ids": tasks[:100],
        "updated_at": updated_at,
        "platform_project_id": _scalar(_get(payload, "project", "id")),
    }
    return Intake(event_id=event_id, summary=summary)


def argilla_dataset_id(payload: Mapping[str, Any]) -> str | None:
    """The dataset an Argilla event is about.

    ``data.dataset.id`` (record events), ``data.record.dataset.id`` (response events; older
    servers: ``data.record.dataset_id``), ``data.dataset_id``, or ``data.id`` for
    ``dataset.*`` events, whose data is the dataset itself.
    """
    data = payload.get("data")
    for path in (
        ("dataset", "id"),
        ("record", "dataset", "id"),
        ("record", "dataset_id"),
        ("dataset_id",),
    ):
        found = _scalar(_get(data, *path))
        if found is not None:
            return found
    kind = payload.get("type")
    if isinstance(kind, str) and kind.startswith("dataset."):
        return _scalar(_get(data, "id"))
    return None


def argilla_event(payload: Mapping[str, Any]) -> tuple[str, str] | None:
    """(event type, dataset id) of an Argilla event the connector follows, else None."""
    kind = payload.get("type")
    if not isinstance(kind, str) or kind not in ARGILLA_EVENTS:
        return None
    dataset = argilla_dataset_id(payload)
    if dataset is None:
        return None
    return kind, dataset


def argilla_summary(event_id: str, kind: str, dataset: str, payload: Mapping[str, Any]) -> Intake:
    """The stored summary of an accepted Argilla event."""
    data = payload.get("data")
    record = _scalar(_get(data, "record", "id")) if kind.startswith("response.") else None
    if kind.startswith("record."):
        record = _scalar(_get(data, "id"))
    return Intake(
        event_id=event_id,
        summary={
            "event": kind,
            "dataset_id": dataset,
            "record_id": record,
            "timestamp": _scalar(payload.get("timestamp")),
        },
    )
