"""Label Studio payloads in, domain objects out: pure (no HTTP, no clock, no I/O).

What the adapter reads from Label Studio 1.23.2 (``GET /api/tasks/`` pages with ``fields=all``
or ``task_only``, export snapshots, ``GET /api/users/``) becomes the objects of
:mod:`connector.platforms.base`. Tested offline on answers recorded from a real server
(tests/data/recorded/label_studio/).

The rules:

- a cancelled (skipped) annotation is counted, never a judgment; a draft is not an annotation
  (it sits in the task's ``drafts``) and is ignored;
- a ground-truth annotation is a gold claim; by one of ``gold_authors`` it is only a claim, by
  anyone else also its author's judgment (any member can mark their own);
- what the server does not check is quarantined with task and annotation ids: a second
  annotation by one user on a task, annotations beyond the project's ``maximum_annotations``
  (in creation order), results outside the rubric.

Payload surprises are :class:`~connector.platforms.base.PayloadError`, never ``KeyError`` or
``TypeError``, naming the task and the annotation:

- an error for the page (nothing of it is applied, the cursor does not move, the sync fails
  saying which task): an answer without a list of tasks; a task that is not an object, has no
  id, no readable ``updated_at``, ``annotations`` that are not a list, ``data`` or ``meta``
  that are not objects; an annotation that is not an object or has no id (it could be neither
  quarantined nor told apart from a deleted one);
- a quarantined annotation (kept with its ids, the rest of the task goes on): no
  ``completed_by`` or one that names no user, a ``result`` that is not a list, an unreadable
  ``created_at`` or ``updated_at``;
- a quarantined result (the annotation's other results go on): not an object, a control that
  is not a dimension of the rubric, a value outside it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connector.platforms.base import (
    GroundTruth,
    PayloadError,
    PulledJudgment,
    PullPage,
    Quarantined,
    TaskSeen,
    json_type,
    objects_with_ids,
    parse_timestamp,
    ranking_texts,
)
from connector.platforms.label_studio.labelconfig import ResultError, parse_result, ranking_list
from connector.rubric import Dimension, Rubric, Value

__all__ = [
    "PLATFORM",
    "annotation_ids",
    "completed_by_ids",
    "parse_tasks",
    "task_id",
    "task_keys",
    "task_list",
    "task_moment",
    "task_number",
    "task_state",
    "user_names",
]

PLATFORM = "label-studio"


def _identifier(value: Any) -> str | None:
    """An id as Label Studio sends it (an integer; a non-empty string accepted), else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value
    return None


def task_list(payload: Any) -> list[Any]:
    """The tasks of a ``GET /api/tasks/`` answer (``{"tasks": [...], "total": N, ...}``) or of
    an export snapshot (a list)."""
    tasks = payload.get("tasks") if isinstance(payload, dict) else payload
    if not isinstance(tasks, list):
        raise PayloadError(
            f"the answer holds no list of tasks (got {json_type(tasks)})", platform=PLATFORM
        )
    return tasks


def task_id(task: Any) -> str:
    """The task's id; a task that is not an object or has no id is an error for the page."""
    if not isinstance(task, dict):
        raise PayloadError(f"a task is not an object (got {json_type(task)})", platform=PLATFORM)
    ident = _identifier(task.get("id"))
    if ident is None:
        raise PayloadError(f"a task has no id (got {task.get('id')!r})", platform=PLATFORM)
    return ident


def task_number(task: Any) -> int:
    """The task's id as the integer the id keyset compares."""
    ident = task_id(task)
    try:
        return int(ident)
    except ValueError:
        raise PayloadError(
            f"id {ident!r} is not a whole number", platform=PLATFORM, task_id=ident
        ) from None


def _timestamp(
    value: Any, name: str, *, task_id: str, annotation_id: str | None = None
) -> datetime:
    if isinstance(value, str):
        try:
            return parse_timestamp(value)
        except ValueError:
            pass
    raise PayloadError(
        f"{name} is not a timestamp (got {value!r})",
        platform=PLATFORM,
        task_id=task_id,
        annotation_id=annotation_id,
    )


