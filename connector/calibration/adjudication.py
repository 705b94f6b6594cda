"""The adjudication queue: items whose agreement is low go to a senior annotator, whose ruling
comes back as a stored ruling (never a judgment).

Who is queued (one owner: :func:`adjudication_candidates`): an item and dimension whose
per-item agreement (:func:`connector.report.build.item_agreements`, the figure written to the
platform, handed in by the caller: calibration sits below the report) is defined (two or more
judgments) and below the threshold; never a gold item (its answer is the connector's secret,
and a senior's ruling on it would compete with the gold answer). An item and dimension is
queued once (the store's ``adjudication_queue``); its task on the adjudication project is
created by an opaque key, so a queue run that failed half-way resumes without duplicates.

The task shows the item and each judgment by a neutral label (``Annotator 1`` … in the order
the judgments were submitted), never the annotator's account: see docs/security.md.

A pulled answer becomes a :class:`~connector.store.Ruling` (``source`` ``adjudication``) with
who ruled, when and why; one without a value for the asked dimension or without a reason is
reported, not stored. Rulings win over the votes in :func:`connector.consensus.consensus_table`
(through :func:`connector.consensus.adjudication.project_rulings`) and are never judgments.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from connector.calibration.versions import current_judgments
from connector.config import ProjectConfig
from connector.errors import ConnectorError
from connector.platforms.adjudication import (
    AdjudicationDesk,
    AdjudicationTask,
    ShownJudgment,
)
from connector.rubric import Rubric
from connector.store import QueuedItem, Ruling, Store

__all__ = [
    "LOG_COLUMNS",
    "AdjudicationCandidate",
    "AdjudicationError",
    "ItemFigure",
    "ItemFigures",
    "PullResult",
    "QueueResult",
    "adjudication_candidates",
    "adjudication_task_key",
    "gold_items",
    "pull_adjudications",
    "queue_adjudications",
    "ruling_log_text",
    "ruling_rows",
    "shown_judgments",
]


class AdjudicationError(ConnectorError, ValueError):
    """An adjudication command cannot run as asked (no adjudication project, an unknown
    dimension)."""


class ItemFigure(Protocol):
    """One item's agreement on one dimension (:class:`connector.report.build.ItemAgreement`)."""

    @property
    def agreement(self) -> float | None: ...

    @property
    def n_judgments(self) -> int: ...


#: dimension → item → its figure, as :func:`connector.report.build.item_agreements` gives them
ItemFigures = Mapping[str, Mapping[str, ItemFigure]]


@dataclass(frozen=True, slots=True, kw_only=True)
class AdjudicationCandidate:
    """An item and dimension whose agreement is below the threshold."""

    item_key: str
    dimension: str
    agreement: float
    n_judgments: int


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueResult:
    below: float
    candidates: int
    queued_now: int
    already_queued: int
    gold_left_out: int
    tasks_created: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PullResult:
    answers: int
    recorded: int
    problems: tuple[str, ...]
    other_projects: int = 0  # answers on tasks another project queued (a shared project)


def adjudication_task_key(secret: str, project_key: str, item_key: str, dimension: str) -> str:
    """``adj-<hmac>-<dimension>``: opaque about the item, open about the dimension asked."""
    digest = hmac.new(
        secret.encode(), f"{project_key}\x1f{item_key}\x1f{dimension}".encode(), hashlib.sha256
    ).hexdigest()[:20]
    return f"adj-{digest}-{dimension}"


def gold_items(store: Store, project_key: str, *, rulings_made_gold: bool = True) -> set[str]:
    """Items with a gold answer or shown as a gold task: never queued, never in a pack.
    ``rulings_made_gold`` False leaves out items whose only gold answers are rulings made gold
    (source ``adjudicated``): a session may rule on them again."""
    found = {
        item
        for (item, _), answer in store.gold_for(project_key).items()
        if rulings_made_gold or answer.source != "adjudicated"
    }
    found |= {m.item_key for m in store.task_mappings(project_key).values() if m.kind == "gold"}
    return found


