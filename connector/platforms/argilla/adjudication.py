"""Argilla adjudication dataset: its fields and questions, record fields, rulings read back.

The adjudication dataset is a separate dataset (``adjudication_project_id``). Each record shows
one item and one dimension (field ``asked``), the prompt, the responses in canonical order
(``response_a``, ``response_b``: a ruling ``a`` means response A as shown) and the judgments
(field ``judgments``, Markdown, each annotator by a neutral label). Questions: one optional
``ruling_<dimension>`` label question per dimension and a required text question ``reason``.
Only submitted responses are read, and only the question of the record's own dimension (the
record's key ends with it); a missing or unknown value or an empty reason is reported with the
record and response id, never stored as a ruling.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from connector.platforms.adjudication import (
    REASON,
    AdjudicationTask,
    PulledRuling,
    judgments_text,
    ruling_question,
)
from connector.platforms.argilla.settings import LABELS, SettingsError, _pairwise
from connector.platforms.base import objects_with_ids, parse_timestamp
from connector.rubric import Dimension, Rubric, Value

__all__ = [
    "adjudication_fields",
    "adjudication_questions",
    "adjudication_record_fields",
    "check_adjudication_settings",
    "dimension_of_key",
    "parse_rulings",
]

PLATFORM = "argilla"


def dimension_of_key(key: str) -> str | None:
    """The dimension an adjudication task key ends with (``adj-<hmac>-<dimension>``)."""
    parts = key.split("-", 2)
    return parts[2] if len(parts) == 3 and parts[0] == "adj" else None


def adjudication_fields(rubric: Rubric) -> list[dict[str, Any]]:
    """The REST bodies of the adjudication dataset's fields."""
    names = ["asked", "prompt", "response_a"]
    if _pairwise(rubric):
        names.append("response_b")
    names.append("judgments")
    titles = {
        "asked": "Rule on",
        "prompt": "Prompt",
        "response_a": "Response A" if _pairwise(rubric) else "Response",
        "response_b": "Response B",
        "judgments": "Judgments",
    }
    return [
        {
            "name": name,
            "title": titles[name],
            "required": True,
            "settings": {"type": "text", "use_markdown": True},
        }
        for name in names
    ]


def _option_text(dimension: Dimension, value: Value) -> str:
    """As the Label Studio form: on a signed scale the value leads (``-3: Response A is
    better``), since several values name one response."""
    side = dimension.response_of(value)
    if side is None:
        return LABELS.get(str(value), str(value))
    return f"{value}: {LABELS[side]}" if dimension.signed else LABELS[side]


def adjudication_questions(rubric: Rubric) -> list[dict[str, Any]]:
    """The REST bodies of its questions: an optional label question per dimension, a required
    reason."""
    questions: list[dict[str, Any]] = [
        {
            "name": ruling_question(d.name),
            "title": f"Ruling on {d.name} (only if asked above)"[:500],
            "required": False,
            "settings": {
                "type": "label_selection",
                "options": [{"value": str(v), "text": _option_text(d, v)} for v in d.values],
            },
        }
        for d in rubric.dimensions
    ]
    questions.append(
        {
            "name": REASON,
            "title": "Reason for the ruling",
            "required": True,
            "settings": {"type": "text", "use_markdown": False},
        }
    )
    return questions


def check_adjudication_settings(
    questions: Sequence[Mapping[str, Any]], rubric: Rubric, *, dataset: str
) -> None:
    """Raise :class:`SettingsError` naming the first question the dataset lacks."""
    where = f"Argilla adjudication dataset {dataset}"
    by_name = {str(q.get("name")): q for q in questions}
    hint = (
        "name a new dataset as adjudication_project_id (a draft is set up and published on the "
        "first `iaa-connector adjudication queue`)"
    )
    for expected in adjudication_questions(rubric):
        question = by_name.get(expected["name"])
        if question is None:
            raise SettingsError(f"{where}: no question named {expected['name']!r}; {hint}")
        settings = question.get("settings") or {}
        if settings.get("type") != expected["settings"]["type"]:
            raise SettingsError(
                f"{where}: question {expected['name']!r} is {settings.get('type')!r}, not "
                f"{expected['settings']['type']!r}; {hint}"
            )
        wanted = sorted(o["value"] for o in expected["settings"].get("options", []))
        found = sorted(str(o.get("value")) for o in settings.get("options") or [])
        if wanted and found != wanted:
            raise SettingsError(
                f"{where}: question {expected['name']!r} offers {found}, not {wanted}; {hint}"
            )


def adjudication_record_fields(task: AdjudicationTask, rubric: Rubric) -> dict[str, str]:
    """What the senior annotator sees on the record."""
    fields = {
        "asked": f"{task.dimension}: {task.question}",
        "prompt": task.prompt,
        "response_a": task.response_a,
        "judgments": judgments_text(task),
    }
    if _pairwise(rubric):
        fields["response_b"] = task.response_b or "(none)"
    return fields


def _value(values: Mapping[str, Any], name: str) -> Any:
    answer = values.get(name)
    return answer.get("value") if isinstance(answer, dict) else None


def parse_rulings(
    records: Iterable[Any], rubric: Rubric, *, users: Mapping[str, str]
) -> list[PulledRuling]:
    """Every submitted response on the records, as a ruling or a ruling with a problem."""
    dimensions = {d.name: d for d in rubric.dimensions}
    found: list[PulledRuling] = []
    for record in records:
        record_id = str(record.get("id"))
        key = record.get("external_id")
        asked = dimension_of_key(key) if isinstance(key, str) else None
        if not isinstance(key, str) or asked is None:
            continue  # not a record the connector created
        for response_id, response in objects_with_ids(
            record,
            "responses",
            noun="response",
            owner_noun="record",
            identifier=lambda v: None if v is None else str(v),
            platform=PLATFORM,
            task_id=record_id,
        ):
            if response.get("status") != "submitted":
                continue
            listed = response.get("values")
            values: Mapping[str, Any] = listed if isinstance(listed, dict) else {}
            reason = str(_value(values, REASON) or "").strip()
            stamp = response.get("updated_at") or response.get("inserted_at")
            user = str(response.get("user_id"))
            dimension = dimensions.get(asked)
            value: Value | None = None
            problem: str | None = None
            if dimension is None:
                problem = f"dimension {asked!r} is not in rubric {rubric.ref}"
            else:
                picked = _value(values, ruling_question(asked))
                if picked is None:
                    problem = f"no answer to {ruling_question(asked)!r} (the dimension asked)"
                else:
                    value = next((v for v in dimension.values if str(v) == str(picked)), None)
                    if value is None:
                        problem = (
                            f"answer {picked!r} is not one of {asked!r}'s values "
                            f"{[str(v) for v in dimension.values]}"
                        )
            if problem is None and not reason:
                problem = "no reason given (the reason question is required)"
                value = None
            found.append(
                PulledRuling(
                    task_key=key,
                    annotation_id=response_id,
                    dimension=asked,
                    value=value,
                    reason=reason,
                    ruled_by=users.get(user, user),
                    ruled_at=parse_timestamp(str(stamp)),
                    problem=problem,
                )
            )
    return found
