"""Judgments from a Labelbox project export (export v2: NDJSON, one data row per line).

Each line is ``{"data_row": {"id", "global_key", "external_id", "row_data", ...},
"metadata_fields": [...], "projects": {PROJECT_ID: {"name", "labels": [...],
"project_details": {...}}}}``; each label carries ``label_details`` (``created_by``,
``created_at``, ``updated_at``), ``performance_details`` (``seconds_to_create``, ``skipped``)
and ``annotations`` (``objects``, ``classifications``, ``relationships``). Documented at
https://docs.labelbox.com/reference/export-glossary and
https://docs.labelbox.com/reference/export-text-annotations (classification answers:
``radio_answer``, ``checklist_answers``, ``text_answer``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connector.errors import JudgmentTableError
from connector.judgments.sources import (
    AnswerMap,
    PlatformTable,
    Reading,
    mapping,
    seconds,
    text_or_none,
    timestamp,
)

__all__ = ["labelbox_judgments"]

_BENCHMARK_KEYS = ("is_benchmark_reference", "isBenchmarkReferenceLabel")


def labelbox_judgments(
    rows: Sequence[Any],
    *,
    source: str = "<labelbox>",
    lines: Sequence[int] | None = None,
    answers: AnswerMap | None = None,
) -> PlatformTable:
    """Read a Labelbox export v2 (one data row per record) as judgments.

    One judgment per label and classification answer:

    - ``item_id`` is the data row's ``global_key``, else ``external_id``, else ``id``;
    - ``annotator`` is the label's ``label_details.created_by``;
    - ``dimension`` is the classification's ``value`` (its schema name), else ``name``;
      nested classifications (under a radio or checklist option) are dimensions too, and a
      classification of one message in a conversation is ``dimension.MESSAGE_ID``;
    - ``value`` is the ``radio_answer`` option's ``value`` (else ``name``), or the
      ``checklist_answers`` options joined with ``|``; ``text_answer`` content is the
      label's ``rationale`` (unless ``answers`` maps it to a dimension);
    - ``submitted_at`` is ``label_details.updated_at`` (a relabelled answer counts as of its
      last edit), else ``created_at``; ``lead_time_s`` is
      ``performance_details.seconds_to_create``;
    - ``batch`` is ``project_details.batch_name``; ``category``, ``display_left``,
      ``rubric_version`` come from metadata fields of those names.

    Labels the labeler skipped (``performance_details.skipped``) are not judgments. Benchmark
    reference labels (marked ``is_benchmark_reference``) are gold: their answers fill
    ``gold_value`` and they count in ``gold``. Object annotations (boxes, entities) are left
    out and counted.

    Raises:
        JudgmentTableError: naming ``file:line`` when a record has no ``data_row`` object or no
            id, ``projects`` is not an object, or a label has no ``label_details.created_by``.
    """
    reading = Reading(source, "labelbox", lines, answers or AnswerMap())
    relabelled = 0
    for position, record in enumerate(rows):
        where = reading.where(position)
        if not isinstance(record, dict) or not isinstance(record.get("data_row"), dict):
            raise JudgmentTableError(
                f"{where}: no 'data_row' object; a Labelbox export v2 has one data row per "
                "line (export the project as JSON/NDJSON, not CSV)"
            )
        data_row: dict[str, Any] = record["data_row"]
        item_key = next(
            (k for k in ("global_key", "external_id", "id") if text_or_none(data_row.get(k))),
            None,
        )
        if item_key is None:
            raise JudgmentTableError(
                f"{where}: the data row has no 'global_key', 'external_id' or 'id'"
            )
        item_id = str(text_or_none(data_row[item_key]))
        reading.use("item_id", f"data_row.{item_key}")
        metadata = _metadata(record.get("metadata_fields"))
        projects = record.get("projects") or {}
        if not isinstance(projects, dict):
            raise JudgmentTableError(
                f"{where}: 'projects' is a {type(projects).__name__}, expected an object "
                "mapping each project id to its labels"
            )
        for project in projects.values():
            if not isinstance(project, dict):
                continue
            details = project.get("project_details")
            batch = text_or_none(details.get("batch_name")) if isinstance(details, dict) else None
            for label in project.get("labels") or []:
                if not isinstance(label, dict):
                    continue
                relabelled += _read_label(reading, position, where, item_id, label, metadata, batch)
    if relabelled:
        reading.notes.append(
            f"{relabelled} label(s) were edited after they were created; each counts as of "
            "its last edit (label_details.updated_at)"
        )
    return reading.table()


def _read_label(
    reading: Reading,
    position: int,
    where: str,
    item_id: str,
    label: Mapping[str, Any],
    metadata: Mapping[str, Any],
    batch: str | None,
) -> int:
    """Add one label's judgments (or gold); 1 if the label was edited after creation."""
    details = mapping(label.get("label_details"))
    performance = mapping(label.get("performance_details"))
    label_where = f"{where}: label {label.get('id')}"
    if performance.get("skipped") is True:
        reading.skipped["labels the labeler skipped (performance_details.skipped)"] += 1
        return 0
    is_gold = any(label.get(k) is True or details.get(k) is True for k in _BENCHMARK_KEYS)
    annotator = text_or_none(details.get("created_by"))
    if annotator is None and not is_gold:
        raise JudgmentTableError(
            f"{label_where}: no label_details.created_by; export with label details: "
            "project.export(params={'label_details': True, 'performance_details': True})"
        )
    annotations = mapping(label.get("annotations"))
    objects = annotations.get("objects") or []
    if isinstance(objects, list) and objects:
        reading.left_out["object annotation(s) (boxes, entities, regions: not judgments)"] += len(
            objects
        )
    found: list[tuple[str, object]] = []
    rationale: list[str] = []
    _classifications(reading, annotations.get("classifications"), found, rationale)
    if not found:
        reading.left_out["label(s) with no classification answer"] += 1
        return 0
    if is_gold:
        reading.gold_records += 1
        reading.use("gold_value", "benchmark reference labels (is_benchmark_reference)")
        for dimension, value in found:
            reading.add_gold(item_id, dimension, value, f"line {reading.line(position)}")
        return 0
    created = timestamp(details.get("created_at"), "label_details.created_at", label_where)
    updated = timestamp(details.get("updated_at"), "label_details.updated_at", label_where)
    submitted = updated or created
    if submitted is not None:
        reading.use("submitted_at", "label_details.updated_at, else created_at")
    lead = seconds(
        performance.get("seconds_to_create"), "performance_details.seconds_to_create", label_where
    )
    if lead is not None:
        reading.use("lead_time_s", "performance_details.seconds_to_create")
    if batch is not None:
        reading.use("batch", "project_details.batch_name")
    reading.use("annotator", "label_details.created_by")
    for column in ("category", "display_left", "rubric_version"):
        reading.use_if(column, metadata.get(column), f"metadata field {column!r}")
    for dimension, value in found:
        reading.add(
            position,
            {
                "item_id": item_id,
                "annotator": annotator,
                "dimension": dimension,
                "value": value,
                "submitted_at": submitted,
                "lead_time_s": lead,
                "batch": batch,
                "category": metadata.get("category"),
                "display_left": metadata.get("display_left"),
                "rubric_version": metadata.get("rubric_version"),
                "rationale": "\n".join(rationale) if rationale else None,
            },
        )
    return int(created is not None and updated is not None and updated > created)


