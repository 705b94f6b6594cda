"""Adjudicated values: a reviewer's ruling on an item and dimension, which wins over every vote.

Two sources: an adjudication file (CSV with a header row, or JSON Lines; columns ``item_id``,
``dimension``, ``value``, optionally ``reason`` and ``ruled_by``, other columns ignored), and
a project's store
(:func:`project_rulings`, the one reader every consensus of a project uses): its rulings (from
the adjudication project or a calibration session; the latest per item and dimension) and its
gold answers with source ``adjudicated`` (rulings made gold). Gold answers from a gold file or
a platform's ground truth are test questions for annotators, not rulings, and are not used.

A ruling is matched to the rubric's values by :func:`rubric_value`; two different rulings for
one item and dimension are an error naming both, never a silent choice.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from connector.errors import JudgmentTableError
from connector.rubric import Rubric, Value

__all__ = [
    "ADJUDICATION_COLUMNS",
    "Adjudication",
    "load_adjudications",
    "project_rulings",
    "rubric_value",
]

ADJUDICATION_COLUMNS = ("item_id", "dimension", "value")


@dataclass(frozen=True, slots=True, kw_only=True)
class Adjudication:
    """One ruling: ``value`` is the item's value on ``dimension``; ``where`` says where it was
    read (``file:line`` or the store); ``reason`` and ``ruled_by`` as the file gives them
    (optional columns; empty when absent)."""

    item_id: str
    dimension: str
    value: Any
    where: str
    reason: str = ""
    ruled_by: str = ""


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _read_csv(path: Path) -> list[tuple[int, dict[str, Any]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ADJUDICATION_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise JudgmentTableError(
                f"{path}:1: adjudication file lacks column(s) {missing}; its header must name "
                f"{list(ADJUDICATION_COLUMNS)}"
            )
        return [(reader.line_num, dict(row)) for row in reader]


def _read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    rows: list[tuple[int, dict[str, Any]]] = []
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise JudgmentTableError(
                    f"{path}:{line_number}: not a JSON object ({exc.msg}); write one object "
                    f"with {list(ADJUDICATION_COLUMNS)} per line"
                ) from None
            if not isinstance(row, dict):
                raise JudgmentTableError(
                    f"{path}:{line_number}: not a JSON object; write one object with "
                    f"{list(ADJUDICATION_COLUMNS)} per line"
                )
            rows.append((line_number, row))
    return rows


def load_adjudications(path: str | Path) -> list[Adjudication]:
    """Read an adjudication file (``.csv``, or ``.jsonl`` / ``.ndjson``).

    Raises:
        JudgmentTableError: an unknown extension, a missing column, an empty field or a line
            that is not a JSON object (the message names file and line).
    """
    file = Path(path)
    suffix = file.suffix.lower()
    try:
        if suffix == ".csv":
            rows = _read_csv(file)
        elif suffix in (".jsonl", ".ndjson"):
            rows = _read_jsonl(file)
        else:
            raise JudgmentTableError(
                f"{file}: an adjudication file must be .csv, .jsonl or .ndjson, not "
                f"{suffix or 'without extension'}"
            )
    except OSError as exc:
        raise JudgmentTableError(f"{file}: cannot read the adjudication file: {exc}") from None
    except UnicodeDecodeError as exc:
        raise JudgmentTableError(f"{file}: not UTF-8 text ({exc.reason})") from None
    found = []
    for line, row in rows:
        empty = [c for c in ADJUDICATION_COLUMNS if _text(row.get(c)) == ""]
        if empty:
            raise JudgmentTableError(
                f"{file}:{line}: empty or missing {empty}; every ruling needs "
                f"{list(ADJUDICATION_COLUMNS)}"
            )
        value = row["value"]
        found.append(
            Adjudication(
                item_id=_text(row["item_id"]),
                dimension=_text(row["dimension"]),
                value=value.strip() if isinstance(value, str) else value,
                where=f"{file}:{line}",
                reason=_text(row.get("reason")),
                ruled_by=_text(row.get("ruled_by")),
            )
        )
    return found


def rubric_value(value: Any, values: Sequence[Value]) -> Value | None:
    """The rubric value a ruling names: the same value, else the one whose text is the same
    (``"4"`` is 4 in a CSV), else the number equal to it (``4.0`` is 4); None if none is."""
    for candidate in values:
        if type(candidate) is type(value) and candidate == value:
            return candidate
    text = _text(value)
    for candidate in values:
        if str(candidate) == text:
            return candidate
    try:
        number = float(text)
    except ValueError:
        return None
    for candidate in values:
        if not isinstance(candidate, str) and float(candidate) == number:
            return candidate
    return None


def resolve(
    adjudications: Iterable[Adjudication], rubric: Rubric
) -> dict[tuple[str, str], tuple[Value, str]]:
    """Rulings by (item id, dimension), each value matched to the rubric's values.

    Raises:
        JudgmentTableError: a dimension not in the rubric, a value not among the dimension's
            values, or two different rulings for one item and dimension (naming both).
    """
    dimensions = {d.name: d for d in rubric.dimensions}
    rulings: dict[tuple[str, str], tuple[Value, str]] = {}
    for ruling in adjudications:
        dimension = dimensions.get(ruling.dimension)
        if dimension is None:
            raise JudgmentTableError(
                f"{ruling.where}: dimension {ruling.dimension!r} is not in rubric "
                f"{rubric.id!r} version {rubric.version!r}, whose dimensions are "
                f"{list(dimensions)}"
            )
        value = rubric_value(ruling.value, dimension.values)
        if value is None:
            raise JudgmentTableError(
                f"{ruling.where}: item {ruling.item_id!r}: adjudicated value {ruling.value!r} "
                f"is not one of dimension {dimension.name!r}'s values {list(dimension.values)}"
            )
        key = (ruling.item_id, ruling.dimension)
        earlier = rulings.get(key)
        if earlier is not None and earlier[0] != value:
            raise JudgmentTableError(
                f"item {ruling.item_id!r} dimension {ruling.dimension!r} has two different "
                f"rulings: {earlier[0]!r} ({earlier[1]}) and {value!r} ({ruling.where}); keep "
                "one"
            )
        if earlier is None:
            rulings[key] = (value, ruling.where)
    return rulings


class StoredRuling(Protocol):
    """A ruling as the store keeps it (:class:`connector.store.Ruling`)."""

    @property
    def item_key(self) -> str: ...
    @property
    def dimension(self) -> str: ...
    @property
    def value(self) -> str | int | float: ...
    @property
    def source(self) -> str: ...
    @property
    def source_ref(self) -> str: ...
    @property
    def ruled_by(self) -> str: ...
    @property
    def ruled_at(self) -> datetime: ...


class StoredGold(Protocol):
    """A gold answer as the store keeps it (:class:`connector.store.GoldAnswer`)."""

    @property
    def item_key(self) -> str: ...
    @property
    def dimension(self) -> str: ...
    @property
    def value(self) -> str | int | float: ...
    @property
    def source(self) -> str: ...
    @property
    def set_by(self) -> str | None: ...


def project_rulings(
    rulings: Iterable[StoredRuling], gold: Iterable[StoredGold]
) -> list[Adjudication]:
    """The rulings of a configured project that win in its consensus, from what its store
    holds: the ruling in force per item and dimension
    (:meth:`connector.store.Store.current_rulings`) and the gold answers of source
    ``adjudicated`` (:meth:`connector.store.Store.gold_for`). A ruling is never a judgment: it
    is read here, not from the judgments table."""
    found = [
        Adjudication(
            item_id=r.item_key,
            dimension=r.dimension,
            value=r.value,
            where=f"store rulings ({r.source} {r.source_ref}, by {r.ruled_by})",
        )
        for r in rulings
    ]
    found += [
        Adjudication(
            item_id=answer.item_key,
            dimension=answer.dimension,
            value=answer.value,
            where=f"store gold_answers (adjudicated by {answer.set_by or 'unknown'})",
        )
        for answer in gold
        if answer.source == "adjudicated"
    ]
    return found
