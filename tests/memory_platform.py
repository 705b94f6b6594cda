"""An in-memory :class:`~connector.platforms.base.Platform` that fails on demand.

It injects what a real server cannot produce when asked: a page that breaks half-way through a
pull, a write-back that fails, a payload surprise. The real-server tests stay the proof that the
adapters speak to Label Studio and Argilla; this one drives :func:`connector.sync.sync_project`
through its failure paths in milliseconds.

    platform = MemoryPlatform(page_size=2)
    platform.annotate("t1", "i1", annotator="ann@x", value="a")
    platform.fail_pull_on_page[2] = PlatformError("gone", platform="memory")

A value is the answer on ``overall``; a mapping answers several dimensions at once
(``value={"overall": "a", "strength": 2}``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.platforms.base import (
    GroundTruth,
    NewTask,
    PulledJudgment,
    PullPage,
    TaskAgreement,
    TaskSeen,
)
from connector.rubric import Rubric, Value

__all__ = ["MemoryPlatform", "MemoryTask"]

EPOCH = datetime(2026, 12, 1, tzinfo=UTC)


@dataclass
class MemoryAnnotation:
    annotation_id: str
    annotator: str
    value: Value | Mapping[str, Value]
    updated_at: datetime
    ground_truth: bool = False

    @property
    def values(self) -> dict[str, Value]:
        """The answers by dimension (a plain value answers ``overall``)."""
        if isinstance(self.value, Mapping):
            return dict(self.value)
        return {"overall": self.value}


@dataclass
class MemoryTask:
    task_id: str
    item_key: str
    updated_at: datetime
    annotations: list[MemoryAnnotation] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


class MemoryPlatform:
    """Tasks and annotations in a dict; a clock that moves one second per change."""

    name = "memory"

    def __init__(self, *, page_size: int = 100) -> None:
        self.page_size = page_size
        self.tasks: dict[str, MemoryTask] = {}
        self.clock = EPOCH
        self.next_annotation = 1
        self.description = ""
        self.reports: list[Mapping[str, Any]] = []
        self.fail_pull_on_page: dict[int, BaseException] = {}
        self.fail_write_report: BaseException | None = None
        self.pulls = 0

    # -- driving it --------------------------------------------------------------------------

    def tick(self) -> datetime:
        self.clock += timedelta(seconds=1)
        return self.clock

    def annotate(
        self,
        task_id: str,
        item_key: str,
        *,
        annotator: str,
        value: Value | Mapping[str, Value],
        ground_truth: bool = False,
    ) -> str:
        now = self.tick()
        task = self.tasks.setdefault(task_id, MemoryTask(task_id, item_key, now))
        annotation_id = str(self.next_annotation)
        self.next_annotation += 1
        task.annotations.append(
            MemoryAnnotation(annotation_id, annotator, value, now, ground_truth=ground_truth)
        )
        task.updated_at = now
        return annotation_id

    # -- the Platform protocol ---------------------------------------------------------------

    def check_project(self, project_id: str, rubric: Rubric) -> None:
        del project_id, rubric

    def pull(
        self,
        project_id: str,
        rubric: Rubric,
        *,
        since: datetime | None,
        display_left: Mapping[str, str],
        gold_authors: Collection[str] = (),
    ) -> Iterator[PullPage]:
        del project_id, rubric
        self.pulls += 1
        changed = sorted(
            (t for t in self.tasks.values() if since is None or t.updated_at > since),
            key=lambda t: (t.updated_at, t.task_id),
        )
        for number, start in enumerate(range(0, len(changed), self.page_size), start=1):
            if number in self.fail_pull_on_page:
                raise self.fail_pull_on_page.pop(number)
            tasks = changed[start : start + self.page_size]
            judgments, seen = [], []
            for task in tasks:
                claims = []
                for a in task.annotations:
                    if a.ground_truth:
                        claims.append(
                            GroundTruth(
                                annotation_id=a.annotation_id,
                                author=a.annotator,
                                values=a.values,
                                updated_at=a.updated_at,
                            )
                        )
                        if a.annotator in gold_authors:
                            continue
                    judgments.extend(
                        PulledJudgment(
                            task_id=task.task_id,
                            annotation_id=a.annotation_id,
                            annotator=a.annotator,
                            dimension=dimension,
                            value=value,
                            submitted_at=a.updated_at,
                            updated_at=a.updated_at,
                            lead_time_s=5.0,
                        )
                        for dimension, value in a.values.items()
                    )
                seen.append(
                    TaskSeen(
                        task_id=task.task_id,
                        item_key=task.item_key,
                        display_left=display_left.get(task.task_id),
                        updated_at=task.updated_at,
                        annotation_ids=tuple(a.annotation_id for a in task.annotations),
                        ground_truth=tuple(claims),
                    )
                )
            yield PullPage(
                tasks=tuple(seen),
                judgments=tuple(judgments),
                quarantined=(),
                skipped=0,
                cursor=max(t.updated_at for t in tasks),
            )

    def live_annotation_ids(self, project_id: str) -> set[str]:
        del project_id
        return {a.annotation_id for t in self.tasks.values() for a in t.annotations}

    def create_tasks(
        self, project_id: str, tasks: Sequence[NewTask], *, created_after: datetime
    ) -> dict[str, str]:
        del project_id, created_after
        ids = {}
        for task in tasks:
            task_id = f"k-{task.key}"
            self.tasks.setdefault(task_id, MemoryTask(task_id, task.key, self.tick()))
            ids[task.key] = task_id
        return ids

    def write_report(
        self,
        project_id: str,
        *,
        summary: str,
        tasks: Sequence[TaskAgreement],
        column: bool,
        report: Mapping[str, Any] | None = None,
    ) -> None:
        del project_id, column
        if self.fail_write_report is not None:
            raise self.fail_write_report
        self.description = summary
        self.reports.append(report or {})
        for agreement in tasks:
            self.tasks[agreement.task_id].meta["iaa"] = dict(agreement.agreement)

    def install_webhook(self, project_id: str, *, url: str, secret: str) -> str | None:
        del project_id, url, secret
        return None
