"""Rubric → Argilla dataset settings (fields, questions, distribution), the settings check, and
response parsing.

Records show the prompt and two responses as fields ``response_a`` (shown first) and
``response_b`` (shown second); which canonical response (``a`` or ``b``) is shown first is the
record's recorded display side, and a preference answer ``a``/``b`` refers to what was shown,
mapped back on pull. Questions:

- preference → ``LabelQuestion`` with labels ``a``, ``b`` and the non-decisive values;
- signed preference scale (``signed: true``, e.g. -3 … 3) → ``LabelQuestion`` whose labels are
  the values (``"-3"`` … ``"3"``: a ``RatingQuestion`` takes only 0–10) with texts relative to
  what is shown ("Response A is much better" … "About the same" … "Response B is much
  better"), mirrored back on pull when response_b was shown first;
- rating with integer values → ``RatingQuestion``; ranking → ``RankingQuestion`` whose options
  are the rubric's values (the response ids, shown as fields ``response_<id>``; an answer
  ``[{"value": "b", "rank": 1}, ...]`` becomes the ranking ``"b>a=c>d"``, equal ranks a tie, see
  :mod:`connector.judgments.rankings`); any other choice → ``LabelQuestion``.

Overlap is ``TaskDistribution(min_submitted=K)`` with K the rubric's annotators per item.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from connector.errors import ConnectorError
from connector.judgments.rankings import (
    RankingError,
    format_ranking,
    parse_ranking,
    ranking_from_ranks,
)
from connector.rubric import Dimension, Rubric, Value, signed_text

__all__ = [
    "AGREEMENT_PROPERTY",
    "SettingsError",
    "agreement_property",
    "check_settings",
    "dataset_fields",
    "dataset_questions",
    "parse_response_value",
    "ranking_field",
]

AGREEMENT_PROPERTY = "iaa_agreement"


def _argilla_name(text: str) -> str:
    """``text`` as an Argilla field or property name (``^[a-z0-9_-]+$``: other characters,
    upper case included, become ``_`` after lowering)."""
    return re.sub(r"[^a-z0-9_-]", "_", text.lower())


def ranking_field(option: Value) -> str:
    """The field showing a ranking's response ``option``: ``response_<option>``."""
    return _argilla_name(f"response_{option}")


def agreement_property(dimension: str) -> str:
    """The hidden Float metadata property holding a record's agreement on ``dimension``; the
    characters Argilla does not allow in a property name (anything but ``a-z``, ``0-9``, ``_``
    and ``-``, e.g. the dot of a ranking's derived ``order.a``) become ``_``."""
    return _argilla_name(f"{AGREEMENT_PROPERTY}_{dimension}")


LABELS = {
    "a": "Response A is better",
    "b": "Response B is better",
    "tie": "Tie",
    "both_bad": "Both bad",
}


class SettingsError(ConnectorError, ValueError):
    """A rubric cannot be expressed as, or does not match, an Argilla dataset's settings."""


def _pairwise(rubric: Rubric) -> bool:
    return any(d.kind == "preference" for d in rubric.dimensions)


def dataset_fields(rubric: Rubric) -> list[dict[str, Any]]:
    """The REST bodies of the dataset's fields (``POST /api/v1/datasets/{id}/fields``)."""
    names = ["prompt", "response_a", "response_b"] if _pairwise(rubric) else ["prompt"]
    if not _pairwise(rubric) and any(d.kind != "ranking" for d in rubric.dimensions):
        names.append("response")
    titles = {
        "prompt": "Prompt",
        "response_a": "Response A",
        "response_b": "Response B",
        "response": "Response",
    }
    required = set(names)
    for dimension in rubric.dimensions:
        if dimension.kind == "ranking":
            for option in dimension.values:
                name = ranking_field(option)
                if name not in titles:
                    titles[name] = f"Response {str(option).upper()}"
                if name not in names:
                    names.append(name)
    return [
        {
            "name": name,
            "title": titles[name],
            # the two responses of a pair are required; further responses of a ranking are not
            # (a calibration item holds two; records pushed another way can hold more)
            "required": name in required or name in ("response_a", "response_b"),
            "settings": {"type": "text", "use_markdown": True},
        }
        for name in names
    ]


