"""Rows passed into and out of the store: frozen dataclasses, no dict bags.

In (written by adapters, sync, calibration): :class:`ItemRow`, :class:`TaskMapping`,
:class:`JudgmentRow`, :class:`QuarantineRow`, :class:`GoldAnswer`, :class:`BatchItemPlan`,
:class:`StatusDecision`, :class:`RunCounts`.

Out (read back): :class:`ApplyCounts`, :class:`Batch`, :class:`BatchItem`, :class:`SyncCursor`,
:class:`StoredReport`, :class:`SyncRun`, :class:`WebhookEvent` (and the in-rows above, where
what comes back is what went in).

Rows are checked on construction: an option outside its set raises
:class:`~connector.errors.OptionError` listing the valid ones, an empty key or a value that is
not a string or number :class:`~connector.store.errors.StoreRowError` (both are
``ValueError``). Datetimes may be naive (taken to be UTC) or aware; the store hands them back
aware, in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connector.errors import OptionError
from connector.store.errors import StoreRowError
from connector.store.schema import (
    ANNOTATOR_STATUSES,
    BATCH_STATUSES,
    DISPLAY_SIDES,
    GOLD_SOURCES,
    TASK_KINDS,
)

__all__ = [
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
    "RunCounts",
    "StatusDecision",
    "StoredReport",
    "SyncCursor",
    "SyncRun",
    "TaskMapping",
    "Value",
    "WebhookEvent",
]

Value = str | int | float


def _check(name: str, value: str | None, valid: tuple[str, ...], *, optional: bool) -> None:
    if value is None and optional:
        return
    if value not in valid:
        raise OptionError(name, value, (None, *valid) if optional else valid)


def _check_key(name: str, value: str) -> None:
    if not isinstance(value, str) or not value:
        raise StoreRowError(f"{name} must be a non-empty string, got {value!r}")


def _check_value(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise StoreRowError(f"{name} must be a string or a number, got {type(value).__name__}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemRow:
    """An item: the thing judged. ``payload`` holds prompt and responses if they are kept;
    ``response_lengths`` maps a response name (``"a"``, ``"b"``) to its length in characters."""

    item_key: str
    category: str | None = None
    payload: Mapping[str, Any] | None = None
    response_lengths: Mapping[str, float] | None = None

    def __post_init__(self) -> None:
        _check_key("item_key", self.item_key)


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskMapping:
    """A platform task (or Argilla record) and the item it shows; a re-test is a second task
    for the same item."""

    platform_task_id: str
    item_key: str
    kind: str = "production"
    batch_id: str | None = None
    display_left: str | None = None
    rubric_hash: str | None = None

    def __post_init__(self) -> None:
        _check_key("platform_task_id", self.platform_task_id)
        _check_key("item_key", self.item_key)
        _check("kind", self.kind, TASK_KINDS, optional=False)
        _check("display_left", self.display_left, DISPLAY_SIDES, optional=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class JudgmentRow:
    """One annotator's value for one item on one dimension, as pulled from one platform
    annotation. ``(platform_annotation_id, dimension)`` is its key within a project."""

    platform_annotation_id: str
    dimension: str
    item_key: str
    annotator: str
    value: Value
    platform_task_id: str | None = None
    rubric_hash: str | None = None
    submitted_at: datetime | None = None
    platform_updated_at: datetime | None = None
    lead_time_s: float | None = None
    display_left: str | None = None
    is_retest: bool = False

    def __post_init__(self) -> None:
        for name in ("platform_annotation_id", "dimension", "item_key", "annotator"):
            _check_key(name, getattr(self, name))
        _check_value("value", self.value)
        _check("display_left", self.display_left, DISPLAY_SIDES, optional=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyCounts:
    """What :meth:`Store.apply_judgments` did with the rows it was given."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass(frozen=True, slots=True, kw_only=True)
class QuarantineRow:
    """A platform result that does not fit the rubric, kept with its raw payload."""

    platform_annotation_id: str
    reason: str
    platform_task_id: str | None = None
    raw: Mapping[str, Any] | None = None
    first_seen_at: datetime | None = None

    def __post_init__(self) -> None:
        _check_key("platform_annotation_id", self.platform_annotation_id)
        _check_key("reason", self.reason)


