"""Argilla payloads in, domain objects out: pure (no HTTP, no clock, no I/O).

What the adapter reads from argilla-server 2.8 (``GET /api/v1/datasets/{id}/records`` pages, with
or without ``include=responses``, and ``GET /api/v1/users``) becomes the objects of
:mod:`connector.platforms.base`. Tested offline on answers recorded from a real server
(tests/data/recorded/argilla/).

The rules:

- only ``submitted`` responses are judgments; drafts and discarded ones are counted apart, and
  are not live (their earlier judgments count as withdrawn). A response keeps its id when it goes
  back to draft and is submitted again;
- a submitted response unchanged since the watermark (``updated_at`` ≤ ``since``) is live but
  not read again;
- an answer outside the rubric (a value it does not allow, a question it does not have) is
  quarantined with record and response ids; the response's other answers go on;
- a preference ``a``/``b`` names the response shown first/second and is mapped back through the
  record's display side. Argilla has no ground truth: gold comes from the gold file.

Payload surprises are :class:`~connector.platforms.base.PayloadError`, never ``KeyError`` or
``TypeError``, naming the record (as the task) and the response (as the annotation):

- an error for the page (nothing of it is applied, the sync fails saying which record): an
  answer without a list of ``items``; a record that is not an object, has no id, no readable
  ``updated_at``, ``responses`` that are not a list, ``metadata`` that is not an object; a
  response that is not an object or has no id (it could be neither quarantined nor told apart
  from a deleted one);
- a quarantined response (kept with its ids and live, the rest of the record goes on): a
  ``status`` that is not a string, no ``user_id``, an unreadable ``inserted_at`` or
  ``updated_at``, ``values`` that are not an object.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connector.platforms.argilla.settings import (
    SettingsError,
    parse_response_value,
    ranking_field,
)
from connector.platforms.base import (
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
from connector.rubric import Rubric

__all__ = [
    "PLATFORM",
    "dataset_activity",
    "external_ids",
    "parse_records",
    "record_id",
    "record_list",
    "record_state",
    "response_user_ids",
    "submitted_response_ids",
    "user_names",
]

PLATFORM = "argilla"


def _identifier(value: Any) -> str | None:
    """An id as Argilla sends it (a UUID string), else None."""
    if isinstance(value, str) and value.strip():
        return value
    return None


def dataset_activity(dataset: Any) -> datetime | None:
    """A dataset's ``last_activity_at`` (``None`` when the server does not say: read it all)."""
    value = dataset.get("last_activity_at") if isinstance(dataset, dict) else None
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return parse_timestamp(value)
        except ValueError:
            pass
    raise PayloadError(f"last_activity_at is not a timestamp (got {value!r})", platform=PLATFORM)


def record_list(payload: Any) -> list[Any]:
    """The records of a records page (``{"items": [...], "total": N}``)."""
    items = payload.get("items") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        raise PayloadError(
            f"the answer holds no list of items (got {json_type(items)})", platform=PLATFORM
        )
    return items


def record_id(record: Any) -> str:
    """The record's id; a record that is not an object or has no id is an error for the page."""
    if not isinstance(record, dict):
        raise PayloadError(
            f"a record is not an object (got {json_type(record)})", platform=PLATFORM
        )
    ident = _identifier(record.get("id"))
    if ident is None:
        raise PayloadError(f"a record has no id (got {record.get('id')!r})", platform=PLATFORM)
    return ident


def record_state(record: Any) -> tuple[str, dict[str, Any]]:
    """The record's id and a copy of its ``metadata`` (a per-record write replaces all of it)."""
    ident = record_id(record)
    metadata = record.get("metadata")
    if metadata is None:
        return ident, {}
    if not isinstance(metadata, dict):
        raise PayloadError(
            f"metadata is not an object (got {json_type(metadata)})",
            platform=PLATFORM,
            task_id=ident,
        )
    return ident, dict(metadata)


