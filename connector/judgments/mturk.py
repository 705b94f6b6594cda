"""Judgments from an Amazon Mechanical Turk batch results CSV (the requester site's "Download
CSV" of a batch; the service closed to new work in 2026 and its result files live on).

One row per assignment: ``HITId``, ``AssignmentId``, ``WorkerId``, ``AssignmentStatus``
(``Submitted``, ``Approved``, ``Rejected``), ``AcceptTime``, ``SubmitTime``,
``WorkTimeInSeconds``, the batch input as ``Input.<column>`` and the worker's answers as
``Answer.<field>`` (Crowd HTML Elements forms: ``Answer.<name>.label`` for a classifier, one
``true``/``false`` column per option of a radio group, or all of them as JSON in
``Answer.taskAnswers``). Documented at
https://docs.aws.amazon.com/AWSMechTurk/latest/AWSMturkAPI/ApiReference_AssignmentDataStructureArticle.html
(the assignment's fields and statuses) and
https://docs.aws.amazon.com/AWSMechTurk/latest/AWSMechanicalTurkRequester/RetrievingResults.html.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from connector.errors import JudgmentTableError
from connector.judgments.sources import (
    AnswerMap,
    PlatformTable,
    Reading,
    answer_value,
    length,
    seconds,
    text_or_none,
)

__all__ = ["mturk_judgments"]

_REQUIRED = ("HITId", "AssignmentId", "WorkerId", "AssignmentStatus")
_TASK_ANSWERS = "Answer.taskAnswers"
_BOOLEANS = ("true", "false")
# "Wed Jul 26 09:47:12 PDT 2017": the requester site writes times in US Pacific time.
_TIME = re.compile(r"\w{3} (\w{3}) +(\d{1,2}) (\d{2}:\d{2}:\d{2}) ([A-Z]{2,4}) (\d{4})")
_ZONES = {
    "UTC": "+00:00",
    "GMT": "+00:00",
    "PST": "-08:00",
    "PDT": "-07:00",
    "MST": "-07:00",
    "MDT": "-06:00",
    "CST": "-06:00",
    "CDT": "-05:00",
    "EST": "-05:00",
    "EDT": "-04:00",
}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def mturk_judgments(
    rows: Sequence[Mapping[str, str]],
    *,
    source: str = "<mturk>",
    lines: Sequence[int] | None = None,
    answers: AnswerMap | None = None,
) -> PlatformTable:
    """Read Mechanical Turk batch results (one row per assignment, cells as text) as judgments.

    - ``item_id`` is ``Input.item_id``, else ``Input.id``, else ``HITId``;
    - ``annotator`` is ``WorkerId``; ``submitted_at`` is ``SubmitTime``; ``lead_time_s`` is
      ``WorkTimeInSeconds`` (else ``SubmitTime`` − ``AcceptTime``);
    - one dimension per answer field: ``Answer.overall`` is dimension ``overall``
      (``answers`` renames or selects fields: ``--map overall=preference``); a classifier's
      ``Answer.overall.label`` is ``overall``; ``true``/``false`` columns
      ``Answer.overall.a``, ``Answer.overall.b`` are ``overall`` with the option that is
      ``true``; the fields of ``Answer.taskAnswers`` likewise. Several values (checkboxes,
      written ``a|b``) are kept joined with ``|``. Free-text fields named like rationale or
      comment (or in ``answers.rationale``) are the ``rationale``;
    - ``category``, ``display_left``, ``batch``, ``rubric_version`` come from ``Input.``
      columns of those names, ``length_a`` / ``length_b`` from ``Input.response_a`` /
      ``Input.response_b``.

    Rejected assignments (``AssignmentStatus`` Rejected, or marked in the ``Reject`` column for
    upload) are not judgments: they are skipped and counted. Empty answer fields are skipped and
    counted.

    Raises:
        JudgmentTableError: naming ``file:line`` when a column the results file always has is
            missing, there is no ``Answer.`` column, a kept assignment has no ``WorkerId``, a
            time is not a Mechanical Turk time, or ``Answer.taskAnswers`` is not JSON.
    """
    reading = Reading(source, "mturk", lines, answers or AnswerMap())
    columns = list(rows[0]) if rows else []
    missing = [c for c in _REQUIRED if c not in columns]
    if rows and missing:
        raise JudgmentTableError(
            f"{source}:1: no column(s) {', '.join(repr(c) for c in missing)}; a Mechanical "
            "Turk batch results file (Download CSV on the batch's results page) has HITId, "
            "AssignmentId, WorkerId and AssignmentStatus"
        )
    fields = _answer_fields(columns, rows)
    if rows and not fields and _TASK_ANSWERS not in columns:
        raise JudgmentTableError(
            f"{source}:1: no 'Answer.' column; the batch has no results yet, or the file is "
            "the input CSV rather than the results"
        )
    pending = 0
    for position, row in enumerate(rows):
        where = reading.where(position)
        status = (row.get("AssignmentStatus") or "").strip()
        if status == "Rejected":
            reading.skipped["rejected assignments (AssignmentStatus Rejected)"] += 1
            continue
        if (row.get("Reject") or "").strip():
            reading.skipped["assignments marked for rejection in the Reject column"] += 1
            continue
        worker = text_or_none(row.get("WorkerId"))
        if worker is None:
            raise JudgmentTableError(
                f"{where}: 'WorkerId' is empty in assignment {row.get('AssignmentId')!r}; "
                "restore it from the original results file or drop the row"
            )
        pending += status == "Submitted"
        item_id = _item(reading, row)
        submitted = mturk_time(row.get("SubmitTime"), "SubmitTime", where)
        accepted = mturk_time(row.get("AcceptTime"), "AcceptTime", where)
        lead = seconds(row.get("WorkTimeInSeconds"), "WorkTimeInSeconds", where)
        if lead is not None:
            reading.use("lead_time_s", "WorkTimeInSeconds")
        elif submitted is not None and accepted is not None:
            lead = (submitted - accepted).total_seconds()
            reading.use("lead_time_s", "SubmitTime - AcceptTime")
        if submitted is not None:
            reading.use("submitted_at", "SubmitTime")
        reading.use("annotator", "WorkerId")
        for column in ("category", "display_left", "batch", "rubric_version"):
            reading.use_if(column, row.get(f"Input.{column}"), f"Input.{column}")
        reading.use_if("length_a", row.get("Input.response_a"), "Input.response_a (its length)")
        reading.use_if("length_b", row.get("Input.response_b"), "Input.response_b (its length)")
        judgments, rationale = _answers(reading, row, fields, where)
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
                    "category": text_or_none(row.get("Input.category")),
                    "display_left": text_or_none(row.get("Input.display_left")),
                    "batch": text_or_none(row.get("Input.batch")),
                    "rubric_version": text_or_none(row.get("Input.rubric_version")),
                    "length_a": length(row.get("Input.response_a") or None),
                    "length_b": length(row.get("Input.response_b") or None),
                    "rationale": "\n".join(rationale) if rationale else None,
                },
            )
    if pending:
        reading.notes.append(
            f"{pending} assignment(s) are Submitted, neither approved nor rejected yet; they "
            "count as judgments"
        )
    return reading.table()


def mturk_time(value: object, name: str, where: str) -> pd.Timestamp | None:
    """A results-file time (``Wed Jul 26 09:47:12 PDT 2017``, or ISO 8601) in UTC; None when
    blank."""
    text = text_or_none(value)
    if text is None:
        return None
    match = _TIME.fullmatch(text.strip())
    if match and match[1] in _MONTHS and match[4] in _ZONES:
        month = _MONTHS.index(match[1]) + 1
        iso = f"{match[5]}-{month:02d}-{int(match[2]):02d}T{match[3]}{_ZONES[match[4]]}"
        return pd.Timestamp(iso).tz_convert("UTC")
    parsed = pd.to_datetime(text.strip(), utc=True, format="ISO8601", errors="coerce")
    if pd.isna(parsed):
        raise JudgmentTableError(
            f"{where}: {name!r} is not a Mechanical Turk time: {text!r}; the results file "
            "writes e.g. 'Wed Jul 26 09:47:12 PDT 2017'"
        )
    return pd.Timestamp(parsed)


def _item(reading: Reading, row: Mapping[str, str]) -> str:
    for column in ("Input.item_id", "Input.id", "HITId"):
        item = text_or_none(row.get(column))
        if item is not None:
            reading.use("item_id", column if column != "HITId" else "HITId (no Input.item_id)")
            return item
    raise JudgmentTableError(f"{reading.source}: an assignment has no HITId")


def _answer_fields(
    columns: Sequence[str], rows: Sequence[Mapping[str, str]]
) -> dict[str, list[tuple[str, str | None]]]:
    """Answer field → its columns, each with the option it stands for (one-hot columns)."""
    fields: dict[str, list[tuple[str, str | None]]] = {}
    for column in columns:
        if not column.startswith("Answer.") or column == _TASK_ANSWERS:
            continue
        name = column.removeprefix("Answer.")
        head, _, tail = name.partition(".")
        if tail == "label":
            fields.setdefault(head, []).append((column, None))
        elif tail and _is_boolean(column, rows):
            fields.setdefault(head, []).append((column, tail))
        else:
            fields.setdefault(name, []).append((column, None))
    return fields


def _is_boolean(column: str, rows: Sequence[Mapping[str, str]]) -> bool:
    values = {(row.get(column) or "").strip().lower() for row in rows} - {""}
    return bool(values) and values <= set(_BOOLEANS)


def _answers(
    reading: Reading,
    row: Mapping[str, str],
    fields: Mapping[str, list[tuple[str, str | None]]],
    where: str,
) -> tuple[list[tuple[str, object]], list[str]]:
    given: list[tuple[str, object]] = []
    for name, cells in fields.items():
        if all(option is None for _, option in cells):
            given.append((name, row.get(cells[0][0]) or None))
        else:
            chosen = [
                option
                for column, option in cells
                if option is not None and (row.get(column) or "").strip().lower() == "true"
            ]
            given.append((name, chosen))
    given.extend(_task_answers(row, where))
    judgments: list[tuple[str, object]] = []
    rationale: list[str] = []
    for name, raw in given:
        role, dimension = reading.role([name, f"Answer.{name}"])
        if role == "rationale":
            text = text_or_none(raw)
            if text is not None:
                reading.use("rationale", f"free-text answer 'Answer.{name}'")
                rationale.append(text)
            continue
        if role != "dimension" or dimension is None:
            continue
        value, several = answer_value(raw)
        if isinstance(value, str) and "|" in value:
            several = True
        if value is None:
            reading.left_out["empty answer field(s)"] += 1
            continue
        if several:
            reading.multiple["answer(s)"] += 1
        reading.use("dimension", "the Answer.* field (one dimension per field)")
        reading.use("value", "the Answer.* value")
        judgments.append((dimension, value))
    return judgments, rationale


def _task_answers(row: Mapping[str, str], where: str) -> list[tuple[str, object]]:
    """The fields of a Crowd HTML Elements form's ``Answer.taskAnswers`` JSON."""
    text = (row.get(_TASK_ANSWERS) or "").strip()
    if not text:
        return []
    try:
        document: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JudgmentTableError(
            f"{where}: 'Answer.taskAnswers' is not JSON ({exc.msg}); the cell holds the "
            "form's answers as a JSON list, as the results file writes them"
        ) from exc
    found: list[tuple[str, object]] = []
    for answer in document if isinstance(document, list) else [document]:
        if not isinstance(answer, dict):
            continue
        for name, value in answer.items():
            if isinstance(value, dict):
                if all(isinstance(v, bool) for v in value.values()):
                    found.append((str(name), [k for k, v in value.items() if v]))
                elif "label" in value:
                    found.append((str(name), value["label"]))
            else:
                found.append((str(name), value))
    return found
