"""An in-memory adjudication project (:class:`~connector.platforms.adjudication.AdjudicationDesk`)
beside :class:`memory_platform.MemoryPlatform`: tasks by key, answers a test writes.

The real-server tests (test_adjudication_labelstudio.py, test_adjudication_argilla.py) prove
the adapters; this one drives the queue and pull decisions in milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from connector.platforms.adjudication import AdjudicationTask, PulledRuling
from connector.rubric import Rubric, Value

__all__ = ["MemoryAdjudication"]


@dataclass
class _Answer:
    annotation_id: str
    ruled_by: str
    value: Value | None
    reason: str
    at: datetime
    dimension: str | None = None  # the dimension answered, when not the one asked


@dataclass
class MemoryAdjudication:
    name: str = "memory"
    tasks: dict[str, AdjudicationTask] = field(default_factory=dict)
    answers: dict[str, list[_Answer]] = field(default_factory=dict)
    prepared: list[str] = field(default_factory=list)
    creates: int = 0
    clock: datetime = datetime(2026, 12, 2, tzinfo=UTC)

    def prepare_adjudication_project(self, project_id: str, rubric: Rubric) -> None:
        del rubric
        self.prepared.append(project_id)

    def create_adjudication_tasks(
        self, project_id: str, rubric: Rubric, tasks: Sequence[AdjudicationTask]
    ) -> dict[str, str]:
        del project_id, rubric
        for task in tasks:
            if task.key not in self.tasks:
                self.tasks[task.key] = task
                self.creates += 1
        return {t.key: f"adj-task-{list(self.tasks).index(t.key)}" for t in tasks}

    def rule(
        self,
        key: str,
        value: Value | None,
        reason: str,
        *,
        by: str = "senior@x",
        dimension: str | None = None,
    ) -> str:
        self.clock += timedelta(minutes=1)
        ident = f"r{sum(len(a) for a in self.answers.values()) + 1}"
        self.answers.setdefault(key, []).append(
            _Answer(ident, by, value, reason, self.clock, dimension)
        )
        return ident

    def pull_rulings(self, project_id: str, rubric: Rubric) -> list[PulledRuling]:
        del project_id
        found = []
        for key, answers in self.answers.items():
            asked = self.tasks[key].dimension
            values = [str(v) for v in rubric.dimension(asked).values]
            for answer in answers:
                problem = None
                if answer.dimension not in (None, asked):
                    problem = f"no choice under 'ruling_{asked}' (the dimension asked)"
                elif answer.value is None or str(answer.value) not in values:
                    problem = f"choice {answer.value!r} is not one of {values}"
                elif not answer.reason:
                    problem = "no reason given"
                found.append(
                    PulledRuling(
                        task_key=key,
                        annotation_id=answer.annotation_id,
                        dimension=asked,
                        value=None if problem else answer.value,
                        reason=answer.reason,
                        ruled_by=answer.ruled_by,
                        ruled_at=answer.at,
                        problem=problem,
                    )
                )
        return found