def adjudication_candidates(
    figures: ItemFigures,
    rubric: Rubric,
    *,
    below: float,
    dimensions: Collection[str] = (),
    exclude: Collection[str] = (),
) -> list[AdjudicationCandidate]:
    """Items and dimensions whose agreement is defined and below ``below``, lowest first
    (then item key); ``dimensions`` limits them, ``exclude`` leaves items out (gold).

    Raises:
        AdjudicationError: a dimension not in the rubric.
    """
    known = [d.name for d in rubric.dimensions]
    unknown = [d for d in dimensions if d not in known]
    if unknown:
        raise AdjudicationError(
            f"dimension(s) {unknown} are not in rubric {rubric.ref}, whose dimensions are {known}"
        )
    found = []
    for dimension, per_item in figures.items():
        if dimensions and dimension not in dimensions:
            continue
        for item, figure in per_item.items():
            if figure.agreement is None or figure.agreement >= below or item in exclude:
                continue
            found.append(
                AdjudicationCandidate(
                    item_key=item,
                    dimension=dimension,
                    agreement=figure.agreement,
                    n_judgments=figure.n_judgments,
                )
            )
    return sorted(found, key=lambda c: (c.agreement, c.item_key, c.dimension))


def shown_judgments(
    frame: pd.DataFrame, item_key: str, dimension: str
) -> tuple[ShownJudgment, ...]:
    """The item's judgments on ``dimension``, first per annotator (re-tests left out) in the
    order submitted, each by a neutral label; the rationale where the table has one."""
    rows = frame[(frame["item_id"] == item_key) & (frame["dimension"] == dimension)]
    if "submitted_at" in rows.columns:
        rows = rows.sort_values("submitted_at", kind="stable", na_position="last")
    rows = rows.drop_duplicates("annotator", keep="first")
    shown = []
    for number, (_, row) in enumerate(rows.iterrows(), start=1):
        text = row.get("rationale")
        shown.append(
            ShownJudgment(
                label=f"Annotator {number}",
                value=row["value"],
                rationale="" if text is None or pd.isna(text) else str(text),
            )
        )
    return tuple(shown)


def _adjudication_project(project: ProjectConfig) -> str:
    if project.adjudication_project_id is None:
        raise AdjudicationError(
            f"project {project.key!r} has no adjudication_project_id: name a separate, empty "
            "project (Label Studio) or dataset (Argilla) for rulings in the configuration"
        )
    return project.adjudication_project_id


def _payloads(store: Store, project_key: str) -> dict[str, dict[str, Any]]:
    return {row.item_key: dict(row.payload or {}) for row in store.items_with_payload(project_key)}


def queue_adjudications(
    project: ProjectConfig,
    rubric: Rubric,
    *,
    store: Store,
    platform: AdjudicationDesk,
    key_secret: str,
    figures: Callable[[pd.DataFrame, Rubric], ItemFigures],
    below: float | None = None,
    dimensions: Collection[str] = (),
) -> QueueResult:
    """Queue the items below the threshold (once each) and create their adjudication tasks;
    ``figures`` is :func:`connector.report.build.item_agreements`."""
    target = _adjudication_project(project)
    threshold = project.adjudication_below if below is None else below
    frame = current_judgments(store, project.key, rubric).current
    gold = gold_items(store, project.key)
    everything = adjudication_candidates(
        figures(frame, rubric), rubric, below=threshold, dimensions=dimensions
    )
    chosen = [c for c in everything if c.item_key not in gold]
    platform.prepare_adjudication_project(target, rubric)
    fresh = store.queue_adjudications(
        project.key,
        [
            QueuedItem(
                item_key=c.item_key,
                dimension=c.dimension,
                task_key=adjudication_task_key(key_secret, project.key, c.item_key, c.dimension),
                agreement=c.agreement,
                n_judgments=c.n_judgments,
            )
            for c in chosen
        ],
    )
    pending = [q for q in store.adjudication_queue(project.key) if q.platform_task_id is None]
    created = 0
    if pending:
        payloads = _payloads(store, project.key)
        tasks = [_task(q, rubric, frame, payloads.get(q.item_key, {})) for q in pending]
        ids = platform.create_adjudication_tasks(target, rubric, tasks)
        store.record_adjudication_tasks(project.key, ids)
        created = len(ids)
    return QueueResult(
        below=threshold,
        candidates=len(chosen),
        queued_now=len(fresh),
        already_queued=len(chosen) - len(fresh),
        gold_left_out=len(everything) - len(chosen),
        tasks_created=created,
    )


