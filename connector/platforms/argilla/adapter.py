"""Argilla 2.x adapter: pull responses, create records, write reports back, install the webhook.

Measured facts this module relies on (argilla-server 2.8.0, see deploy/argilla/README.md):

- ``GET /api/v1/datasets/{id}/records?include=responses`` pages the database directly (offset,
  ``limit`` ≤ 1000). There is no filter on a response's ``updated_at``, and ``record.updated_at``
  does not move for most response changes; ``dataset.last_activity_at`` does. So a pull first
  checks ``last_activity_at`` (nothing new: nothing read), then reads every record and keeps a
  watermark on ``response.updated_at`` client-side.
- Only ``submitted`` responses are judgments; drafts and discarded ones are counted apart. A
  response keeps its id when it goes back to draft and is submitted again.
- Write-back: the machine-readable report goes into the dataset's free-form ``metadata``
  (``PATCH /api/v1/datasets/{id}``; the SDK model lacks it); per-record agreement into a Float
  metadata property that annotators do not see. Gold answers never go into suggestions (they
  prefill annotators' answers) or visible metadata.
- A dataset PATCH stores ``metadata`` only over a null one (a merge into stored metadata is
  answered but never flushed), and every dataset PATCH queues a job that recomputes the status of
  each record with responses (~150 s of worker time for 2,000 records × 3 responses on SQLite).
  So the report is rewritten by clearing then setting, only when it changed, and at most once per
  ``report_interval_s``.
- Webhooks are global (they fire for every dataset) and signed with Standard Webhooks; the
  server generates the secret.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.platforms.adjudication import AdjudicationTask, PulledRuling
from connector.platforms.argilla import adjudication, parse
from connector.platforms.argilla.settings import (
    agreement_property,
    check_settings,
    dataset_fields,
    dataset_questions,
)
from connector.platforms.base import (
    NewTask,
    PlatformError,
    PullPage,
    TaskAgreement,
    parse_timestamp,
)
from connector.platforms.http import JsonClient
from connector.platforms.readahead import offset_pages
from connector.rubric import Rubric

__all__ = ["WEBHOOK_EVENTS", "Argilla"]

log = logging.getLogger(__name__)

PAGE_SIZE = 500
BULK_SIZE = 500
REPORT_KEY = "iaa_connector"
WEBHOOK_EVENTS = (
    "response.created",
    "response.updated",
    "response.deleted",
    "record.deleted",
    "record.completed",
)


class Argilla:
    """The :class:`~connector.platforms.base.Platform` for Argilla 2.x (``project_id`` is the
    dataset id)."""

    name = "argilla"

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout_s: float = 30.0,
        retries: int = 3,
        report_interval_s: float = 3600.0,
    ) -> None:
        self.report_interval_s = report_interval_s
        self.client = JsonClient(
            platform=self.name,
            base_url=url,
            headers={"X-Argilla-Api-Key": api_key},
            timeout_s=timeout_s,
            retries=retries,
        )
        self._users: dict[str, str] = {}
        self._metadata: dict[str, dict[str, Any]] = {}  # record id → metadata, from the last pull
        self._live: dict[str, set[str]] = {}  # dataset id → submitted response ids, whole pull

    # -- reading ----------------------------------------------------------------------------

    def dataset(self, dataset_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.client.request("GET", f"/api/v1/datasets/{dataset_id}")
        return result

    def check_project(self, project_id: str, rubric: Rubric) -> None:
        questions = self.client.request("GET", f"/api/v1/datasets/{project_id}/questions")
        fields = self.client.request("GET", f"/api/v1/datasets/{project_id}/fields")
        check_settings(questions["items"], fields["items"], rubric, dataset=project_id)

    def _names(self, records: Sequence[Any]) -> Mapping[str, str]:
        """User id → username for the users who submitted the records' responses. The user list
        is read when one of them is not known yet (a user created since), at most once a page."""
        wanted = parse.response_user_ids(records)
        if wanted - self._users.keys():
            self._users.update(parse.user_names(self.client.request("GET", "/api/v1/users")))
            for user in wanted - self._users.keys():
                self._users[user] = user  # not listed: its id, without asking again
        return self._users

    def _records(self, dataset_id: str, *, responses: bool) -> Iterator[list[Any]]:
        """Pages of records in insertion order, the next ones read ahead while the caller works
        on this one (:func:`~connector.platforms.readahead.offset_pages`)."""
        path = f"/api/v1/datasets/{dataset_id}/records"
        include = {"include": "responses"} if responses else {}

        def fetch(offset: int) -> bytes:
            params = {"offset": offset, "limit": PAGE_SIZE, **include}
            return self.client.body("GET", path, params=params)

        def decode(body: bytes) -> list[Any]:
            payload = self.client.decode("GET", path, body, status=200)  # body() saw a 2xx
            return parse.record_list(payload)

        yield from offset_pages(fetch, decode, page_size=PAGE_SIZE)

    def pull(
        self,
        project_id: str,
        rubric: Rubric,
        *,
        since: datetime | None,
        display_left: Mapping[str, str],
        gold_authors: Collection[str] = (),
    ) -> Iterator[PullPage]:
        del gold_authors  # Argilla has no ground-truth responses: gold comes from the file
        dataset = self.dataset(project_id)
        started = (self.client.server_time or datetime.now(UTC)).astimezone(UTC)
        cursor = started - timedelta(seconds=1)  # the Date header has whole seconds
        activity = parse.dataset_activity(dataset)
        if since is not None and activity is not None and activity <= since:
            return  # nothing happened since the last pull: nothing to read
        live: set[str] = set()
        # Every pull reads the whole dataset: only its last page may move the cursor, or a sync
        # killed after page 1 would skip the rest on its next run.
        pending: PullPage | None = None
        for records in self._records(project_id, responses=True):
            page = parse.parse_records(
                records,
                rubric,
                since=since,
                display_left=display_left,
                users=self._names(records),
            )
            for record in records:
                self._remember(record)
            live.update(a for task in page.tasks for a in task.annotation_ids)
            if pending is not None:
                yield pending
            pending = page
        self._live[project_id] = live  # every record was just read
        if pending is not None:
            yield replace(pending, cursor=cursor)

    def _remember(self, record: Any) -> None:
        """Keep a record's metadata: a per-record write replaces the whole of it."""
        ident, metadata = parse.record_state(record)
        self._metadata[ident] = metadata

    def live_annotation_ids(self, project_id: str) -> set[str]:
        """Submitted response ids; those a whole read by :meth:`pull` in this run just saw,
        else read now."""
        if project_id in self._live:
            return set(self._live[project_id])
        return {
            response_id
            for records in self._records(project_id, responses=True)
            for response_id in parse.submitted_response_ids(records)
        }

    # -- writing ----------------------------------------------------------------------------

    def create_dataset(self, name: str, *, workspace_id: str, rubric: Rubric) -> str:
        """Create and publish a dataset whose fields and questions come from the rubric, with
        ``TaskDistribution(min_submitted=annotators_per_item)``; return its id."""
        dataset = self.client.request(
            "POST",
            "/api/v1/datasets",
            json={
                "name": name,
                "workspace_id": workspace_id,
                "guidelines": rubric.guidelines or None,
                "allow_extra_metadata": False,
                "distribution": {
                    "strategy": "overlap",
                    "min_submitted": rubric.calibration.annotators_per_item,
                },
            },
        )
        dataset_id = str(dataset["id"])
        for field in dataset_fields(rubric):
            self.client.request("POST", f"/api/v1/datasets/{dataset_id}/fields", json=field)
        for question in dataset_questions(rubric):
            self.client.request("POST", f"/api/v1/datasets/{dataset_id}/questions", json=question)
        self.client.request("PUT", f"/api/v1/datasets/{dataset_id}/publish")
        return dataset_id

    def _external_ids(self, project_id: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for records in self._records(project_id, responses=False):
            found.update(parse.external_ids(records))
        return found

    def create_tasks(
        self, project_id: str, tasks: Sequence[NewTask], *, created_after: datetime
    ) -> dict[str, str]:
        """Create the records whose key (``external_id``) is not in the dataset yet; return
        key → record id for all. Idempotent: a crashed push resumes without duplicates."""
        existing = self._external_ids(project_id)
        missing = [t for t in tasks if t.key not in existing]
        for start in range(0, len(missing), BULK_SIZE):
            chunk = missing[start : start + BULK_SIZE]
            self.client.request(
                "POST",
                f"/api/v1/datasets/{project_id}/records/bulk",
                json={
                    "items": [{"external_id": t.key, "fields": _record_fields(t)} for t in chunk]
                },
            )
        if missing:
            existing = self._external_ids(project_id)
        absent = [t.key for t in tasks if t.key not in existing]
        if absent:
            raise PlatformError(
                f"{len(absent)} record(s) were created but not found afterwards "
                f"(first key {absent[0]})",
                platform=self.name,
                url=self.client.base_url,
            )
        return {t.key: existing[t.key] for t in tasks}

    def _ensure_agreement_properties(self, project_id: str, dimensions: Sequence[str]) -> None:
        """One hidden Float property per dimension (annotators never see them)."""
        path = f"/api/v1/datasets/{project_id}/metadata-properties"
        found = self.client.request("GET", f"/api/v1/me/datasets/{project_id}/metadata-properties")
        have = {p.get("name") for p in found.get("items", [])}
        for dimension in dimensions:
            name = agreement_property(dimension)
            if name in have:
                continue
            self.client.request(
                "POST",
                path,
                json={
                    "name": name,
                    "title": f"Inter-annotator agreement: {dimension}",
                    "settings": {"type": "float", "min": 0.0, "max": 1.0},
                    "visible_for_annotators": False,
                },
            )

    def write_report(
        self,
        project_id: str,
        *,
        summary: str,
        tasks: Sequence[TaskAgreement],
        column: bool,
        report: Mapping[str, Any] | None = None,
    ) -> None:
        """Report into the dataset metadata; per-record agreement into a hidden property.

        The dataset's report is written only when it changed, and then at most once per
        ``report_interval_s`` after the dataset's last update (the first report at once): every
        dataset PATCH makes argilla-server queue a job that recomputes the status of every
        record with responses, one transaction each (~150 s of worker time for 6,000 responses
        on SQLite), and a rewrite takes two PATCHes (see below). The per-record agreement is
        written on every call.
        """
        dataset = self.dataset(project_id)
        metadata = dict(dataset.get("metadata") or {})
        fresh = {"summary": summary, "report": _compact(report or {})}
        stored = metadata.get(REPORT_KEY)
        if _content(stored) != _content(fresh):
            wait = self._report_wait_s(dataset) if stored is not None else 0.0
            if wait > 0:
                log.info(
                    "argilla dataset %s: report changed; written in %.0f s at the earliest "
                    "(dataset_report_interval_minutes)",
                    project_id,
                    wait,
                )
            else:
                metadata[REPORT_KEY] = fresh
                path = f"/api/v1/datasets/{project_id}"
                if dataset.get("metadata"):
                    # argilla-server 2.8 merges a PATCHed metadata into the stored dict and
                    # never flushes the change (the answer shows it; a GET does not): only
                    # metadata that is null is stored. So clear it, then set it.
                    self.client.request("PATCH", path, json={"metadata": None})
                self.client.request("PATCH", path, json={"metadata": metadata})
        if not tasks:
            return
        dimensions = sorted({name for t in tasks for name in t.agreement})
        self._ensure_agreement_properties(project_id, dimensions)
        if any(t.task_id not in self._metadata for t in tasks):
            # a pull that found nothing new read no records: learn their metadata first, or
            # the write below would erase the rest of it
            for records in self._records(project_id, responses=False):
                for record in records:
                    self._remember(record)
        for start in range(0, len(tasks), BULK_SIZE):
            chunk = tasks[start : start + BULK_SIZE]
            items = []
            for agreement in chunk:
                record_metadata = dict(self._metadata.get(agreement.task_id, {}))
                for dimension, value in agreement.agreement.items():
                    if value is None:
                        record_metadata.pop(agreement_property(dimension), None)
                    else:
                        record_metadata[agreement_property(dimension)] = value
                items.append({"id": agreement.task_id, "metadata": record_metadata})
            self.client.request(
                "PUT", f"/api/v1/datasets/{project_id}/records/bulk", json={"items": items}
            )

    def _report_wait_s(self, dataset: Mapping[str, Any]) -> float:
        """Seconds until the dataset's report may be rewritten (0: now)."""
        updated = dataset.get("updated_at")
        if not updated or self.report_interval_s <= 0:
            return 0.0
        now = (self.client.server_time or datetime.now(UTC)).astimezone(UTC)
        elapsed = (now - parse_timestamp(str(updated))).total_seconds()
        return max(0.0, self.report_interval_s - elapsed)

    def install_webhook(self, project_id: str, *, url: str, secret: str) -> str | None:
        """Register (or update) the server-wide webhook; returns the secret Argilla generated
        for a new one (``None`` when an existing webhook was updated: its secret is unchanged).
        ``secret`` is unused: Argilla makes its own."""
        del secret
        hooks = self.client.request("GET", "/api/v1/webhooks")
        body = {"url": url, "events": list(WEBHOOK_EVENTS), "enabled": True}
        for hook in hooks.get("items", []):
            if hook.get("url") == url:
                self.client.request("PATCH", f"/api/v1/webhooks/{hook['id']}", json=body)
                return None
        created = self.client.request(
            "POST",
            "/api/v1/webhooks",
            json={**body, "description": f"iaa-connector (dataset {project_id} and others)"},
        )
        return str(created["secret"])

    # -- adjudication dataset (connector/platforms/argilla/adjudication.py) -----------------

    def prepare_adjudication_project(self, project_id: str, rubric: Rubric) -> None:
        """Give a draft dataset the adjudication fields and questions and publish it; check
        a published one."""
        dataset = self.dataset(project_id)
        base = f"/api/v1/datasets/{project_id}"
        if dataset.get("status") == "draft":
            fields = self.client.request("GET", f"{base}/fields").get("items", [])
            have = {f.get("name") for f in fields}
            for field in adjudication.adjudication_fields(rubric):
                if field["name"] not in have:
                    self.client.request("POST", f"{base}/fields", json=field)
            questions = self.client.request("GET", f"{base}/questions").get("items", [])
            asked = {q.get("name") for q in questions}
            for question in adjudication.adjudication_questions(rubric):
                if question["name"] not in asked:
                    self.client.request("POST", f"{base}/questions", json=question)
            self.client.request("PUT", f"{base}/publish")
        questions = self.client.request("GET", f"{base}/questions").get("items", [])
        adjudication.check_adjudication_settings(questions, rubric, dataset=project_id)

    def create_adjudication_tasks(
        self, project_id: str, rubric: Rubric, tasks: Sequence[AdjudicationTask]
    ) -> dict[str, str]:
        """Create the adjudication records whose key (``external_id``) is not in the dataset;
        key → record id for all."""
        existing = self._external_ids(project_id)
        missing = [t for t in tasks if t.key not in existing]
        for start in range(0, len(missing), BULK_SIZE):
            chunk = missing[start : start + BULK_SIZE]
            self.client.request(
                "POST",
                f"/api/v1/datasets/{project_id}/records/bulk",
                json={
                    "items": [
                        {
                            "external_id": t.key,
                            "fields": adjudication.adjudication_record_fields(t, rubric),
                        }
                        for t in chunk
                    ]
                },
            )
        if missing:
            existing = self._external_ids(project_id)
        absent = [t.key for t in tasks if t.key not in existing]
        if absent:
            raise PlatformError(
                f"{len(absent)} adjudication record(s) were created but not found afterwards "
                f"(first key {absent[0]})",
                platform=self.name,
                url=self.client.base_url,
            )
        return {t.key: existing[t.key] for t in tasks}

    def pull_rulings(self, project_id: str, rubric: Rubric) -> list[PulledRuling]:
        """Every submitted response on the adjudication dataset's records."""
        found: list[PulledRuling] = []
        for records in self._records(project_id, responses=True):
            found += adjudication.parse_rulings(records, rubric, users=self._names(records))
        return found


def _record_fields(task: NewTask) -> dict[str, str]:
    """What annotators see: prompt and responses in display order. Never the answer."""
    if task.response_b is None:
        return {"prompt": task.prompt, "response": task.response_a}
    first, second = task.response_a, task.response_b
    if task.display_left == "b":
        first, second = second, first
    return {"prompt": task.prompt, "response_a": first, "response_b": second}


def _compact(report: Mapping[str, Any]) -> dict[str, Any]:
    """The report's summary and per-dimension figures. The sync hands in the public report
    (:func:`connector.report.public.public_report`); nothing per annotator is kept even if a
    full report is given, because every member of the workspace can read dataset metadata."""
    return {
        key: report[key]
        for key in ("schema", "generated_at", "rubric", "summary", "dimensions")
        if key in report
    }


def _content(stored: Any) -> Any:
    """A stored report without its timestamps (the summary's first line carries one)."""
    if not isinstance(stored, dict):
        return stored
    report = {k: v for k, v in (stored.get("report") or {}).items() if k != "generated_at"}
    summary = str(stored.get("summary", "")).split("\n", 1)[-1]
    return {"summary": summary, "report": report}