def _question_settings(dimension: Dimension) -> dict[str, Any]:
    values = dimension.values
    if dimension.kind == "rating" and all(
        isinstance(v, int) and not isinstance(v, bool) for v in values
    ):
        return {"type": "rating", "options": [{"value": v} for v in values]}
    if dimension.kind == "ranking":
        return {
            "type": "ranking",
            "options": [{"value": str(v), "text": f"Response {str(v).upper()}"} for v in values],
        }
    return {
        "type": "label_selection",
        "options": [{"value": str(v), "text": _option_text(dimension, v)} for v in values],
    }


def _option_text(dimension: Dimension, value: Value) -> str:
    """``Response A is better`` for the value naming response_a (``a``, or the rubric's
    ``first``), ... ; other values by :data:`LABELS` or as written."""
    if dimension.signed:
        return signed_text(dimension, value, first="Response A", second="Response B")
    side = dimension.response_of(value)
    return LABELS[side] if side is not None else LABELS.get(str(value), str(value))


def dataset_questions(rubric: Rubric) -> list[dict[str, Any]]:
    """The REST bodies of the dataset's questions (``POST /api/v1/datasets/{id}/questions``).

    Ratings qualifying a preference (e.g. its strength) are optional: they stay empty after a
    non-decisive answer such as ``tie``.
    """
    pairwise = _pairwise(rubric)
    return [
        {
            "name": d.name,
            "title": d.question[:500],
            "required": not (pairwise and d.kind == "rating"),
            "settings": _question_settings(d),
        }
        for d in rubric.dimensions
    ]


def _option_values(settings: Mapping[str, Any]) -> list[str]:
    return [str(option.get("value")) for option in settings.get("options") or []]


def check_settings(
    questions: Sequence[Mapping[str, Any]],
    fields: Sequence[Mapping[str, Any]],
    rubric: Rubric,
    *,
    dataset: str,
) -> None:
    """Raise :class:`SettingsError` naming the first field or question that does not match."""
    where = f"Argilla dataset {dataset}"
    present = {str(f.get("name")) for f in fields}
    for field in dataset_fields(rubric):
        if field["name"] not in present:
            raise SettingsError(
                f"{where}: no field named {field['name']!r}; fields found: {sorted(present)}"
            )
    by_name = {str(q.get("name")): q for q in questions}
    for dimension in rubric.dimensions:
        expected = _question_settings(dimension)
        question = by_name.get(dimension.name)
        if question is None:
            raise SettingsError(
                f"{where}: no question named {dimension.name!r} (rubric {rubric.ref} needs a "
                f"{expected['type']} question); questions found: {sorted(by_name)}"
            )
        settings = question.get("settings") or {}
        if settings.get("type") != expected["type"]:
            raise SettingsError(
                f"{where}: question {dimension.name!r} is {settings.get('type')!r}, but rubric "
                f"{rubric.ref} needs {expected['type']!r}"
            )
        if sorted(_option_values(settings)) != sorted(_option_values(expected)):
            raise SettingsError(
                f"{where}: question {dimension.name!r} offers {_option_values(settings)}, but "
                f"rubric {rubric.ref} expects {_option_values(expected)}"
            )


def parse_response_value(value: Any, dimension: Dimension, display_left: str | None) -> Value:
    """The rubric value of one response to one question.

    Raises:
        SettingsError: a value outside the rubric (the caller quarantines it).
    """
    if dimension.kind == "ranking":
        return _ranking(value, dimension)
    for candidate in dimension.values:
        if candidate == value or (isinstance(value, str) and str(candidate) == value):
            return candidate if (display_left or "a") == "a" else dimension.mirrored(candidate)
    raise SettingsError(
        f"value {value!r} for {dimension.name!r} is not one of {list(dimension.values)}"
    )


def _ranking(value: Any, dimension: Dimension) -> str:
    """A ``RankingQuestion`` answer (``[{"value": id, "rank": r}, ...]``, or a plain list of ids
    best first) as the ranking string; an option without a rank is left out (incomplete)."""
    try:
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            ranks = {str(v.get("value")): v.get("rank") for v in value if v.get("rank") is not None}
            return ranking_from_ranks(ranks, dimension)
        if isinstance(value, list):
            return format_ranking(parse_ranking(value, dimension), dimension)
    except RankingError as exc:
        raise SettingsError(str(exc)) from None
    raise SettingsError(
        f"value {value!r} for {dimension.name!r} is not a ranking (a list of "
        '{"value": ..., "rank": ...})'
    )
