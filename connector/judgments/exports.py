"""Judgments from the platforms' own exports: a Label Studio JSON export and an Argilla 2.x
``records.to_json`` export.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from connector.errors import JudgmentTableError
from connector.judgments.table import (
    _DISPLAY_SIDES,
    REQUIRED_COLUMNS,
    JudgmentTable,
    TableFormat,
    _as_text,
    _is_blank,
    _Rows,
    _validate,
)

__all__ = ["argilla_judgments", "label_studio_judgments"]


# --------------------------------------------------------------------------------------------
# Label Studio
# --------------------------------------------------------------------------------------------

_LS_VALUE_KEYS = ("choices", "rating", "number")


def label_studio_judgments(
    tasks: Sequence[Any], *, source: str = "<label-studio>"
) -> JudgmentTable:
    """Read a Label Studio JSON export (the "JSON" export: a list of tasks) as judgments.

    One judgment per (annotation, result) whose ``value`` holds ``choices``, ``rating``,
    ``number`` or ``selected`` (the Pairwise tag):

    - ``item_id`` is ``data.item_id`` if present, else the task ``id``;
    - ``annotator`` is ``completed_by.email`` when the export expands users, else the user id;
    - ``dimension`` is the result's ``from_name`` (the control tag's name);
    - ``value`` is the single choice (several choices are joined with ``|``, with a warning),
      the rating or the number; a Pairwise ``left``/``right`` becomes ``a``/``b`` when
      ``data.display_left`` is known, and is kept as given otherwise;
    - ``category``, ``display_left``, ``rubric_version``, ``batch`` come from ``data``;
      ``length_a``/``length_b`` from the lengths of ``data.response_a``/``data.response_b``;
    - ``lead_time_s`` is ``lead_time``; ``submitted_at`` is ``updated_at``, else ``created_at``.

    Cancelled (skipped) annotations count in ``skipped``. Annotations marked ``ground_truth`` are
    gold, not judgments: they count in ``gold`` and their values fill ``gold_value`` on the
    item's judgments of the same dimension. A ``<Ranker>`` result (List + Ranker, no buckets)
    becomes one judgment per ranked response, dimension ``"{from_name}.{id}"``, value its rank
    (1 = best), as Argilla rankings do; a report under a rubric with the ranking dimension reads
    them back as one ranking (:func:`connector.judgments.rankings.assemble_rankings`). Results
    of other types (textarea, regions) are left out and counted in a warning.

    Raises:
        JudgmentTableError: naming the task and annotation ids when a task has no ``id`` or
            ``data``, an annotation has no ``completed_by``, or two ground-truth annotations
            disagree.
    """
    rows: list[dict[str, Any]] = []
    gold: dict[tuple[str, str], tuple[object, str]] = {}
    skipped = 0
    gold_count = 0
    other_types: Counter[str] = Counter()
    multiple_choices = 0
    for position, task in enumerate(tasks, start=1):
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise JudgmentTableError(
                f"{source}: task #{position} has no 'data' object; "
                "is this a Label Studio JSON export?"
            )
        if task.get("id") is None:
            raise JudgmentTableError(f"{source}: task #{position} has no 'id'")
        data: dict[str, Any] = task["data"]
        item_id = _as_text(data["item_id"]) if not _is_blank(data.get("item_id")) else None
        item_id = item_id or _as_text(task["id"])
        display_left = data.get("display_left")
        for annotation in task.get("annotations") or []:
            where = f"{source}: task {task['id']}, annotation {annotation.get('id')}"
            if annotation.get("was_cancelled"):
                skipped += 1
                continue
            is_gold = bool(annotation.get("ground_truth"))
            annotator = _ls_annotator(annotation.get("completed_by"))
            if annotator is None and not is_gold:
                raise JudgmentTableError(
                    f"{where}: no 'completed_by'; export with user details or fill it in"
                )
            results = annotation.get("result") or []
            found_any = False
            for result in results:
                dimension = result.get("from_name")
                value_obj = result.get("value")
                if not isinstance(value_obj, dict) or not dimension:
                    other_types[str(result.get("type", "unknown"))] += 1
                    continue
                if result.get("type") == "ranker":
                    values = _ls_ranks(str(dimension), value_obj)
                else:
                    value = _ls_value(value_obj, display_left)
                    values = [] if value is _UNSUPPORTED else [(str(dimension), value)]
                if not values:
                    other_types[str(result.get("type", "unknown"))] += 1
                    continue
                if len(value_obj.get("choices") or ()) > 1:
                    multiple_choices += 1
                found_any = True
                for dimension, value in values:
                    if is_gold:
                        key = (item_id, dimension)
                        if key in gold and gold[key][0] != value:
                            raise JudgmentTableError(
                                f"{where}: two ground-truth annotations disagree on "
                                f"{dimension!r} ({gold[key][0]!r} in {gold[key][1]}, {value!r} "
                                "here); keep one ground truth per item"
                            )
                        gold[key] = (value, f"annotation {annotation.get('id')}")
                        continue
                    rows.append(_ls_row(item_id, annotator, dimension, value, annotation, data))
            if is_gold and found_any:
                gold_count += 1
    warnings: list[str] = []
    if other_types:
        kinds = ", ".join(f"{kind} ({count})" for kind, count in sorted(other_types.items()))
        warnings.append(
            f"{source}: left out {sum(other_types.values())} result(s) that are not "
            f"choices, rating, number, pairwise or ranker: {kinds}"
        )
    if multiple_choices:
        warnings.append(
            f"{source}: {multiple_choices} result(s) chose several options; "
            "their values join the choices with '|'"
        )
    used_gold: set[tuple[str, str]] = set()
    for row in rows:
        key = (row["item_id"], row["dimension"])
        if key in gold:
            row["gold_value"] = gold[key][0]
            used_gold.add(key)
    unused = len(gold) - len(used_gold)
    if unused:
        warnings.append(
            f"{source}: {unused} ground-truth value(s) belong to items no annotator judged "
            "on that dimension; they are not in the table"
        )
    return _export_table(rows, source, "label-studio", skipped, gold_count, warnings)


def _ls_row(
    item_id: str,
    annotator: str | None,
    dimension: str,
    value: object,
    annotation: Mapping[str, Any],
    data: Mapping[str, Any],
) -> dict[str, Any]:
    display_left = data.get("display_left")
    return {
        "item_id": item_id,
        "annotator": annotator,
        "dimension": dimension,
        "value": value,
        "category": data.get("category"),
        "submitted_at": annotation.get("updated_at") or annotation.get("created_at"),
        "rubric_version": data.get("rubric_version"),
        "batch": data.get("batch"),
        "lead_time_s": annotation.get("lead_time"),
        "display_left": display_left,
        "length_a": _length(data.get("response_a")),
        "length_b": _length(data.get("response_b")),
    }


def _ls_ranks(name: str, value: Mapping[str, Any]) -> list[tuple[str, object]]:
    """A ``<Ranker>`` result (``{"ranker": {"<name>": [ids best first]}}``, or the ids
    directly) as one ``("<name>.<id>", rank)`` per ranked id, ranks 1, 2, ...; ``[]`` for any
    other shape (buckets, nothing ranked)."""
    ranked = value.get("ranker")
    if isinstance(ranked, dict):
        ranked = ranked.get(name)
    if not isinstance(ranked, list) or not ranked or not all(isinstance(i, str) for i in ranked):
        return []
    return [(f"{name}.{option}", rank) for rank, option in enumerate(ranked, 1)]


class _Unsupported:
    pass


_UNSUPPORTED = _Unsupported()


def _ls_value(value: Mapping[str, Any], display_left: object) -> object:
    if "choices" in value:
        choices = value["choices"]
        if isinstance(choices, list) and choices:
            return str(choices[0]) if len(choices) == 1 else "|".join(map(str, choices))
        return _UNSUPPORTED
    for key in ("rating", "number"):
        if key in value and isinstance(value[key], int | float):
            return value[key]
    if "selected" in value and value["selected"] in ("left", "right"):
        side = value["selected"]
        if display_left in _DISPLAY_SIDES:
            other = "b" if display_left == "a" else "a"
            return display_left if side == "left" else other
        return side
    return _UNSUPPORTED


def _ls_annotator(completed_by: object) -> str | None:
    if isinstance(completed_by, dict):
        email = completed_by.get("email")
        if isinstance(email, str) and email:
            return email
        completed_by = completed_by.get("id")
    if completed_by is None or isinstance(completed_by, bool):
        return None
    return _as_text(completed_by)


def _length(text: object) -> float | None:
    return float(len(text)) if isinstance(text, str) else None


# --------------------------------------------------------------------------------------------
# Argilla
# --------------------------------------------------------------------------------------------


def argilla_judgments(records: Sequence[Any], *, source: str = "<argilla>") -> JudgmentTable:
    """Read an Argilla 2.x export (``dataset.records.to_json(path)`` or ``to_list()``).

    Each record reads ``{"id", "fields", "metadata", "responses": {question: [{"value",
    "user_id", "status"?}]}, "suggestions", "vectors", "status", "_server_id"}``:

    - ``item_id`` is ``metadata.item_id`` if present, else the record ``id`` (else ``_server_id``);
    - ``annotator`` is the response's ``user_id``; ``dimension`` the question name;
    - ``category``, ``display_left``, ``rubric_version``, ``batch`` come from ``metadata``;
      ``length_a``/``length_b`` are the lengths of ``fields.response_a``/``fields.response_b``.

    Only submitted responses are judgments; ``draft`` and ``discarded`` ones count in
    ``skipped``. Argilla 2.8's ``to_json`` writes no per-response ``status``: such responses are
    counted as submitted, with a warning (export the responses with their status to tell).

    Rankings become one judgment per ranked option: dimension ``"{question}.{option}"``, value
    the option's rank (1 = best). A ranking given as ``[{"value", "rank"}]`` (the API form)
    keeps its ranks, ties included; one given as a plain list of options (what the 2.8 SDK
    exports) is read best first, ranks 1, 2, …, with a warning naming the question (a
    multi-label question would read the same way). Span answers and other structures are left
    out and counted in a warning. Suggestions (model predictions) are never judgments.

    Raises:
        JudgmentTableError: naming the record when it is not an object, has no id, or a response
            has no ``user_id``.
    """
    rows: list[dict[str, Any]] = []
    skipped = 0
    no_status = 0
    ranked_lists: set[str] = set()
    unsupported: Counter[str] = Counter()
    for position, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise JudgmentTableError(f"{source}: record #{position} is not an object")
        fields = record.get("fields") or {}
        metadata = record.get("metadata") or {}
        record_id = record.get("id") or record.get("_server_id")
        item_id = metadata.get("item_id")
        if _is_blank(item_id):
            item_id = record_id
        if _is_blank(item_id):
            raise JudgmentTableError(
                f"{source}: record #{position} has no 'id' and no metadata 'item_id'"
            )
        where = f"{source}: record {record_id or f'#{position}'}"
        common = {
            "item_id": _as_text(item_id),
            "category": metadata.get("category"),
            "rubric_version": metadata.get("rubric_version"),
            "batch": metadata.get("batch"),
            "display_left": metadata.get("display_left"),
            "length_a": _length(fields.get("response_a")),
            "length_b": _length(fields.get("response_b")),
        }
        responses = record.get("responses") or {}
        if not isinstance(responses, dict):
            raise JudgmentTableError(
                f"{where}: 'responses' is a {type(responses).__name__}, expected an object "
                "mapping each question to its list of responses"
            )
        for question, answers in responses.items():
            for answer in answers or []:
                status = answer.get("status")
                if status is None:
                    no_status += 1
                elif status != "submitted":
                    skipped += 1
                    continue
                user = answer.get("user_id")
                if _is_blank(user):
                    raise JudgmentTableError(
                        f"{where}: a response to {question!r} has no 'user_id'"
                    )
                for dimension, value in _argilla_values(
                    str(question), answer.get("value"), ranked_lists, unsupported
                ):
                    rows.append(
                        {
                            **common,
                            "annotator": _as_text(user),
                            "dimension": dimension,
                            "value": value,
                        }
                    )
    warnings: list[str] = []
    if no_status:
        warnings.append(
            f"{source}: {no_status} response(s) carry no status (Argilla's records.to_json "
            "drops it); they were counted as submitted, so drafts may be among them"
        )
    for question in sorted(ranked_lists):
        warnings.append(
            f"{source}: question {question!r} was answered with lists of options; read as "
            "rankings, best first (ranks 1, 2, …; ties are lost in this export)"
        )
    if unsupported:
        kinds = ", ".join(f"{q} ({c})" for q, c in sorted(unsupported.items()))
        warnings.append(
            f"{source}: left out {sum(unsupported.values())} answer(s) that are not a label, "
            f"rating or ranking: {kinds}"
        )
    return _export_table(rows, source, "argilla", skipped, 0, warnings)


def _argilla_values(
    question: str,
    value: object,
    ranked_lists: set[str],
    unsupported: Counter[str],
) -> list[tuple[str, object]]:
    if isinstance(value, str | int | float) and not _is_blank(value):
        return [(question, value)]
    if isinstance(value, list) and value:
        if all(isinstance(v, str) for v in value):
            ranked_lists.add(question)
            return [(f"{question}.{option}", rank) for rank, option in enumerate(value, 1)]
        if all(isinstance(v, dict) and "value" in v and "start" not in v for v in value):
            return [
                (f"{question}.{v['value']}", v.get("rank") if v.get("rank") is not None else r)
                for r, v in enumerate(value, 1)
            ]
    unsupported[question] += 1
    return []


# --------------------------------------------------------------------------------------------
# Shared
# --------------------------------------------------------------------------------------------


def _export_table(
    rows: list[dict[str, Any]],
    source: str,
    format: TableFormat,
    skipped: int,
    gold: int,
    warnings: list[str],
) -> JudgmentTable:
    if rows:
        frame = pd.DataFrame.from_records(rows)
    else:
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in REQUIRED_COLUMNS})
        warnings.append(f"{source}: no judgments found")
    validated, more = _validate(frame, _Rows(source, None), from_text=False)
    return JudgmentTable(
        frame=validated,
        source=source,
        format=format,
        skipped=skipped,
        gold=gold,
        warnings=(*warnings, *more),
    )