@dataclass(frozen=True, slots=True, kw_only=True)
class GoldAnswer:
    """The expected value of a gold item on one dimension, and where it came from."""

    item_key: str
    dimension: str
    value: Value
    source: str = "file"
    set_by: str | None = None  # the platform user (a gold author) or "file:<path>"

    def __post_init__(self) -> None:
        _check_key("item_key", self.item_key)
        _check_key("dimension", self.dimension)
        _check_value("value", self.value)
        _check("source", self.source, GOLD_SOURCES, optional=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class GoldChangeRow:
    """A gold answer set, changed, or refused, with who asked and why (the gold log).

    An accepted row also becomes the item's current gold answer; a refused one changes
    nothing. ``fingerprint`` makes recording the same decision twice a no-op.
    """

    fingerprint: str
    item_key: str
    dimension: str
    old_value: Value | None
    new_value: Value
    source: str
    set_by: str
    platform_annotation_id: str | None
    accepted: bool
    reason: str
    at: datetime

    def __post_init__(self) -> None:
        _check_key("fingerprint", self.fingerprint)
        _check_key("item_key", self.item_key)
        _check_key("dimension", self.dimension)
        _check_value("new_value", self.new_value)
        _check("source", self.source, GOLD_SOURCES, optional=False)
        _check_key("set_by", self.set_by)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxAlert:
    """An alert stored with the decision that raised it, delivered after (``id`` and
    ``created_at`` are the store's, once written). ``outbox_key`` names the event once."""

    outbox_key: str
    kind: str
    text: str
    fields: Mapping[str, str] = field(default_factory=dict)
    id: int | None = None
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        _check_key("outbox_key", self.outbox_key)
        _check_key("kind", self.kind)


@dataclass(frozen=True, slots=True, kw_only=True)
class GoldRelease:
    """The per-annotator gold figures reports show, frozen when they were last released."""

    annotator: str
    released_at: datetime
    gold_judgments: int
    figures: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchItemPlan:
    """One planned task of a calibration batch: which item, in what role, at which position,
    and the hash of the task payload that will be pushed."""

    item_key: str
    role: str
    position: int
    payload_hash: str

    def __post_init__(self) -> None:
        _check_key("item_key", self.item_key)
        _check("role", self.role, TASK_KINDS, optional=False)
        _check_key("payload_hash", self.payload_hash)
        if isinstance(self.position, bool) or not isinstance(self.position, int):
            raise StoreRowError(f"position must be an int, got {self.position!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchItem:
    """A stored batch item: the plan, and the platform task once it was created."""

    batch_id: str
    item_key: str
    role: str
    position: int
    payload_hash: str
    platform_task_id: str | None
    task_created_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Batch:
    """A stored calibration batch (``batch_id`` is its idempotency key)."""

    batch_id: str
    project_key: str
    kind: str
    rubric_hash: str
    status: str
    n_tasks: int
    created_at: datetime
    pushed_at: datetime | None

    def __post_init__(self) -> None:
        _check("kind", self.kind, TASK_KINDS, optional=False)
        _check("status", self.status, BATCH_STATUSES, optional=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncCursor:
    """Where the last incremental pull of a project stopped."""

    platform: str
    project_key: str
    cursor: str | None
    last_full_reconcile_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredReport:
    """An agreement report as saved: its JSON body and, if written, the HTML file."""

    id: int
    project_key: str
    created_at: datetime
    rubric_hash: str | None
    body: Mapping[str, Any]
    html_path: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusDecision:
    """An annotator status decided at ``decided_at`` from ``evidence``."""

    annotator: str
    rubric_id: str
    status: str
    decided_at: datetime
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_key("annotator", self.annotator)
        _check_key("rubric_id", self.rubric_id)
        _check("status", self.status, ANNOTATOR_STATUSES, optional=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunCounts:
    """Counters of one sync run."""

    pulled: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped: int = 0
    quarantined: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncRun:
    """A stored sync run; ``finished_at`` is None while it runs (or if it crashed)."""

    id: int
    platform: str
    project_key: str
    started_at: datetime
    finished_at: datetime | None
    counts: RunCounts
    error: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookEvent:
    """A received webhook event, stored before it is acknowledged."""

    event_id: str
    platform: str
    project_key: str | None
    received_at: datetime
    payload: Mapping[str, Any]
    processed_at: datetime | None
    attempts: int
    error: str | None
