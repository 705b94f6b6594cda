"""The texts of the items an export writes: prompt, response_a and response_b per item.

Three sources, one shape (``{item_id: ItemText}``):

- a judgments table's optional columns ``prompt``, ``response_a`` and ``response_b``
  (:data:`TEXT_COLUMNS`), and ``response_<option>`` for a ranking's options, repeated on each
  of an item's judgments (:func:`texts_from_frame`);
- an items file keyed by ``item_id`` (or ``item_key``, as the connector's items and gold files
  are), JSON Lines, CSV or Parquet (:func:`load_item_texts`, the CLI's ``--items``);
- a synced project's store: the payload of the items the connector pushed
  (:func:`texts_from_payloads`).

An item whose texts differ between two of its rows is an error naming the item and both rows:
which text was judged is exactly what an export must not guess.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from connector.errors import JudgmentTableError
from connector.judgments.table import ITEM_TEXT_COLUMNS

__all__ = [
    "TEXT_COLUMNS",
    "ItemText",
    "load_item_texts",
    "texts_from_frame",
    "texts_from_payloads",
]

TEXT_COLUMNS = ITEM_TEXT_COLUMNS
_KEYS = ("item_id", "item_key")
_RESPONSE = "response_"


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemText:
    """An item's prompt and its two responses (``None`` where the source lacks one), and the
    text of every other ``response_<option>`` the source has (``responses``, by option id: a
    ranking's options beyond ``a`` and ``b``)."""

    prompt: str | None
    response_a: str | None
    response_b: str | None
    responses: tuple[tuple[str, str | None], ...] = ()

    def response(self, option: str) -> str | None:
        """The text of option ``option`` (``response_<option>``), ``None`` when not given."""
        if option in ("a", "b"):
            return self.response_a if option == "a" else self.response_b
        return dict(self.responses).get(option)

    def pair(self, first: str, second: str) -> ItemText:
        """The texts of two of the item's options as ``response_a`` (``first``) and
        ``response_b`` (``second``): a ranking's implied pair, written like any pair."""
        return ItemText(
            prompt=self.prompt, response_a=self.response(first), response_b=self.response(second)
        )

    @property
    def complete(self) -> bool:
        """Whether the prompt and both responses are non-empty strings."""
        return all(isinstance(t, str) and t.strip() for t in self.texts)

    @property
    def texts(self) -> tuple[str | None, str | None, str | None]:
        """(prompt, response_a, response_b)."""
        return (self.prompt, self.response_a, self.response_b)


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return value if isinstance(value, str) else str(value)


def _collect(rows: Iterable[tuple[str, str, Mapping[str, Any]]]) -> dict[str, ItemText]:
    """``(item id, where, record)`` → texts per item; conflicting texts are an error."""
    found: dict[str, tuple[ItemText, str]] = {}
    for item_id, where, record in rows:
        text = ItemText(
            prompt=_text(record.get("prompt")),
            response_a=_text(record.get("response_a")),
            response_b=_text(record.get("response_b")),
            responses=tuple(
                sorted(
                    (str(k)[len(_RESPONSE) :], _text(v))
                    for k, v in record.items()
                    if str(k).startswith(_RESPONSE) and str(k) not in TEXT_COLUMNS
                )
            ),
        )
        known = found.get(item_id)
        if known is None:
            found[item_id] = (text, where)
        elif known[0] != text:
            before, after = dict(known[0].responses), dict(text.responses)
            differs = [
                c
                for c, a, b in zip(TEXT_COLUMNS, known[0].texts, text.texts, strict=True)
                if a != b
            ] + [
                f"{_RESPONSE}{o}"
                for o in sorted(set(before) | set(after))
                if before.get(o) != after.get(o)
            ]
            raise JudgmentTableError(
                f"{where}: item {item_id!r} has another {', '.join(differs)} than at {known[1]}; "
                "give each item one prompt and one pair of responses"
            )
    return {item_id: text for item_id, (text, _) in found.items()}


def texts_from_frame(
    frame: pd.DataFrame, *, source: str, lines: Iterable[int] | None = None
) -> dict[str, ItemText]:
    """The texts in a judgments table's :data:`TEXT_COLUMNS`; ``{}`` when it has none of them.

    Raises:
        JudgmentTableError: an item with two different texts (names both rows).
    """
    present = [c for c in TEXT_COLUMNS if c in frame.columns] + [
        str(c) for c in frame.columns if str(c).startswith(_RESPONSE) and c not in TEXT_COLUMNS
    ]
    if not present:
        return {}
    places = [f"{source}:{line}" for line in lines] if lines is not None else None
    columns = [frame[c].tolist() for c in present]
    records = (
        (
            str(item_id),
            places[i] if places is not None else f"{source}: row {i + 1}",
            dict(zip(present, (column[i] for column in columns), strict=True)),
        )
        for i, item_id in enumerate(frame["item_id"].tolist())
    )
    return _collect(records)


def texts_from_payloads(
    payloads: Iterable[tuple[str, Mapping[str, Any] | None]],
) -> dict[str, ItemText]:
    """The texts of a store's items: ``(item key, payload)`` with the payload the push (or, for
    a task the connector did not push, the sync) wrote (``prompt``, ``response_a``,
    ``response_b``, and ``response_<option>`` for a ranking's options)."""
    return _collect(
        (key, f"store item {key}", payload) for key, payload in payloads if payload is not None
    )


def _read_rows(path: Path) -> list[tuple[str, dict[str, Any]]]:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        rows: list[tuple[str, dict[str, Any]]] = []
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise JudgmentTableError(f"{path}:{number}: not JSON ({exc.msg})") from None
                if not isinstance(record, dict):
                    raise JudgmentTableError(f"{path}:{number}: each line must be a JSON object")
                rows.append((f"{path}:{number}", record))
        return rows
    if suffix == ".csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        offset = 2  # the header is line 1
    elif suffix == ".parquet":
        frame = pd.read_parquet(path)
        offset = 1
    else:
        raise JudgmentTableError(
            f"--items {path}: read items from a .jsonl, .ndjson, .csv or .parquet file"
        )
    places = [
        f"{path}:{i + offset}" if suffix == ".csv" else f"{path}: row {i + 1}"
        for i in range(len(frame))
    ]
    records: list[dict[str, Any]] = [
        {str(k): v for k, v in row.items()} for row in frame.to_dict("records")
    ]
    return list(zip(places, records, strict=True))


def load_item_texts(path: str | Path) -> dict[str, ItemText]:
    """An items file's texts, keyed by its ``item_id`` (or ``item_key``) column.

    Raises:
        JudgmentTableError: an unknown extension, a line that is not a JSON object, a row
            without a key, or an item with two different texts (``file:line`` named).
    """
    file = Path(path)
    records = []
    for where, record in _read_rows(file):
        key = next((record[k] for k in _KEYS if _text(record.get(k))), None)
        if key is None:
            raise JudgmentTableError(
                f"{where}: no item_id (or item_key); every row of --items names its item"
            )
        records.append((str(key), where, record))
    return _collect(records)