def external_ids(records: Iterable[Any]) -> dict[str, str]:
    """The connector's opaque key (``external_id``) → record id, for records that have one."""
    found: dict[str, str] = {}
    for record in records:
        ident = record_id(record)
        key = record.get("external_id")
        if key:
            found[str(key)] = ident
    return found


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


def _responses(record: Mapping[str, Any], ident: str) -> list[tuple[str, dict[str, Any]]]:
    """The record's responses with their ids; errors for the page when one cannot be told."""
    return objects_with_ids(
        record,
        "responses",
        noun="response",
        owner_noun="record",
        identifier=_identifier,
        platform=PLATFORM,
        task_id=ident,
    )


def _live(response: Mapping[str, Any]) -> bool:
    """Submitted, or of an unreadable status (quarantined, not taken for withdrawn)."""
    status = response.get("status")
    return status == "submitted" or not isinstance(status, str)


def submitted_response_ids(records: Iterable[Any]) -> set[str]:
    """The live response ids of the records (what a reconciliation compares with the store)."""
    return {
        response_id
        for record in records
        for response_id, response in _responses(record, record_id(record))
        if _live(response)
    }


def response_user_ids(records: Iterable[Any]) -> set[str]:
    """The user ids of the records' submitted responses (what :func:`user_names` must know)."""
    found: set[str] = set()
    for record in records:
        listed = record.get("responses") if isinstance(record, dict) else None
        for response in listed if isinstance(listed, list) else []:
            if isinstance(response, dict) and response.get("status") == "submitted":
                user = _identifier(response.get("user_id"))
                if user is not None:
                    found.add(user)
    return found


def user_names(payload: Any) -> dict[str, str]:
    """User id → username, from a ``GET /api/v1/users`` answer (``{"items": [...]}``)."""
    users = payload.get("items") if isinstance(payload, dict) else None
    if not isinstance(users, list):
        raise PayloadError(
            f"the users answer holds no list of items (got {json_type(users)})", platform=PLATFORM
        )
    names: dict[str, str] = {}
    for user in users:
        ident = _identifier(user.get("id")) if isinstance(user, dict) else None
        name = user.get("username") if isinstance(user, dict) else None
        if ident is None or not isinstance(name, str) or not name:
            raise PayloadError(f"a user has no id or username (got {user!r})", platform=PLATFORM)
        names[ident] = name
    return names


@dataclass(frozen=True, slots=True, kw_only=True)
class _Response:
    """One submitted response, read: what the rules need of it."""

    id: str
    user: str
    values: Mapping[str, Any]
    submitted_at: datetime
    updated_at: datetime


def _read(record: str, ident: str, response: Mapping[str, Any]) -> _Response:
    """Raises :class:`PayloadError` for a surprise inside a submitted response (quarantined)."""

    def surprise(reason: str) -> PayloadError:
        return PayloadError(reason, platform=PLATFORM, task_id=record, annotation_id=ident)

    user = _identifier(response.get("user_id"))
    if user is None:
        raise surprise(
            f"user_id names no user (got {response.get('user_id')!r}): whose judgment is unknown"
        )
    values = response.get("values")
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise surprise(f"values is not an object (got {json_type(values)})")
    return _Response(
        id=ident,
        user=user,
        values=values,
        submitted_at=_timestamp(
            response.get("inserted_at"), "inserted_at", task_id=record, annotation_id=ident
        ),
        updated_at=_timestamp(
            response.get("updated_at"), "updated_at", task_id=record, annotation_id=ident
        ),
    )


