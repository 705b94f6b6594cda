"""Judgments from Surge AI results: the JSON and CSV result exports (one row per response) and
the API's task objects (``{"id", "fields", "responses": [{"id", "data", "worker_id",
"completed_at", "time_spent_in_secs"}]}``).

Documented at https://app.surgehq.ai/docs/api (tasks and their responses; the results export,
``export_json`` / ``export_csv`` in the Python SDK, https://github.com/surge-ai/surge-python,
``surge/reports.py`` and ``surge/tasks.py``). A response's answers are keyed by the question's
text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connector.errors import JudgmentTableError
from connector.judgments.sources import (
    AnswerMap,
    PlatformTable,
    Reading,
    answer_value,
    length,
    mapping,
    seconds,
    text_or_none,
    timestamp,
)

__all__ = ["surge_judgments"]

# Columns of a result row that describe the response, not the task or the answers.
_RESPONSE_COLUMNS = (
    "worker_id",
    "completed_at",
    "time_spent_in_secs",
    "task_id",
    "response_id",
    "id",
    "project_id",
    "created_at",
    "is_gold_standard",
)
_ANSWER_OBJECTS = ("data", "response_data", "answers")
_TASK_OBJECTS = ("fields", "task_data")


def surge_judgments(
    rows: Sequence[Any],
    *,
    source: str = "<surge>",
    lines: Sequence[int] | None = None,
    answers: AnswerMap | None = None,
) -> PlatformTable:
    """Read Surge AI results (per-response rows, or task objects with ``responses``).

    One judgment per response and answered question:

    - ``item_id`` is the task's ``item_id`` field if it has one, else the task id
      (``task_id`` of a result row, ``id`` of a task object);
    - ``annotator`` is ``worker_id``; ``submitted_at`` is ``completed_at``; ``lead_time_s`` is
      ``time_spent_in_secs``;
    - ``dimension`` is the question (its text, or the name ``answers`` maps it to) and
      ``value`` the answer (checkbox answers joined with ``|``); free-text answers named like
      rationale (or in ``answers.rationale``) are the ``rationale``;
    - ``category``, ``display_left``, ``batch``, ``rubric_version`` and the lengths of
      ``response_a`` / ``response_b`` come from the task's fields of those names.

    A CSV export puts task fields and answers side by side as columns, and nothing tells them
    apart: name the answer columns in ``answers.dimensions`` (``--map``); the other columns are
    task fields. Questions left unanswered are skipped and counted.

    Raises:
        JudgmentTableError: naming ``file:line`` when a row has no ``worker_id`` or no task id,
            a time is not a timestamp, or (flat rows without a mapping) the answer columns
            cannot be told from the task fields.
    """
    reading = Reading(source, "surge", lines, answers or AnswerMap())
    gold_responses = 0
    for position, row in enumerate(rows):
        where = reading.where(position)
        if not isinstance(row, dict):
            raise JudgmentTableError(
                f"{where}: expected an object (one response per row), got {type(row).__name__}"
            )
        if isinstance(row.get("responses"), list):
            task_fields = mapping(row.get("fields"))
            task_id = text_or_none(row.get("id"))
            for response in row["responses"]:
                if not isinstance(response, dict):
                    continue
                answered = response.get("data")
                gold_responses += row.get("is_gold_standard") is True
                _read_response(
                    reading,
                    position,
                    where,
                    response,
                    task_id,
                    task_fields,
                    answered if isinstance(answered, dict) else {},
                )
            continue
        task_fields, answered = _split_flat(reading, row, where)
        gold_responses += row.get("is_gold_standard") in (True, "true", "True", "TRUE")
        _read_response(
            reading, position, where, row, text_or_none(row.get("task_id")), task_fields, answered
        )
    if gold_responses:
        reading.notes.append(
            f"{gold_responses} response(s) answer gold standard tasks; the export holds no gold "
            "answers, so they are judged as ordinary items"
        )
    return reading.table()


def _split_flat(
    reading: Reading, row: Mapping[str, Any], where: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(task fields, answers) of a flat result row."""
    for key in _ANSWER_OBJECTS:
        if isinstance(row.get(key), dict):
            fields = next((row[k] for k in _TASK_OBJECTS if isinstance(row.get(k), dict)), None)
            if fields is None:
                fields = {k: v for k, v in row.items() if k not in _RESPONSE_COLUMNS and k != key}
            return dict(fields), dict(row[key])
    others = [k for k in row if k not in _RESPONSE_COLUMNS]
    answer_columns = [
        k for k in others if k in reading.answers.dimensions or k in reading.answers.rationale
    ]
    if not reading.answers.dimensions:
        shown = ", ".join(repr(k) for k in others) or "none"
        raise JudgmentTableError(
            f"{where}: a flat Surge export has task fields and answers side by side and "
            f"nothing tells them apart; name the answer columns with --map "
            f"'QUESTION=DIMENSION' (columns besides worker_id, completed_at, …: {shown})"
        )
    answered = {k: row[k] for k in answer_columns}
    fields = {k: row[k] for k in others if k not in answered}
    for key in others:
        if key not in answered and key not in reading.answers.dimensions:
            role, _ = reading.answers.role([key])
            if role == "rationale":
                answered[key] = row[key]
                fields.pop(key, None)
    return fields, answered