def _task(
    queued: QueuedItem, rubric: Rubric, frame: pd.DataFrame, payload: dict[str, Any]
) -> AdjudicationTask:
    prompt = payload.get("prompt")
    response_a = payload.get("response_a")
    response_b = payload.get("response_b")
    missing = "(not kept by the connector: the item was not pushed by it)"
    return AdjudicationTask(
        key=queued.task_key,
        dimension=queued.dimension,
        question=rubric.dimension(queued.dimension).question,
        prompt=prompt if isinstance(prompt, str) else missing,
        response_a=response_a if isinstance(response_a, str) else missing,
        response_b=response_b if isinstance(response_b, str) else None,
        judgments=shown_judgments(frame, queued.item_key, queued.dimension),
        agreement=queued.agreement,
    )


def pull_adjudications(
    project: ProjectConfig, rubric: Rubric, *, store: Store, platform: AdjudicationDesk
) -> PullResult:
    """Read the answers on the adjudication project and store them as rulings; answers that
    cannot be rulings are returned as problems (task key and annotation id named)."""
    target = _adjudication_project(project)
    by_key = {q.task_key: q for q in store.adjudication_queue(project.key)}
    answers = platform.pull_rulings(target, rubric)
    problems: list[str] = []
    found: list[Ruling] = []
    others = 0
    for answer in answers:
        queued = by_key.get(answer.task_key)
        where = f"{platform.name} task {answer.task_key}, answer {answer.annotation_id}"
        if queued is None:
            others += 1  # queued by another project sharing the adjudication project
            continue
        if answer.value is None or answer.problem is not None:
            problems.append(f"{where} by {answer.ruled_by}: {answer.problem}; not recorded")
            continue
        found.append(
            Ruling(
                item_key=queued.item_key,
                dimension=queued.dimension,
                value=answer.value,
                reason=answer.reason,
                ruled_by=answer.ruled_by,
                ruled_at=answer.ruled_at,
                source="adjudication",
                source_ref=answer.annotation_id,
            )
        )
    store.record_rulings(project.key, found)
    return PullResult(
        answers=len(answers),
        recorded=len(found),
        problems=tuple(problems),
        other_projects=others,
    )


def ruling_rows(rulings: Sequence[Ruling]) -> list[dict[str, Any]]:
    """The adjudication log's rows (``iaa-connector adjudication log``)."""
    return [
        {
            "item_id": r.item_key,
            "dimension": r.dimension,
            "value": r.value,
            "reason": r.reason,
            "ruled_by": r.ruled_by,
            "ruled_at": r.ruled_at.isoformat(),
            "source": r.source,
            "source_ref": r.source_ref,
        }
        for r in rulings
    ]


LOG_COLUMNS = (
    "item_id",
    "dimension",
    "value",
    "reason",
    "ruled_by",
    "ruled_at",
    "source",
    "source_ref",
)


def ruling_log_text(rulings: Sequence[Ruling], *, format: str) -> str:
    """The log as CSV (header row) or JSON Lines (values keep their type).

    Raises:
        AdjudicationError: a format other than ``csv`` or ``jsonl``.
    """
    rows = ruling_rows(rulings)
    if format == "jsonl":
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    if format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=LOG_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue()
    raise AdjudicationError(f"--format {format!r}: the log is written as csv or jsonl")
