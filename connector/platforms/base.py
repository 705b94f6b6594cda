"""The one protocol both platform adapters implement, and the domain objects they exchange.

Adapters turn platform payloads into these objects and these objects back into platform calls;
the sync code never sees a Label Studio task or an Argilla record. A third platform is one new
module implementing :class:`Platform`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from connector.errors import ConnectorError
from connector.rubric import Rubric, Value

__all__ = [
    "GroundTruth",
    "NewTask",
    "PayloadError",
    "Platform",
    "PlatformError",
    "PullPage",
    "PulledJudgment",
    "Quarantined",
    "TaskAgreement",
    "TaskSeen",
    "json_type",
    "objects_with_ids",
    "parse_timestamp",
    "ranking_texts",
]


def parse_timestamp(value: str) -> datetime:
    """A platform timestamp (ISO 8601 with ``Z``, an offset, or naive meaning UTC) as an aware
    UTC datetime."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class PlatformError(ConnectorError, RuntimeError):
    """A platform call failed. Carries the platform, the URL (no secrets) and the status."""

    def __init__(
        self,
        message: str,
        *,
        platform: str,
        url: str | None = None,
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        self.platform = platform
        self.url = url
        self.status = status
        self.retry_after_s = retry_after_s
        where = f"{platform} {url}" if url else platform
        suffix = f" (HTTP {status})" if status is not None else ""
        super().__init__(f"{where}: {message}{suffix}")

    @property
    def transient(self) -> bool:
        """Worth retrying: no answer at all, 429, or a 5xx."""
        return self.status is None or self.status == 429 or self.status >= 500


class PayloadError(PlatformError):
    """A platform answered with a payload its adapter cannot read (a missing key, a wrong type).

    Names the platform, and the task and annotation when known (``task_id``,
    ``annotation_id``; ``None`` when the surprise is above them). ``reason`` is the message
    without them. Not transient: asking again gets the same answer.
    """

    def __init__(
        self,
        reason: str,
        *,
        platform: str,
        task_id: str | None = None,
        annotation_id: str | None = None,
    ) -> None:
        self.reason = reason
        self.task_id = task_id
        self.annotation_id = annotation_id
        where = ", ".join(
            f"{noun} {value}"
            for noun, value in (("task", task_id), ("annotation", annotation_id))
            if value is not None
        )
        super().__init__(f"{where}: {reason}" if where else reason, platform=platform)

    @property
    def transient(self) -> bool:
        return False


def json_type(value: Any) -> str:
    """The name a payload message gives a value's type (``null`` for ``None``)."""
    return "null" if value is None else type(value).__name__


def objects_with_ids(
    owner: Mapping[str, Any],
    key: str,
    *,
    noun: str,
    owner_noun: str,
    identifier: Callable[[Any], str | None],
    platform: str,
    task_id: str,
) -> list[tuple[str, dict[str, Any]]]:
    """``owner[key]``, a list of objects that each carry an ``id``, as (id, object) pairs.

    Absent means none. A list that is not one, an entry that is not an object, or one whose
    id ``identifier`` cannot read is a :class:`PayloadError` for the whole page: such an entry
    can be neither quarantined nor told apart from a deleted one.
    """
    listed = owner.get(key)
    if listed is None:
        return []
    if not isinstance(listed, list):
        raise PayloadError(
            f"{key} is not a list (got {json_type(listed)})", platform=platform, task_id=task_id
        )
    found = []
    for position, entry in enumerate(listed, 1):
        if not isinstance(entry, dict):
            raise PayloadError(
                f"{noun} {position} of the {owner_noun} is not an object (got {json_type(entry)})",
                platform=platform,
                task_id=task_id,
            )
        entry_id = identifier(entry.get("id"))
        if entry_id is None:
            raise PayloadError(
                f"{noun} {position} of the {owner_noun} has no id (got {entry.get('id')!r}); "
                "it can be neither quarantined nor told apart from a deleted one",
                platform=platform,
                task_id=task_id,
            )
        found.append((entry_id, entry))
    return found


@dataclass(frozen=True, slots=True, kw_only=True)
class PulledJudgment:
    """One annotator's value for one dimension of one task, as read from the platform."""

    task_id: str
    annotation_id: str
    annotator: str
    dimension: str
    value: Value
    submitted_at: datetime | None
    updated_at: datetime
    lead_time_s: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Quarantined:
    """A result that does not fit the rubric: kept with its ids for a person to look at."""

    task_id: str
    annotation_id: str
    reason: str
    raw: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class GroundTruth:
    """An annotation its author marked as ground truth: a claim of the task's gold answers,
    which :func:`connector.calibration.gold.judge_claims` accepts only from a gold author."""

    annotation_id: str
    author: str
    values: Mapping[str, Value]
    updated_at: datetime


def ranking_texts(prompt: object, responses: Mapping[str, object]) -> dict[str, str] | None:
    """A ranking task's :attr:`TaskSeen.texts` from its prompt and its option texts (option id
    → text); only string texts are kept, and ``None`` when no option has one."""
    texts = {f"response_{option}": t for option, t in responses.items() if isinstance(t, str)}
    if not texts:
        return None
    return ({"prompt": prompt} if isinstance(prompt, str) else {}) | texts


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskSeen:
    """A task read during a pull: its item key, the side shown left, its live annotation ids
    and the ground-truth claims on it.

    ``texts``: what a task of a ranking rubric shows, ``prompt`` and ``response_<option>`` per
    ranked option (the export's texts for a task the connector did not push); ``None`` for a
    task without a ranking (a pushed pair's texts are the store's, written by the push).
    """

    task_id: str
    item_key: str
    display_left: str | None
    updated_at: datetime
    annotation_ids: tuple[str, ...]
    ground_truth: tuple[GroundTruth, ...] = ()
    texts: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PullPage:
    """One page of an incremental pull; the cursor is safe to store once the page is applied."""

    tasks: tuple[TaskSeen, ...]
    judgments: tuple[PulledJudgment, ...]
    quarantined: tuple[Quarantined, ...]
    skipped: int  # cancelled/skipped annotations, drafts: counted, never judgments
    cursor: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewTask:
    """A task to create: opaque key, what annotators see, and the side shown on the left.

    ``key`` is opaque (it does not say gold, re-test or anything about the answer); the mapping
    to the item and its role lives only in the store.
    """

    key: str
    prompt: str
    response_a: str
    response_b: str | None
    display_left: str  # "a" or "b"


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskAgreement:
    """Per-task agreement written back to the platform, one figure per dimension of the rubric
    (:func:`connector.metrics.item_agreement`: the weighted share of agreeing pairs of the
    item's judgments; None below two) and the judgments it rests on. Never per-annotator."""

    task_id: str
    agreement: Mapping[str, float | None]
    n_judgments: Mapping[str, int]

    @property
    def lowest(self) -> float | None:
        """The lowest defined figure (what a sortable column or a queue orders by)."""
        known = [v for v in self.agreement.values() if v is not None]
        return min(known) if known else None


class Platform(Protocol):
    """What the sync needs from a labeling platform."""

    name: str

    def check_project(self, project_id: str, rubric: Rubric) -> None:
        """Raise naming the mismatch if the project's form does not match the rubric."""

    def pull(
        self,
        project_id: str,
        rubric: Rubric,
        *,
        since: datetime | None,
        display_left: Mapping[str, str],
        gold_authors: Collection[str] = (),
    ) -> Iterator[PullPage]:
        """Tasks changed after ``since``, oldest first, as pages of judgments.

        A ground-truth annotation by one of ``gold_authors`` is a gold claim only; anyone
        else's is also an ordinary judgment of its author (members can mark their own)."""

    def live_annotation_ids(self, project_id: str) -> set[str]:
        """Every annotation id the project holds now (for reconciling deletions)."""

    def create_tasks(
        self, project_id: str, tasks: Sequence[NewTask], *, created_after: datetime
    ) -> dict[str, str]:
        """Create tasks not already present (by key); return key → platform task id for all."""

    def write_report(
        self,
        project_id: str,
        *,
        summary: str,
        tasks: Sequence[TaskAgreement],
        column: bool,
        report: Mapping[str, Any] | None = None,
    ) -> None:
        """Write the summary (and, where the platform keeps it, the machine-readable report)
        where users look, and per-task agreement on the tasks."""

    def install_webhook(self, project_id: str, *, url: str, secret: str) -> str | None:
        """Register (or update) the webhook to the connector; return the signing secret when
        the platform generated one (it must then be configured), else ``None``."""