def task_moment(task: Any, field: str) -> datetime:
    """The task's ``updated_at`` or ``created_at``."""
    ident = task_id(task)
    return _timestamp(task.get(field), field, task_id=ident)


def _object(task: Mapping[str, Any], key: str, ident: str) -> dict[str, Any]:
    value = task.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(
            f"{key} is not an object (got {json_type(value)})", platform=PLATFORM, task_id=ident
        )
    return dict(value)


def task_state(task: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The task's id, and copies of its ``meta`` and ``data`` (a write-back replaces both)."""
    ident = task_id(task)
    return ident, _object(task, "meta", ident), _object(task, "data", ident)


def task_keys(tasks: Iterable[Any]) -> dict[str, str]:
    """The connector's opaque key (``data.key``) → task id, for tasks that have one."""
    found: dict[str, str] = {}
    for task in tasks:
        ident, _, data = task_state(task)
        key = data.get("key")
        if isinstance(key, str):
            found[key] = ident
    return found


def _annotations(task: Mapping[str, Any], ident: str) -> list[tuple[str, dict[str, Any]]]:
    """The task's annotations with their ids; errors for the page when one cannot be told."""
    return objects_with_ids(
        task,
        "annotations",
        noun="annotation",
        owner_noun="task",
        identifier=_identifier,
        platform=PLATFORM,
        task_id=ident,
    )


def annotation_ids(tasks: Iterable[Any]) -> set[str]:
    """Every annotation id the tasks hold (cancelled ones included)."""
    return {a for task in tasks for a, _ in _annotations(task, task_id(task))}


def completed_by_ids(tasks: Iterable[Any]) -> set[int]:
    """The user ids the tasks' annotations name (what :func:`user_names` must know)."""
    found: set[int] = set()
    for task in tasks:
        listed = task.get("annotations") if isinstance(task, dict) else None
        for annotation in listed if isinstance(listed, list) else []:
            user = annotation.get("completed_by") if isinstance(annotation, dict) else None
            if isinstance(user, int) and not isinstance(user, bool):
                found.add(user)
    return found


def user_names(payload: Any) -> dict[int, str]:
    """User id → the name judgments carry (the email; the id when there is none), from a
    ``GET /api/users/`` answer (a list, or a page with ``results``)."""
    users = payload.get("results") if isinstance(payload, dict) else payload
    if not isinstance(users, list):
        raise PayloadError(
            f"the users answer is not a list (got {json_type(users)})", platform=PLATFORM
        )
    names: dict[int, str] = {}
    for user in users:
        ident = _identifier(user.get("id")) if isinstance(user, dict) else None
        if ident is None or not ident.isdigit():
            raise PayloadError(f"a user has no id (got {user!r})", platform=PLATFORM)
        email = user.get("email")
        names[int(ident)] = email if isinstance(email, str) and email else ident
    return names


@dataclass(frozen=True, slots=True, kw_only=True)
class _Annotation:
    """One annotation that is not cancelled, read: what the rules need of it."""

    id: str
    raw: dict[str, Any]
    author: str
    ground_truth: bool
    results: tuple[Any, ...]
    submitted_at: datetime | None
    updated_at: datetime
    lead_time_s: float | None


def _author(user: Any, users: Mapping[int, str]) -> str | None:
    if isinstance(user, int) and not isinstance(user, bool):
        return users.get(user, str(user))
    if isinstance(user, dict):
        name = user.get("email") or _identifier(user.get("id"))
        return str(name) if name else None
    return None


def _read(
    task: str, ident: str, annotation: dict[str, Any], users: Mapping[int, str], task_time: datetime
) -> _Annotation:
    """Raises :class:`PayloadError` for a surprise inside the annotation (it is quarantined)."""

    def surprise(reason: str) -> PayloadError:
        return PayloadError(reason, platform=PLATFORM, task_id=task, annotation_id=ident)

    user = annotation.get("completed_by")
    author = _author(user, users)
    if author is None:
        raise surprise(f"completed_by names no user (got {user!r}): whose judgment is unknown")
    results = annotation.get("result")
    if not isinstance(results, list):
        raise surprise(f"result is not a list (got {json_type(results)})")
    stamps: dict[str, datetime | None] = {}
    for name in ("created_at", "updated_at"):
        value = annotation.get(name)
        stamps[name] = (
            None if value is None else _timestamp(value, name, task_id=task, annotation_id=ident)
        )
    lead = annotation.get("lead_time")
    return _Annotation(
        id=ident,
        raw=annotation,
        author=author,
        ground_truth=bool(annotation.get("ground_truth")),
        results=tuple(results),
        submitted_at=stamps["created_at"],
        updated_at=stamps["updated_at"] or stamps["created_at"] or task_time,
        lead_time_s=(
            float(lead) if isinstance(lead, int | float) and not isinstance(lead, bool) else None
        ),
    )


def _creation_order(item: tuple[str, dict[str, Any]]) -> tuple[str, int, str]:
    ident, annotation = item
    created = annotation.get("created_at")
    number = int(ident) if ident.isdigit() else -1
    return (created if isinstance(created, str) else "", number, ident)


class _PageBuilder:
    """Turns Label Studio tasks into judgments, quarantined results and task summaries."""

    def __init__(
        self,
        rubric: Rubric,
        *,
        maximum_annotations: int,
        gold_authors: frozenset[str],
        users: Mapping[int, str],
    ) -> None:
        self.rubric = rubric
        self.maximum = maximum_annotations
        self.gold_authors = gold_authors
        self.users = users
        self.dimensions = {d.name: d for d in rubric.dimensions}
        self.judgments: list[PulledJudgment] = []
        self.quarantined: list[Quarantined] = []
        self.tasks: list[TaskSeen] = []
        self.skipped = 0
        self.cursor: datetime | None = None

    def add_task(self, task: Any, left: str | None) -> None:
        ident = task_id(task)
        updated = task_moment(task, "updated_at")
        data = _object(task, "data", ident)
        _object(task, "meta", ident)
        annotations = sorted(_annotations(task, ident), key=_creation_order)
        self.cursor = updated if self.cursor is None else max(self.cursor, updated)
        claims: list[GroundTruth] = []
        annotators: set[str] = set()
        for annotation_id, raw in annotations:
            if raw.get("was_cancelled"):
                self.skipped += 1
                continue
            try:
                annotation = _read(ident, annotation_id, raw, self.users, updated)
            except PayloadError as exc:
                self._quarantine(ident, annotation_id, exc.reason, raw)
                continue
            if annotation.ground_truth:
                claims.append(
                    GroundTruth(
                        annotation_id=annotation_id,
                        author=annotation.author,
                        values=self._ground_truth(annotation, left),
                        updated_at=annotation.updated_at,
                    )
                )
                if annotation.author in self.gold_authors:
                    continue  # a gold author's ruling, not a judgment
            # an ordinary annotation, or ground truth its author may not set
            problem = None
            if annotation.author in annotators:
                problem = f"a second annotation by {annotation.author} on task {ident}"
            elif self.maximum and len(annotators) >= self.maximum:
                problem = f"over the project's maximum_annotations ({self.maximum})"
            if problem is None:
                annotators.add(annotation.author)
                self._judgments(ident, annotation, left)
            else:
                self._quarantine(ident, annotation_id, problem, raw)
        self.tasks.append(
            TaskSeen(
                task_id=ident,
                item_key=str(data.get("item_id") or f"ls-task-{ident}"),
                display_left=left,
                updated_at=updated,
                annotation_ids=tuple(a for a, _ in annotations),
                ground_truth=tuple(claims),
                texts=self._ranking_texts(data),
            )
        )

    def _ranking_texts(self, data: Mapping[str, Any]) -> dict[str, str] | None:
        """The prompt and option texts a ranking task shows (its ``<name>_responses`` list of
        ``{"id", "title", "body"}``); ``None`` without a ranking."""
        responses: dict[str, object] = {}
        for dimension in self.dimensions.values():
            if dimension.kind != "ranking":
                continue
            shown = data.get(ranking_list(dimension))
            for entry in shown if isinstance(shown, list) else ():
                if isinstance(entry, dict) and "id" in entry:
                    responses[str(entry["id"])] = entry.get("body")
        return ranking_texts(data.get("prompt"), responses) if responses else None

    def _dimension(self, result: dict[str, Any]) -> Dimension | None:
        return self.dimensions.get(str(result.get("from_name")))

    def _ground_truth(self, annotation: _Annotation, left: str | None) -> dict[str, Value]:
        values: dict[str, Value] = {}
        for result in annotation.results:
            dimension = self._dimension(result) if isinstance(result, dict) else None
            if dimension is None:
                continue
            try:
                values[dimension.name] = parse_result(result, dimension, left)
            except ResultError:
                continue
        return values

    def _quarantine(
        self, task: str, annotation_id: str, reason: str, raw: Mapping[str, Any]
    ) -> None:
        self.quarantined.append(
            Quarantined(task_id=task, annotation_id=annotation_id, reason=reason, raw=raw)
        )

    def _judgments(self, task: str, annotation: _Annotation, left: str | None) -> None:
        for position, result in enumerate(annotation.results, 1):
            if not isinstance(result, dict):
                reason = f"result {position} is not an object (got {json_type(result)})"
                self._quarantine(task, annotation.id, reason, {"result": result})
                continue
            dimension = self._dimension(result)
            if dimension is None:
                name = str(result.get("from_name"))
                reason = f"control {name!r} is not a dimension of rubric {self.rubric.ref}"
                self._quarantine(task, annotation.id, reason, result)
                continue
            try:
                value = parse_result(result, dimension, left)
            except ResultError as exc:
                self._quarantine(task, annotation.id, str(exc), result)
                continue
            self.judgments.append(
                PulledJudgment(
                    task_id=task,
                    annotation_id=annotation.id,
                    annotator=annotation.author,
                    dimension=dimension.name,
                    value=value,
                    submitted_at=annotation.submitted_at,
                    updated_at=annotation.updated_at,
                    lead_time_s=annotation.lead_time_s,
                )
            )

    def build(self) -> PullPage:
        return PullPage(
            tasks=tuple(self.tasks),
            judgments=tuple(self.judgments),
            quarantined=tuple(self.quarantined),
            skipped=self.skipped,
            cursor=self.cursor,
        )


def parse_tasks(
    tasks: Sequence[Any],
    rubric: Rubric,
    *,
    display_left: Mapping[str, str],
    maximum_annotations: int = 0,
    gold_authors: Collection[str] = (),
    users: Mapping[int, str],
) -> PullPage:
    """One page of tasks (with their annotations) as judgments, quarantined results, skips,
    task summaries and ground-truth claims; the cursor is the latest ``updated_at``.

    Args:
        tasks: tasks as ``GET /api/tasks/?fields=all`` or an export snapshot gives them.
        display_left: task id → the canonical response (``a``/``b``) the task showed on the
            left; a preference ``left``/``right`` is mapped back through it (``a`` if absent).
        maximum_annotations: the project's; 0 for no maximum.
        gold_authors: the users whose ground truth is a ruling, not a judgment.
        users: user id → name (:func:`user_names`); an id not in it is named by the id.

    Raises:
        PayloadError: a surprise that is an error for the page (see the module's docstring).
    """
    page = _PageBuilder(
        rubric,
        maximum_annotations=maximum_annotations,
        gold_authors=frozenset(gold_authors),
        users=users,
    )
    for task in tasks:
        page.add_task(task, display_left.get(task_id(task)))
    return page.build()