def _read_response(
    reading: Reading,
    position: int,
    where: str,
    response: Mapping[str, Any],
    task_id: str | None,
    task_fields: Mapping[str, Any],
    answered: Mapping[str, Any],
) -> None:
    item_id = text_or_none(task_fields.get("item_id"))
    if item_id is not None:
        reading.use("item_id", "the task's 'item_id' field")
    else:
        item_id = task_id
        reading.use("item_id", "task id")
    if item_id is None:
        raise JudgmentTableError(
            f"{where}: the response names no task ('task_id', or an 'item_id' task field); "
            "export the results with their task ids"
        )
    worker = text_or_none(response.get("worker_id"))
    if worker is None:
        raise JudgmentTableError(
            f"{where}: 'worker_id' is empty; Surge writes the worker of every response, so "
            "the row is damaged: restore it from a fresh export or drop it"
        )
    reading.use("annotator", "worker_id")
    submitted = timestamp(response.get("completed_at"), "completed_at", where)
    if submitted is not None:
        reading.use("submitted_at", "completed_at")
    lead = seconds(response.get("time_spent_in_secs"), "time_spent_in_secs", where)
    if lead is not None:
        reading.use("lead_time_s", "time_spent_in_secs")
    rationale: list[str] = []
    judgments: list[tuple[str, object]] = []
    for question, raw in answered.items():
        role, dimension = reading.role([str(question)])
        if role == "rationale":
            text = text_or_none(raw)
            if text is not None:
                reading.use("rationale", f"free-text answer {question!r}")
                rationale.append(text)
            continue
        if role != "dimension" or dimension is None:
            continue
        value, several = answer_value(raw)
        if value is None:
            reading.left_out["question(s) left unanswered"] += 1
            continue
        if several:
            reading.multiple["checkbox answer(s)"] += 1
        judgments.append((dimension, value))
    reading.use("dimension", "the question (its text, or its --map name)")
    reading.use("value", "the answer (checkbox answers joined with '|')")
    for column in ("category", "display_left", "batch", "rubric_version"):
        reading.use_if(column, task_fields.get(column), f"the task's {column!r} field")
    reading.use_if("length_a", task_fields.get("response_a"), "the task's 'response_a' field")
    reading.use_if("length_b", task_fields.get("response_b"), "the task's 'response_b' field")
    for dimension, value in judgments:
        reading.add(
            position,
            {
                "item_id": item_id,
                "annotator": worker,
                "dimension": dimension,
                "value": value,
                "submitted_at": submitted,
                "lead_time_s": lead,
                "category": text_or_none(task_fields.get("category")),
                "display_left": text_or_none(task_fields.get("display_left")),
                "batch": text_or_none(task_fields.get("batch")),
                "rubric_version": text_or_none(task_fields.get("rubric_version")),
                "length_a": length(task_fields.get("response_a")),
                "length_b": length(task_fields.get("response_b")),
                "rationale": "\n".join(rationale) if rationale else None,
            },
        )