def _classifications(
    reading: Reading,
    classifications: object,
    found: list[tuple[str, object]],
    rationale: list[str],
) -> None:
    """Collect (dimension, value) pairs and rationale text, nested classifications included."""
    if not isinstance(classifications, list):
        return
    for classification in classifications:
        if not isinstance(classification, dict):
            continue
        given = (classification.get("value"), classification.get("name"))
        names = [n for n in dict.fromkeys(map(text_or_none, given)) if n is not None]
        if not names:
            reading.left_out["classification(s) with no name"] += 1
            continue
        message = text_or_none(classification.get("message_id"))
        radio = classification.get("radio_answer")
        checklist = classification.get("checklist_answers")
        text = classification.get("text_answer")
        if isinstance(radio, dict):
            value = text_or_none(radio.get("value")) or text_or_none(radio.get("name"))
            _judged(reading, names, message, value, found)
            reading.use("value", "radio_answer.value, or checklist_answers joined with '|'")
            _classifications(reading, radio.get("classifications"), found, rationale)
        elif isinstance(checklist, list):
            options = [
                text_or_none(o.get("value")) or text_or_none(o.get("name"))
                for o in checklist
                if isinstance(o, dict)
            ]
            chosen = [o for o in options if o is not None]
            if len(chosen) > 1:
                reading.multiple["checklist answer(s)"] += 1
            _judged(reading, names, message, "|".join(chosen) or None, found)
            for option in checklist:
                if isinstance(option, dict):
                    _classifications(reading, option.get("classifications"), found, rationale)
        elif isinstance(text, dict):
            content = text_or_none(text.get("content"))
            role, dimension = reading.role(names, free_text=True)
            if content is None:
                continue
            if role == "rationale":
                reading.use("rationale", "text_answer.content")
                rationale.append(content)
            elif role == "dimension" and dimension is not None:
                found.append((_message_dimension(dimension, message), content))
        else:
            reading.left_out["classification answer(s) of other kinds"] += 1


def _judged(
    reading: Reading,
    names: list[str],
    message: str | None,
    value: str | None,
    found: list[tuple[str, object]],
) -> None:
    role, dimension = reading.role(names)
    if role == "rationale" and value is not None:
        return
    if role != "dimension" or dimension is None:
        return
    if value is None:
        reading.left_out["classification(s) with no option chosen"] += 1
        return
    reading.use("dimension", "classification value (its schema name), else name")
    found.append((_message_dimension(dimension, message), value))


def _message_dimension(dimension: str, message: str | None) -> str:
    return dimension if message is None else f"{dimension}.{message}"


def _metadata(fields: object) -> dict[str, Any]:
    if not isinstance(fields, list):
        return {}
    found: dict[str, Any] = {}
    for entry in fields:
        if isinstance(entry, dict) and isinstance(entry.get("schema_name"), str):
            value = entry.get("value")
            if isinstance(value, dict):
                value = value.get("schema_name")
            found[entry["schema_name"]] = text_or_none(value)
    return found
