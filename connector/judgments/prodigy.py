"""Judgments from a Prodigy dataset exported with ``prodigy db-out DATASET > file.jsonl``.

Every line is an annotated task: the task as it was shown plus ``answer`` (``accept``,
``reject`` or ``ignore``), ``_input_hash`` / ``_task_hash``, ``_annotator_id`` /
``_session_id`` and ``_timestamp`` (Unix seconds). Documented at
https://prodi.gy/docs/api-interfaces (task formats, ``answer``, the ``choice`` interface's
``options`` and ``accept``), https://prodi.gy/docs/recipes#db-out and
https://prodi.gy/docs/task-routing (annotator and session ids).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from connector.errors import JudgmentTableError
from connector.judgments.sources import (
    AnswerMap,
    PlatformTable,
    Reading,
    answer_value,
    length,
    looks_like_rationale,
    mapping,
    text_or_none,
    timestamp,
)

__all__ = ["prodigy_judgments"]

_ANSWERS = ("accept", "reject", "ignore")
_SIDES = ("a", "b")
_TEXT_INPUT = "user_input"  # the text_input interface's default field_id
_UNNAMED_SESSION = re.compile(r"(^|-)\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}$")


def prodigy_judgments(
    records: Sequence[Any],
    *,
    source: str = "<prodigy>",
    lines: Sequence[int] | None = None,
    answers: AnswerMap | None = None,
) -> PlatformTable:
    """Read Prodigy ``db-out`` records (one annotated task each) as judgments.

    - ``item_id`` is ``_input_hash`` (the same input asked in differently shuffled tasks is
      one item), else ``_task_hash``;
    - ``annotator`` is ``_annotator_id`` (``dataset-session`` with named sessions), else
      ``_session_id``;
    - ``submitted_at`` is ``_timestamp`` (Unix seconds);
    - a ``choice`` task (one with ``options``) gives one judgment: the selected option ids in
      ``accept`` (several, with ``choice_style: multiple``, are joined with ``|``); its
      dimension is the task's ``label``, else ``choice``. For an A/B comparison whose options
      have the ids ``a`` and ``b``, ``display_left`` is the one listed first and
      ``length_a``/``length_b`` the lengths of their texts;
    - any other task (binary: accept or reject a ``label``) gives ``accept`` or ``reject`` as
      the value of dimension ``label`` (else ``answer``);
    - ``category``, ``batch``, ``rubric_version`` come from ``meta``; a free-text answer
      (``user_input``, or a field named in ``answers.rationale`` or named like rationale) is
      kept as ``rationale``.

    ``ignore`` answers are skips, not judgments; ``reject`` on a choice task (the task itself
    rejected, no option judged) and an accepted choice task with no option selected are
    skipped too; each is counted in the notes. Records from the ``review`` recipe (they carry
    ``versions``) are the reviewer's reference answers: they fill ``gold_value`` and count in
    ``gold``.

    Raises:
        JudgmentTableError: naming ``file:line`` when a record is not an object, has no
            ``answer`` or an unknown one, no input or task hash, or no annotator or session id.
    """
    reading = Reading(source, "prodigy", lines, answers or AnswerMap())
    unnamed = 0
    for position, record in enumerate(records):
        where = reading.where(position)
        if not isinstance(record, dict):
            raise JudgmentTableError(
                f"{where}: expected a JSON object (one annotated task per line), "
                f"got {type(record).__name__}"
            )
        answer = record.get("answer")
        if answer is None:
            raise JudgmentTableError(
                f"{where}: no 'answer'; this is a task, not an annotation: export the "
                "annotations with `prodigy db-out DATASET > annotations.jsonl`"
            )
        if answer not in _ANSWERS:
            raise JudgmentTableError(
                f"{where}: 'answer' is {answer!r}; Prodigy answers are accept, reject or ignore"
            )
        if answer == "ignore":
            reading.skipped["answer 'ignore' (a skip, not a judgment)"] += 1
            continue
        item_id = text_or_none(record.get("_input_hash")) or text_or_none(record.get("_task_hash"))
        if item_id is None:
            raise JudgmentTableError(
                f"{where}: no '_input_hash' or '_task_hash'; `prodigy db-out` writes both, "
                "add them with prodigy.set_hashes if the file was made another way"
            )
        annotator = text_or_none(record.get("_annotator_id")) or text_or_none(
            record.get("_session_id")
        )
        is_review = "versions" in record
        if annotator is None and not is_review:
            raise JudgmentTableError(
                f"{where}: no '_annotator_id' or '_session_id'; export the dataset with "
                "`prodigy db-out` from Prodigy 1.8 or later, which records who answered"
            )
        reading.use(
            "item_id",
            "_input_hash" if text_or_none(record.get("_input_hash")) else "_task_hash",
        )
        reading.use(
            "annotator",
            "_annotator_id" if text_or_none(record.get("_annotator_id")) else "_session_id",
        )
        options = record.get("options")
        judged = _judgment(reading, record, answer, options)
        if judged is None:
            continue
        dimension, value, extra = judged
        if is_review:
            reading.gold_records += 1
            reading.add_gold(item_id, dimension, value, f"line {reading.line(position)}")
            reading.use("gold_value", "review recipe answers (records with 'versions')")
            continue
        if _UNNAMED_SESSION.search(annotator or ""):
            unnamed += 1
        meta = mapping(record.get("meta"))
        submitted = timestamp(record.get("_timestamp"), "_timestamp", where)
        if submitted is not None:
            reading.use("submitted_at", "_timestamp (Unix seconds)")
        rationale = _rationale(reading, record)
        reading.use_if("category", meta.get("category"), "meta.category")
        reading.use_if("batch", meta.get("batch"), "meta.batch")
        reading.use_if("rubric_version", meta.get("rubric_version"), "meta.rubric_version")
        reading.add(
            position,
            {
                "item_id": item_id,
                "annotator": annotator,
                "dimension": dimension,
                "value": value,
                "category": meta.get("category"),
                "batch": meta.get("batch"),
                "rubric_version": meta.get("rubric_version"),
                "submitted_at": submitted,
                "rationale": rationale,
                **extra,
            },
        )
    if unnamed:
        reading.warnings.append(
            f"{source}: {unnamed} judgment(s) come from unnamed sessions (ids like "
            "2024-02-06_10-17-19): each start of the Prodigy server counts as another "
            "annotator; have annotators open /?session=NAME"
        )
    return reading.table()


def _judgment(
    reading: Reading, record: Mapping[str, Any], answer: str, options: object
) -> tuple[str, object, dict[str, Any]] | None:
    """(dimension, value, display columns) of one record, or None when it is skipped."""
    label = text_or_none(record.get("label"))
    if isinstance(options, list):
        if answer == "reject":
            reading.skipped[
                "answer 'reject' on a choice task (the task rejected, no option judged)"
            ] += 1
            return None
        value, several = answer_value(record.get("accept"))
        if value is None:
            reading.skipped["choice tasks accepted with no option selected"] += 1
            return None
        if several:
            reading.multiple["choice task(s)"] += 1
        role, dimension = reading.role([label or "choice"])
        if role != "dimension" or dimension is None:
            return None
        reading.use("dimension", "the task's 'label', else 'choice'")
        reading.use("value", "'accept' (the selected option ids of a choice task)")
        return dimension, value, _display(reading, options)
    role, dimension = reading.role([label or "answer"])
    if role != "dimension" or dimension is None:
        return None
    reading.use("dimension", "the task's 'label', else 'answer'")
    reading.use("value", "'answer' (accept or reject of a binary task)")
    return dimension, answer, {}


def _display(reading: Reading, options: list[Any]) -> dict[str, Any]:
    ids = [text_or_none(o.get("id")) if isinstance(o, dict) else None for o in options]
    sides = [i for i in ids if i in _SIDES]
    if sorted(sides) != list(_SIDES):
        return {}
    texts = {i: o.get("text") for i, o in zip(ids, options, strict=True) if i in _SIDES}
    reading.use("display_left", "the first of the options 'a' and 'b'")
    if any(isinstance(t, str) for t in texts.values()):
        reading.use("length_a", "text of option 'a'")
        reading.use("length_b", "text of option 'b'")
    return {
        "display_left": sides[0],
        "length_a": length(texts.get("a")),
        "length_b": length(texts.get("b")),
    }


def _rationale(reading: Reading, record: Mapping[str, Any]) -> str | None:
    texts: list[str] = []
    for key, value in record.items():
        if key.startswith("_") or not isinstance(value, str) or not value.strip():
            continue
        if key == _TEXT_INPUT or key in reading.answers.rationale or looks_like_rationale(key):
            reading.use("rationale", f"free-text field {key!r}")
            reading.fields_seen.add(key)
            texts.append(value.strip())
    return "\n".join(texts) if texts else None