class _PageBuilder:
    """Turns Argilla records into judgments, quarantined responses and record summaries."""

    def __init__(self, rubric: Rubric, *, since: datetime | None, users: Mapping[str, str]) -> None:
        self.rubric = rubric
        self.since = since
        self.users = users
        self.dimensions = {d.name: d for d in rubric.dimensions}
        self.judgments: list[PulledJudgment] = []
        self.quarantined: list[Quarantined] = []
        self.tasks: list[TaskSeen] = []
        self.skipped = 0

    def add_record(self, record: Any, left: str | None) -> None:
        ident, _ = record_state(record)
        updated_at = _timestamp(record.get("updated_at"), "updated_at", task_id=ident)
        responses = _responses(record, ident)
        live: list[str] = []
        for response_id, raw in responses:
            status = raw.get("status")
            if isinstance(status, str) and status != "submitted":
                self.skipped += 1
                continue
            live.append(response_id)
            try:
                if not isinstance(status, str):
                    raise PayloadError(
                        f"status is not a string (got {status!r})",
                        platform=PLATFORM,
                        task_id=ident,
                        annotation_id=response_id,
                    )
                response = _read(ident, response_id, raw)
            except PayloadError as exc:
                self.quarantined.append(
                    Quarantined(
                        task_id=ident, annotation_id=response_id, reason=exc.reason, raw=raw
                    )
                )
                continue
            if self.since is not None and response.updated_at <= self.since:
                continue  # unchanged since the watermark: the store has it
            self._judgments(ident, response, left)
        self.tasks.append(
            TaskSeen(
                task_id=ident,
                item_key=str(record.get("external_id") or f"argilla-record-{ident}"),
                display_left=left,
                updated_at=updated_at,
                annotation_ids=tuple(live),
                texts=self._ranking_texts(record),
            )
        )

    def _ranking_texts(self, record: Mapping[str, Any]) -> dict[str, str] | None:
        """The prompt and option texts a ranking record shows (fields ``response_<option>``);
        ``None`` without a ranking."""
        fields = record.get("fields")
        if not isinstance(fields, dict):
            return None
        responses = {
            str(option): fields.get(ranking_field(option))
            for dimension in self.dimensions.values()
            if dimension.kind == "ranking"
            for option in dimension.values
        }
        return ranking_texts(fields.get("prompt"), responses) if responses else None

    def _judgments(self, record: str, response: _Response, left: str | None) -> None:
        annotator = self.users.get(response.user, response.user)
        for name, answer in response.values.items():
            dimension = self.dimensions.get(name)
            raw = answer.get("value") if isinstance(answer, dict) else answer
            try:
                if dimension is None:
                    raise SettingsError(
                        f"question {name!r} is not a dimension of rubric {self.rubric.ref}"
                    )
                value = parse_response_value(raw, dimension, left)
            except SettingsError as exc:
                self.quarantined.append(
                    Quarantined(
                        task_id=record,
                        annotation_id=response.id,
                        reason=str(exc),
                        raw={"question": name, "value": raw},
                    )
                )
                continue
            self.judgments.append(
                PulledJudgment(
                    task_id=record,
                    annotation_id=response.id,
                    annotator=annotator,
                    dimension=dimension.name,
                    value=value,
                    submitted_at=response.submitted_at,
                    updated_at=response.updated_at,
                    lead_time_s=None,
                )
            )

    def build(self) -> PullPage:
        return PullPage(
            tasks=tuple(self.tasks),
            judgments=tuple(self.judgments),
            quarantined=tuple(self.quarantined),
            skipped=self.skipped,
            cursor=None,
        )


def parse_records(
    records: Sequence[Any],
    rubric: Rubric,
    *,
    since: datetime | None,
    display_left: Mapping[str, str],
    users: Mapping[str, str],
) -> PullPage:
    """One page of records (with their responses) as judgments, quarantined answers, skips and
    record summaries. The cursor is ``None``: a pull reads the whole dataset, and only its last
    page may move it (the adapter's decision).

    Args:
        records: records as ``GET /api/v1/datasets/{id}/records?include=responses`` gives them.
        since: the watermark; submitted responses updated at or before it are not read again.
        display_left: record id → the canonical response (``a``/``b``) shown first.
        users: user id → username (:func:`user_names`); an id not in it is named by the id.

    Raises:
        PayloadError: a surprise that is an error for the page (see the module's docstring).
    """
    page = _PageBuilder(rubric, since=since, users=users)
    for record in records:
        page.add_record(record, display_left.get(record_id(record)))
    return page.build()
