"""Items: the things judged (a prompt with one or two responses), read from JSON Lines.

An items file has one item per line::

    {"item_key": "p-001", "category": "coding", "prompt": "...", "response_a": "...",
     "response_b": "...", "answers": {"overall": "a", "strength": 2}}

``response_b`` is omitted for rubrics that rate a single response. ``answers`` is optional: a
gold file (see :mod:`connector.calibration.gold`) is an items file whose every item has
answers. Each answer must be one of its dimension's values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.errors import ConnectorError
from connector.rubric import Rubric, Value

__all__ = ["Item", "ItemFileError", "load_items"]


class ItemFileError(ConnectorError, ValueError):
    """An items or gold file is invalid; the message names the file and line."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """One item's content, and its expected answers when it is gold."""

    item_key: str
    prompt: str
    response_a: str
    response_b: str | None
    category: str | None
    answers: Mapping[str, Value]


def _text(record: Mapping[str, Any], key: str, where: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ItemFileError(f"{where}: {key!r} must be a non-empty string")
    return value


def _optional_text(record: Mapping[str, Any], key: str, where: str) -> str | None:
    return None if record.get(key) is None else _text(record, key, where)


def _as_in_rubric(value: object, values: tuple[Value, ...]) -> str:
    """The rubric's own spelling of ``value`` as JSON (``1`` for ``"1"``, ``"1"`` for 1)."""
    match = next(v for v in values if str(v) == str(value))
    return json.dumps(match)


def load_items(path: str | Path, rubric: Rubric, *, require_answers: bool = False) -> list[Item]:
    """Read and validate an items file against the rubric.

    Raises:
        ItemFileError: bad JSON, missing fields, repeated item keys, missing answers when
            required, an unknown dimension or a value outside its dimension (``file:line: ...``).
    """
    file = Path(path)
    items: list[Item] = []
    seen: dict[str, int] = {}
    pairwise = any(d.kind == "preference" for d in rubric.dimensions)
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{file}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ItemFileError(f"{where}: invalid JSON: {exc.msg}") from None
        if not isinstance(record, dict):
            raise ItemFileError(f"{where}: each line must be a JSON object")
        key = _text(record, "item_key", where)
        if key in seen:
            raise ItemFileError(f"{where}: item_key {key!r} repeats line {seen[key]}")
        seen[key] = number
        answers = record.get("answers", {})
        if not isinstance(answers, dict) or (require_answers and not answers):
            raise ItemFileError(
                f"{where}: 'answers' must be a non-empty object of dimension → value"
            )
        for name, value in answers.items():
            try:
                dimension = rubric.dimension(name)
            except KeyError:
                raise ItemFileError(
                    f"{where}: answers: {name!r} is not a dimension of rubric {rubric.ref} "
                    f"({', '.join(d.name for d in rubric.dimensions)})"
                ) from None
            if value not in dimension.values or isinstance(value, bool):
                hint = ""
                if str(value) in {str(v) for v in dimension.values}:
                    hint = (
                        " (it matches a value written differently: write it as in the rubric, "
                        f"e.g. {_as_in_rubric(value, dimension.values)})"
                    )
                raise ItemFileError(
                    f"{where}: answers.{name}: {value!r} is not one of "
                    f"{list(dimension.values)}{hint}"
                )
        items.append(
            Item(
                item_key=key,
                prompt=_text(record, "prompt", where),
                response_a=_text(record, "response_a", where),
                response_b=(
                    _text(record, "response_b", where)
                    if pairwise
                    else _optional_text(record, "response_b", where)
                ),
                category=_optional_text(record, "category", where),
                answers=dict(answers),
            )
        )
    return items
