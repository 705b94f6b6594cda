"""Label Studio Community adapter: pull, create tasks, write reports back, install the webhook.

Measured facts this module relies on (Label Studio 1.23.2, see deploy/label-studio/README.md):

- Incremental pull: ``GET /api/tasks/?project=&fields=all`` with a ``query`` filter on
  ``tasks:updated_at`` (``greater``, timestamp ``%Y-%m-%dT%H:%M:%S.%fZ``) ordered by it. A task's
  ``updated_at`` moves when an annotation is created, updated or deleted, and when its meta or
  data is patched. Pages are read by keyset, not by page number, so tasks updated while we read
  cannot shift a page and be missed. The Data Manager orders by one column only and returns ties
  in no defined order, and one bulk update stamps many tasks with one instant: so the keyset is
  the pair (``updated_at``, ``id``), an instant that may go on past a page being read apart by
  id (filters ``equal`` on the instant and ``greater`` on ``filter:tasks:id``, ordered by id).
- The server validates neither results against the config, nor ``maximum_annotations``, nor one
  annotation per user per task: this adapter does, and quarantines what does not fit.
- Imported annotations default to ``ground_truth: true``, and any member may mark an annotation
  as ground truth: a ground-truth annotation is a gold claim (judged by
  :func:`connector.calibration.gold.judge_claims`), and it is a judgment too unless its author
  is a gold author. Cancelled (skipped) annotations are counted, never judgments.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.platforms.adjudication import AdjudicationTask, PulledRuling
from connector.platforms.base import (
    NewTask,
    PayloadError,
    PlatformError,
    PullPage,
    TaskAgreement,
)
from connector.platforms.http import JsonClient
from connector.platforms.label_studio import adjudication, parse
from connector.platforms.label_studio.auth import LabelStudioAuth
from connector.platforms.label_studio.labelconfig import LabelConfigError, check_label_config
from connector.rubric import Rubric

__all__ = ["BEGIN", "END", "LabelStudio", "merge_description"]

# Plain-text markers: Label Studio shows a description as text (HTML comments showed literally).
BEGIN = "――― agreement (iaa-connector) ―――"
END = "――― end of agreement ―――"
_LEGACY_MARKERS = (("<!-- iaa-connector:begin -->", "<!-- iaa-connector:end -->"),)
PAGE_SIZE = 500
SNAPSHOT_TIMEOUT_S = 1800.0
SNAPSHOT_TITLE = "iaa-connector full sync"
WRITE_WORKERS = 4  # concurrent task PATCHes: ~1.4× faster than one at a time on 1.23.2
WEBHOOK_ACTIONS = (
    "ANNOTATION_CREATED",
    "ANNOTATION_UPDATED",
    "ANNOTATIONS_DELETED",
    "TASKS_DELETED",
)
SECRET_HEADER = "X-IAA-Webhook-Secret"
_TIMESTAMP = "%Y-%m-%dT%H:%M:%S.%fZ"


def _format(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_TIMESTAMP)  # "+00:00" gives HTTP 500


def merge_description(description: str, summary: str) -> str:
    """Replace the connector-owned section of a description, leaving the rest untouched.

    The section is rewritten whole on every write, so an edit inside it (members may edit the
    description) is undone; a section whose end marker was deleted runs to the end of the text,
    and one written with the old HTML-comment markers is replaced. The summary is HTML-escaped
    so nothing in it can close the section or inject markup.
    """
    section = f"{BEGIN}\n{html.escape(summary, quote=False)}\n{END}"
    for begin, end in ((BEGIN, END), *_LEGACY_MARKERS):
        start = description.find(begin)
        if start == -1:
            continue
        stop = description.find(end, start)
        tail = description[stop + len(end) :] if stop != -1 else ""
        return description[:start] + section + tail
    separator = "\n\n" if description.strip() else ""
    return description.rstrip() + separator + section


class LabelStudio:
    """The :class:`~connector.platforms.base.Platform` for Label Studio Community."""

    name = "label-studio"

    def __init__(self, url: str, token: str, *, timeout_s: float = 30.0, retries: int = 3) -> None:
        # a legacy token is sent as it is; a Personal Access Token is exchanged for access tokens
        auth = LabelStudioAuth(token, base_url=url, timeout_s=timeout_s)
        self.client = JsonClient(
            platform=self.name,
            base_url=url,
            headers={},
            timeout_s=timeout_s,
            retries=retries,
            auth=auth,
        )
        self._users: dict[int, str] = {}
        self._projects: dict[str, tuple[float, dict[str, Any]]] = {}
        # meta and data of tasks read by the last pull, so write-back needs no extra GET
        self._seen: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}

    # -- reading ----------------------------------------------------------------------------

    def project(self, project_id: str, *, max_age_s: float = 30.0) -> dict[str, Any]:
        """The project's settings, re-read when the cached copy is older than ``max_age_s``."""
        cached = self._projects.get(project_id)
        if cached is not None and time.monotonic() - cached[0] <= max_age_s:
            return cached[1]
        result: dict[str, Any] = self.client.request("GET", f"/api/projects/{project_id}/")
        self._projects[project_id] = (time.monotonic(), result)
        return result

    def check_project(self, project_id: str, rubric: Rubric) -> None:
        config = self.project(project_id, max_age_s=0).get("label_config")
        if not isinstance(config, str):
            raise PayloadError(f"project {project_id} has no label_config", platform=self.name)
        check_label_config(config, rubric, project=project_id)

    def _names(self, tasks: Sequence[Any]) -> Mapping[int, str]:
        """User id → name for the users the tasks' annotations name. The user list is read
        when one of them is not known yet (a user created since), at most once per page."""
        wanted = parse.completed_by_ids(tasks)
        if wanted - self._users.keys():
            self._users.update(parse.user_names(self.client.request("GET", "/api/users/")))
            for user in wanted - self._users.keys():
                self._users[user] = str(user)  # not listed: its id, without asking again
        return self._users

    def _tasks(self, project_id: str, query: Mapping[str, Any], *, fields: str) -> list[Any]:
        payload = self.client.request(
            "GET",
            "/api/tasks/",
            params={
                "project": project_id,
                "fields": fields,
                "page": 1,
                "page_size": PAGE_SIZE,
                "query": json.dumps(query),
            },
        )
        return parse.task_list(payload)

    def _keyset(
        self, project_id: str, field: str, after: datetime | None, *, fields: str
    ) -> Iterator[tuple[list[Any], datetime | None]]:
        """Pages of tasks ordered by ``field`` (``updated_at`` or ``created_at``), each with the
        instant up to which every task is now read (``None``: not yet), by keyset on the pair
        (``field``, ``id``): any number of tasks sharing one instant is read exactly once.

        The Data Manager orders by its first ordering column only and returns tasks that tie on
        it in no defined order, so one query cannot page on the pair. A page is asked for tasks
        after the last instant fully read; when it is full, its last instant may go on past it,
        so that instant is read apart, by id (``field`` equal to it, ``id`` greater than the last
        one read, ordered by id), before moving past it. Tasks changed while we read move to the
        end instead of shifting a page and being skipped.
        """
        while True:
            tasks = self._tasks(project_id, _after(field, after), fields=fields)
            if len(tasks) < PAGE_SIZE:
                if tasks:
                    yield tasks, max(parse.task_moment(t, field) for t in tasks)
                return
            last = max(parse.task_moment(t, field) for t in tasks)
            if after is not None and last <= after:
                raise self._stuck(f"{field} {_format(after)}")
            head = [t for t in tasks if parse.task_moment(t, field) < last]
            if head:  # everything before the page's last instant is read
                yield head, max(parse.task_moment(t, field) for t in head)
            yield from self._instant(project_id, field, last, fields=fields)
            after = last

    def _instant(
        self, project_id: str, field: str, moment: datetime, *, fields: str
    ) -> Iterator[tuple[list[Any], datetime | None]]:
        """The tasks whose ``field`` is ``moment``, by id keyset; the last page carries
        ``moment`` (the instant is read), the others ``None``."""
        last_id: int | None = None
        while True:
            tasks = self._tasks(project_id, _at(field, moment, last_id), fields=fields)
            done = len(tasks) < PAGE_SIZE
            if tasks or done:
                yield tasks, moment if done else None
            if done:
                return
            top = max(parse.task_number(t) for t in tasks)
            if last_id is not None and top <= last_id:
                raise self._stuck(f"id {last_id} at {field} {_format(moment)}")
            last_id = top

    def _stuck(self, where: str) -> PlatformError:
        return _StuckKeysetError(
            f"GET /api/tasks/ did not move past {where}: the server ignored the keyset filter",
            platform=self.name,
            url=self.client.base_url,
        )

    def _changed_since(
        self, project_id: str, since: datetime | None
    ) -> Iterator[tuple[list[Any], datetime | None]]:
        """Pages of tasks (with annotations) changed after ``since``, oldest change first."""
        return self._keyset(project_id, "updated_at", since, fields="all")

    def _snapshot(self, project_id: str) -> tuple[list[Any], datetime]:
        """Every annotated task, through an export snapshot that is deleted afterwards.

        Reading a whole project this way is about 2.5× faster than paging the tasks API with
        annotations, and unlike the synchronous export it leaves no file behind. Returns the
        tasks and the server time just before the snapshot started: anything changed after it
        is newer than that cursor.
        """
        self.project(project_id, max_age_s=0)
        started = self.client.server_time or datetime.now(UTC)
        base = f"/api/projects/{project_id}/exports"
        self._delete_stale_snapshots(base)
        export = self.client.request(
            "POST",
            f"{base}/",
            json={
                "title": SNAPSHOT_TITLE,
                "task_filter_options": {"only_with_annotations": True},
                "annotation_filter_options": {"usual": True, "ground_truth": True, "skipped": True},
            },
        )
        pk = export.get("id") if isinstance(export, dict) else None
        if pk is None:
            raise PayloadError(
                f"POST {base}/ answered without the new snapshot's id", platform=self.name
            )
        try:
            status = export.get("status")
            deadline = time.monotonic() + SNAPSHOT_TIMEOUT_S
            while status not in ("completed", "failed"):
                if time.monotonic() > deadline:
                    raise PlatformError(
                        f"export snapshot {pk} still {status!r} after {SNAPSHOT_TIMEOUT_S:.0f} s",
                        platform=self.name,
                        url=self.client.base_url,
                    )
                time.sleep(0.5)
                status = self.client.request("GET", f"{base}/{pk}").get("status")
            if status == "failed":
                raise PlatformError(
                    f"export snapshot {pk} failed", platform=self.name, url=self.client.base_url
                )
            tasks = self.client.request(
                "GET", f"{base}/{pk}/download", params={"exportType": "JSON"}
            )
        finally:
            self.client.request("DELETE", f"{base}/{pk}")
        # The Date header has whole seconds: step back one so nothing started in it is skipped.
        return parse.task_list(tasks), started.astimezone(UTC) - timedelta(seconds=1)

    def _delete_stale_snapshots(self, base: str) -> None:
        """Delete snapshots a killed sync left behind: each is a full annotation dump that any
        project member can download. (Only one sync of a project runs at a time: the lock.)"""
        exports = self.client.request("GET", f"{base}/")
        for export in exports if isinstance(exports, list) else []:
            stale = isinstance(export, dict) and export.get("title") == SNAPSHOT_TITLE
            if stale and export.get("id") is not None:
                self.client.request("DELETE", f"{base}/{export['id']}")

    def pull(
        self,
        project_id: str,
        rubric: Rubric,
        *,
        since: datetime | None,
        display_left: Mapping[str, str],
        gold_authors: Collection[str] = (),
    ) -> Iterator[PullPage]:
        project = self.project(project_id)
        maximum = int(project.get("maximum_annotations") or 0)
        authors = frozenset(gold_authors)
        if since is None:
            tasks, started = self._snapshot(project_id)
            # Only the last page may carry the snapshot's time as the cursor: a sync killed
            # after page 1 must not look, on its next run, as if the whole snapshot were stored.
            starts = range(0, len(tasks), PAGE_SIZE)
            for start in starts:
                page = self._page(
                    tasks[start : start + PAGE_SIZE], rubric, display_left, maximum, authors
                )
                yield replace(page, cursor=started if start == starts[-1] else None)
            if not tasks:
                yield PullPage(tasks=(), judgments=(), quarantined=(), skipped=0, cursor=started)
            return
        for tasks, read_to in self._changed_since(project_id, since):
            page = self._page(tasks, rubric, display_left, maximum, authors)
            # the cursor moves only to an instant whose every task is read
            yield replace(page, cursor=read_to)

    def _page(
        self,
        tasks: Sequence[Any],
        rubric: Rubric,
        display_left: Mapping[str, str],
        maximum: int,
        gold_authors: frozenset[str],
    ) -> PullPage:
        page = parse.parse_tasks(
            tasks,
            rubric,
            display_left=display_left,
            maximum_annotations=maximum,
            gold_authors=gold_authors,
            users=self._names(tasks),
        )
        for task in tasks:
            ident, meta, data = parse.task_state(task)
            self._seen[ident] = (meta, data)
        return page

    def live_annotation_ids(self, project_id: str) -> set[str]:
        tasks, _ = self._snapshot(project_id)
        return parse.annotation_ids(tasks)

    # -- writing ----------------------------------------------------------------------------

    def _keys_created_after(self, project_id: str, moment: datetime) -> dict[str, str]:
        found: dict[str, str] = {}
        for tasks, _ in self._keyset(project_id, "created_at", moment, fields="task_only"):
            found.update(parse.task_keys(tasks))
        return found

    def create_tasks(
        self, project_id: str, tasks: Sequence[NewTask], *, created_after: datetime
    ) -> dict[str, str]:
        """Create the tasks whose key is not already in the project; return key → task id.

        Idempotent: tasks created after ``created_after`` (the batch's creation) are matched by
        their opaque key first, so a push that crashed half-way resumes without duplicates.
        """
        existing = self._keys_created_after(project_id, created_after)
        missing = [t for t in tasks if t.key not in existing]
        if missing:
            payload = [{"data": _task_data(t)} for t in missing]
            self.client.request("POST", f"/api/projects/{project_id}/import", json=payload)
            existing = self._keys_created_after(project_id, created_after)
        absent = [t.key for t in tasks if t.key not in existing]
        if absent:
            raise PlatformError(
                f"{len(absent)} task(s) were imported but not found afterwards "
                f"(first key {absent[0]})",
                platform=self.name,
                url=self.client.base_url,
            )
        return {t.key: existing[t.key] for t in tasks}

    def write_report(
        self,
        project_id: str,
        *,
        summary: str,
        tasks: Sequence[TaskAgreement],
        column: bool,
        report: Mapping[str, Any] | None = None,
    ) -> None:
        """Summary into the project description, agreement into task meta (``report`` unused:
        Label Studio has no place for a machine-readable report; it is on disk)."""
        project = self.project(project_id, max_age_s=0)  # fresh: someone may edit it
        description = merge_description(project.get("description") or "", summary)
        if description != (project.get("description") or ""):
            self.client.request(
                "PATCH", f"/api/projects/{project_id}/", json={"description": description}
            )
        with ThreadPoolExecutor(max_workers=WRITE_WORKERS) as pool:
            list(pool.map(lambda agreement: self._write_task(agreement, column), tasks))

    def _write_task(self, agreement: TaskAgreement, column: bool) -> None:
        cached = self._seen.get(agreement.task_id)
        if cached is None:
            task = self.client.request("GET", f"/api/tasks/{agreement.task_id}/")
            _, meta, data = parse.task_state(task)
            cached = (meta, data)
        meta, data = dict(cached[0]), dict(cached[1])
        # one figure per dimension: {"agreement": {"overall": 0.67, ...}, "n_judgments": {...}}
        meta["iaa"] = {
            "agreement": dict(agreement.agreement),
            "n_judgments": dict(agreement.n_judgments),
        }
        body: dict[str, Any] = {"meta": meta}
        if column:  # sortable Data Manager columns, one per dimension
            for dimension, value in agreement.agreement.items():
                data[f"iaa_agreement_{dimension}"] = value
            body["data"] = data
        self.client.request("PATCH", f"/api/tasks/{agreement.task_id}/", json=body)

    def install_webhook(self, project_id: str, *, url: str, secret: str) -> str | None:
        hooks = self.client.request("GET", "/api/webhooks/", params={"project": project_id})
        body = {
            "project": int(project_id),
            "url": url,
            "send_payload": True,
            "send_for_all_actions": False,
            "headers": {SECRET_HEADER: secret},
            "is_active": True,
            "actions": list(WEBHOOK_ACTIONS),  # a PATCH without actions silently empties them
        }
        for hook in hooks or []:
            if hook.get("url") == url:
                self.client.request("PATCH", f"/api/webhooks/{hook['id']}/", json=body)
                return None
        self.client.request("POST", "/api/webhooks/", json=body)
        return None

    # -- adjudication project (connector/platforms/label_studio/adjudication.py) ------------

    def prepare_adjudication_project(self, project_id: str, rubric: Rubric) -> None:
        """Set the adjudication form on a project without tasks; check it on one with tasks."""
        project = self.project(project_id, max_age_s=0)
        config = project.get("label_config")
        try:
            adjudication.check_adjudication_config(str(config or ""), rubric, project=project_id)
        except LabelConfigError:
            if int(project.get("task_number") or 0) > 0:
                raise
            self.client.request(
                "PATCH",
                f"/api/projects/{project_id}/",
                json={"label_config": adjudication.adjudication_label_config(rubric)},
            )
            self._projects.pop(project_id, None)

    def create_adjudication_tasks(
        self, project_id: str, rubric: Rubric, tasks: Sequence[AdjudicationTask]
    ) -> dict[str, str]:
        """Create the adjudication tasks whose key is not in the project; key → task id."""
        del rubric  # the form holds every dimension; the task data names the one asked
        existing = self._all_keys(project_id)
        missing = [t for t in tasks if t.key not in existing]
        if missing:
            payload = [{"data": adjudication.adjudication_task_data(t)} for t in missing]
            self.client.request("POST", f"/api/projects/{project_id}/import", json=payload)
            existing = self._all_keys(project_id)
        absent = [t.key for t in tasks if t.key not in existing]
        if absent:
            raise PlatformError(
                f"{len(absent)} adjudication task(s) were imported but not found afterwards "
                f"(first key {absent[0]})",
                platform=self.name,
                url=self.client.base_url,
            )
        return {t.key: existing[t.key] for t in tasks}

    def _all_keys(self, project_id: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for tasks, _ in self._keyset(project_id, "created_at", None, fields="task_only"):
            found.update(parse.task_keys(tasks))
        return found

    def pull_rulings(self, project_id: str, rubric: Rubric) -> list[PulledRuling]:
        """Every answer on the adjudication project's tasks (cancelled ones left out)."""
        found: list[PulledRuling] = []
        for tasks, _ in self._keyset(project_id, "updated_at", None, fields="all"):
            found += adjudication.parse_rulings(tasks, rubric, users=self._names(tasks))
        return found


class _StuckKeysetError(PlatformError):
    """The server answered a keyset query with what was already read: asking again cannot help."""

    @property
    def transient(self) -> bool:
        return False


def _after(field: str, moment: datetime | None) -> dict[str, Any]:
    """The Data Manager query for tasks whose ``field`` is after ``moment``, ordered by it."""
    items = [] if moment is None else [_datetime_filter(field, "greater", moment)]
    return {"filters": {"conjunction": "and", "items": items}, "ordering": [f"tasks:{field}"]}


def _at(field: str, moment: datetime, after_id: int | None) -> dict[str, Any]:
    """The query for tasks whose ``field`` is ``moment`` and id above ``after_id``, by id."""
    items = [_datetime_filter(field, "equal", moment)]
    if after_id is not None:
        items.append(
            {
                "filter": "filter:tasks:id",
                "operator": "greater",
                "type": "Number",
                "value": after_id,
            }
        )
    return {"filters": {"conjunction": "and", "items": items}, "ordering": ["tasks:id"]}


def _datetime_filter(field: str, operator: str, moment: datetime) -> dict[str, Any]:
    return {
        "filter": f"filter:tasks:{field}",
        "operator": operator,
        "type": "Datetime",
        "value": _format(moment),
    }


def _task_data(task: NewTask) -> dict[str, Any]:
    """What annotators see: opaque key, prompt, responses in display order. Never the answer."""
    if task.response_b is None:
        return {"key": task.key, "prompt": task.prompt, "response": task.response_a}
    left, right = (task.response_a, task.response_b)
    if task.display_left == "b":
        left, right = right, left
    return {"key": task.key, "prompt": task.prompt, "response_left": left, "response_right": right}
