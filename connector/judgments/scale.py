"""Judgments from Scale AI tasks, as the API lists them (a JSON array, one task per line, or a
page ``{"docs": [...]}``) and posts them to callbacks.

Two generations of the task object are read:

- the task API's ``{"task_id", "type", "status", "completed_at", "params", "response",
  "metadata", "batch", "unique_id"}``, answers in ``response`` (documented at
  https://scale.com/docs/api-reference/callbacks, a completed task's body);
- the GenAI platform's ``{"task_id", "project", "batch", "status", "completed_at",
  "metadata", "threads": [{"id", "turns": [{"id", "messages": [{"source_id",
  "annotations"}], "annotations"}], "annotations"}]}``, answers as ``{"key", "value"}``
  annotations on a turn (``selected_model_id``, ``likert_value``, ``justification``) or on one
  model's message (documented at https://docs.genai.scale.com/core-resources/task and
  https://docs.genai.scale.com/v2/task).

Neither names the contributor who answered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connector.errors import JudgmentTableError
from connector.judgments.sources import (
    AnswerMap,
    PlatformTable,
    Reading,
    answer_value,
    length,
    mapping,
    text_or_none,
    timestamp,
    unknown_annotator,
)

__all__ = ["scale_judgments"]

_WORKER_KEYS = ("worker_id", "labeler_id", "annotator")
_FREE_TEXT_TYPES = ("text", "textarea", "free_text")


@dataclass(frozen=True, slots=True)
class _Answer:
    """One answer field of a task: the item part it is about (a turn), its name, its value."""

    part: str | None
    name: str
    value: object
    free_text: bool = False


def scale_judgments(
    tasks: Sequence[Any],
    *,
    source: str = "<scale>",
    lines: Sequence[int] | None = None,
    answers: AnswerMap | None = None,
) -> PlatformTable:
    """Read Scale AI task objects as judgments.

    One judgment per completed task and answer:

    - ``item_id`` is ``metadata.item_id`` (set it when you send one item as several tasks, so
      their answers meet on one item), else ``unique_id``, else ``task_id``; a task of several
      conversation turns adds ``/THREAD_ID/TURN_ID`` for each turn;
    - ``dimension`` is the answer's name: its key in ``response`` (``category`` of a
      categorization task; each field of ``response.annotations`` or
      ``response.taxonomies``), or an annotation's ``key``, followed by ``.SOURCE_ID`` when
      it rates one model's message (``overall.base_model``); ``value`` is the answer
      (several joined with ``|``); free-text answers and keys named like ``justification``
      are the ``rationale``;
    - ``submitted_at`` is ``completed_at``; ``batch`` is ``batch``; ``category``,
      ``display_left``, ``rubric_version`` come from ``metadata``, ``length_a`` /
      ``length_b`` from ``metadata.response_a`` / ``metadata.response_b``;
    - ``annotator``: Scale's task objects name no contributor. A worker id is read from
      ``worker_id`` (or ``labeler_id``, ``annotator``) on the task or in its ``metadata``
      when present; otherwise the task's judgments get an unknown annotator of their own
      (:func:`connector.judgments.unknown_annotator`): they count for agreement, and no
      per-annotator figure is computed for them.

    Tasks that are not ``completed`` (pending, canceled, error) are skipped and counted.

    Raises:
        JudgmentTableError: naming ``file:line`` when a task is not an object, has no
            ``task_id``, a completed task has neither a ``response`` object nor ``threads``,
            or ``completed_at`` is not a time.
    """
    reading = Reading(source, "scale", lines, answers or AnswerMap())
    unknown = 0
    unknown_tasks = 0
    for position, task in enumerate(tasks):
        where = reading.where(position)
        if not isinstance(task, dict):
            raise JudgmentTableError(f"{where}: expected a task object, got {type(task).__name__}")
        task_id = text_or_none(task.get("task_id"))
        if task_id is None:
            raise JudgmentTableError(
                f"{where}: no 'task_id'; is this a Scale AI task list "
                "(GET /v1/tasks or /v2/tasks, or the tasks posted to your callback)?"
            )
        status = text_or_none(task.get("status")) or "completed"
        if status != "completed":
            reading.skipped[f"tasks with status {status!r} (not completed)"] += 1
            continue
        found = _task_answers(reading, task, f"{where}: task {task_id}")
        metadata = mapping(task.get("metadata"))
        item_id, item_key = _item(task, metadata, task_id)
        reading.use("item_id", item_key)
        judgments, rationale = _judgments(reading, found)
        if not judgments:
            reading.left_out["completed task(s) with no answer the reader knows"] += 1
            continue
        worker = _worker(task, metadata)
        if worker is None:
            annotator = unknown_annotator(f"task {task_id}")
            unknown += len(judgments)
            unknown_tasks += 1
        else:
            annotator = worker
            reading.use("annotator", "worker_id")
        submitted = timestamp(task.get("completed_at"), "completed_at", where)
        if submitted is not None:
            reading.use("submitted_at", "completed_at")
        batch = text_or_none(task.get("batch"))
        if batch is not None:
            reading.use("batch", "batch")
        for column in ("category", "display_left", "rubric_version"):
            reading.use_if(column, metadata.get(column), f"metadata.{column}")
        reading.use_if("length_a", metadata.get("response_a"), "metadata.response_a (its length)")
        reading.use_if("length_b", metadata.get("response_b"), "metadata.response_b (its length)")
        for part, dimension, value in judgments:
            texts = rationale.get(part, [])
            reading.add(
                position,
                {
                    "item_id": item_id if part is None else f"{item_id}/{part}",
                    "annotator": annotator,
                    "dimension": dimension,
                    "value": value,
                    "submitted_at": submitted,
                    "batch": batch,
                    "category": text_or_none(metadata.get("category")),
                    "display_left": text_or_none(metadata.get("display_left")),
                    "rubric_version": text_or_none(metadata.get("rubric_version")),
                    "length_a": length(metadata.get("response_a")),
                    "length_b": length(metadata.get("response_b")),
                    "rationale": "\n".join(texts) if texts else None,
                },
            )
    if unknown:
        reading.use("annotator", "none: the tasks name no contributor")
        reading.notes.append(
            f"{unknown} judgment(s) from {unknown_tasks} task(s) name no annotator: they count "
            "for agreement on their items, each task as an annotator of its own, and no "
            "per-annotator figure is computed for them"
        )
    return reading.table(unknown=unknown)


def _item(task: Mapping[str, Any], metadata: Mapping[str, Any], task_id: str) -> tuple[str, str]:
    item = text_or_none(metadata.get("item_id"))
    if item is not None:
        return item, "metadata.item_id"
    unique = text_or_none(task.get("unique_id"))
    if unique is not None:
        return unique, "unique_id"
    return task_id, "task_id"


def _worker(task: Mapping[str, Any], metadata: Mapping[str, Any]) -> str | None:
    for holder in (task, metadata):
        for key in _WORKER_KEYS:
            worker = text_or_none(holder.get(key))
            if worker is not None:
                return worker
    return None


def _task_answers(reading: Reading, task: Mapping[str, Any], where: str) -> list[_Answer]:
    response = task.get("response")
    threads = task.get("threads")
    if isinstance(response, dict):
        reading.use("value", "the task's 'response' fields")
        return _response_answers(reading, response)
    if isinstance(threads, list):
        reading.use("value", "the 'value' of each annotation in 'threads'")
        return _thread_answers(task, threads)
    raise JudgmentTableError(
        f"{where}: a completed task with no 'response' object and no 'threads' list; export "
        "completed tasks with their responses (GET /v1/tasks?status=completed)"
    )


def _response_answers(reading: Reading, response: Mapping[str, Any]) -> list[_Answer]:
    found: list[_Answer] = []
    for key, value in response.items():
        if key in ("annotations", "taxonomies") and isinstance(value, dict):
            for name, answer in value.items():
                if isinstance(answer, dict) and "response" in answer:
                    free = str(answer.get("type", "")).lower() in _FREE_TEXT_TYPES
                    found.append(_Answer(None, str(name), _unnest(answer["response"]), free))
                else:
                    found.append(_Answer(None, str(name), _unnest(answer)))
        elif isinstance(value, dict):
            reading.left_out[f"response field(s) of other shapes ({key!r})"] += 1
        else:
            found.append(_Answer(None, str(key), _unnest(value)))
    return found


def _thread_answers(task: Mapping[str, Any], threads: list[Any]) -> list[_Answer]:
    turns = [
        (thread, turn)
        for thread in threads
        if isinstance(thread, dict)
        for turn in thread.get("turns") or []
        if isinstance(turn, dict)
    ]
    found: list[_Answer] = []
    for thread, turn in turns:
        part = f"{thread.get('id')}/{turn.get('id')}" if len(turns) > 1 else None
        found.extend(_annotations(part, turn.get("annotations"), None))
        for message in turn.get("messages") or []:
            if isinstance(message, dict):
                source_id = text_or_none(message.get("source_id"))
                found.extend(_annotations(part, message.get("annotations"), source_id))
    for thread in threads:
        if isinstance(thread, dict):
            found.extend(_annotations(None, thread.get("annotations"), None))
    found.extend(_annotations(None, task.get("annotations"), None))
    return found


def _annotations(part: str | None, annotations: object, source_id: str | None) -> list[_Answer]:
    if not isinstance(annotations, list):
        return []
    found: list[_Answer] = []
    for annotation in annotations:
        if not isinstance(annotation, dict):
            continue
        key = text_or_none(annotation.get("key"))
        if key is None:
            continue
        name = key if source_id is None else f"{key}.{source_id}"
        free = str(annotation.get("type", "")).lower() in _FREE_TEXT_TYPES
        found.append(_Answer(part, name, annotation.get("value"), free))
    return found


def _judgments(
    reading: Reading, found: list[_Answer]
) -> tuple[list[tuple[str | None, str, object]], dict[str | None, list[str]]]:
    """(item part, dimension, value) triples and the rationale texts of each item part."""
    judgments: list[tuple[str | None, str, object]] = []
    rationale: dict[str | None, list[str]] = {}
    for answer in found:
        base = answer.name.split(".", 1)[0]
        role, dimension = reading.role(
            list(dict.fromkeys((answer.name, base))), free_text=answer.free_text
        )
        if role == "rationale":
            text = _text(answer.value)
            if text is not None:
                reading.use("rationale", f"free-text answer {answer.name!r}")
                rationale.setdefault(answer.part, []).append(text)
            continue
        if role != "dimension" or dimension is None:
            continue
        mapped = reading.answers.dimensions
        if answer.name not in mapped and base in mapped:  # "overall" maps "overall.<model>"
            dimension = f"{dimension}{answer.name[len(base) :]}"
        value, several = answer_value(answer.value)
        if value is None:
            reading.left_out["empty answer(s)"] += 1
            continue
        if several:
            reading.multiple["answer(s)"] += 1
        reading.use("dimension", "the answer's name (response field or annotation key)")
        judgments.append((answer.part, dimension, value))
    return judgments, rationale


def _unnest(value: object) -> object:
    """Text collection answers come as lists of lists (``[["a"]]``): flatten one level."""
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        return [inner for outer in value for inner in outer]
    return value


def _text(value: object) -> str | None:
    if isinstance(value, list):
        texts = [t for t in (text_or_none(v) for v in value) if t is not None]
        return "\n".join(texts) if texts else None
    return text_or_none(value)
