"""What an adjudication project exchanges with the connector, on any platform.

An adjudication task shows one item and one dimension: the prompt and responses, the
disagreeing judgments (each annotator by a neutral label, ``Annotator 1`` …, never their
account) and the dimension's question; the senior annotator answers with a value and a reason.
The adjudication project is a separate Label Studio project or Argilla dataset, so a ruling is
never read by :meth:`~connector.platforms.base.Platform.pull` of the annotated project and never
becomes a judgment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from connector.rubric import Rubric, Value

__all__ = [
    "AdjudicationDesk",
    "AdjudicationTask",
    "PulledRuling",
    "ShownJudgment",
    "judgments_text",
    "ruling_question",
]

REASON = "reason"


def ruling_question(dimension: str) -> str:
    """The name of the control (Label Studio) or question (Argilla) holding the ruling on
    ``dimension``."""
    return f"ruling_{dimension}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ShownJudgment:
    """One judgment as the adjudicator sees it: a neutral label, the value, the rationale (the
    empty string when the platform gave none)."""

    label: str
    value: Value
    rationale: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AdjudicationTask:
    """One item and dimension to rule on. ``key`` is opaque (an HMAC of project, item and
    dimension); the item key is not shown."""

    key: str
    dimension: str
    question: str
    prompt: str
    response_a: str
    response_b: str | None
    judgments: tuple[ShownJudgment, ...]
    agreement: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PulledRuling:
    """A senior annotator's answer on an adjudication task. ``value`` is None (with
    ``problem`` saying why) when the answer cannot be a ruling: no value for the task's
    dimension, a value outside the dimension's values, no reason."""

    task_key: str
    annotation_id: str
    dimension: str
    value: Value | None
    reason: str
    ruled_by: str
    ruled_at: datetime
    problem: str | None = None


def judgments_text(task: AdjudicationTask) -> str:
    """The judgments as Markdown lines, the same text on every platform."""
    lines = [f"Judgments on {task.dimension!r} (agreement {_figure(task.agreement)}):"]
    for shown in task.judgments:
        line = f"- {shown.label}: {shown.value}"
        if shown.rationale:
            line += f' — "{shown.rationale}"'
        lines.append(line)
    return "\n".join(lines)


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


class AdjudicationDesk(Protocol):
    """What the adjudication commands need from a platform (both adapters implement it)."""

    name: str

    def prepare_adjudication_project(self, project_id: str, rubric: Rubric) -> None:
        """Give an empty project the adjudication form for ``rubric`` (one choice per dimension
        and a reason); raise naming what is missing if a project with tasks lacks it."""

    def create_adjudication_tasks(
        self, project_id: str, rubric: Rubric, tasks: Sequence[AdjudicationTask]
    ) -> dict[str, str]:
        """Create the tasks whose key is not in the project yet; return key → task id for
        all."""

    def pull_rulings(self, project_id: str, rubric: Rubric) -> list[PulledRuling]:
        """Every answer on the project's tasks (submitted answers only on Argilla)."""
