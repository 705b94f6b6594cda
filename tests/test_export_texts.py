"""Item texts for the export (connector/consensus/texts.py): from a table's columns, an items
file keyed by item_id or item_key, a store's payloads; two different texts for one item are an
error naming both places."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from connector.consensus.texts import (
    ItemText,
    load_item_texts,
    texts_from_frame,
    texts_from_payloads,
)
from connector.errors import JudgmentTableError
from connector.judgments import load_judgments


def _frame(prompts: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": ["i1"] * len(prompts),
            "prompt": prompts,
            "response_a": "A",
            "response_b": "B",
        }
    )


def test_a_tables_columns_give_one_text_per_item() -> None:
    texts = texts_from_frame(_frame(["P", "P"]), source="t.csv")
    assert texts == {"i1": ItemText(prompt="P", response_a="A", response_b="B")}
    assert texts["i1"].complete
    assert texts_from_frame(_frame(["P"]).drop(columns=["prompt"]), source="t") == {
        "i1": ItemText(prompt=None, response_a="A", response_b="B")
    }
    assert not texts_from_frame(pd.DataFrame({"item_id": ["x"]}), source="t")


def test_two_texts_for_one_item_name_both_lines() -> None:
    with pytest.raises(JudgmentTableError) as caught:
        texts_from_frame(_frame(["P", "Q"]), source="j.jsonl", lines=[4, 9])
    assert str(caught.value) == (
        "j.jsonl:9: item 'i1' has another prompt than at j.jsonl:4; give each item one prompt "
        "and one pair of responses"
    )


def test_a_judgments_file_keeps_its_text_columns_without_warning(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    rows = [
        {"item_id": "i1", "annotator": "x", "dimension": "overall", "value": "a", "prompt": "P",
         "response_a": "A", "response_b": "B", "note": "?"}
    ]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    table = load_judgments(path)
    assert table.frame["prompt"].tolist() == ["P"]
    assert len(table.warnings) == 1
    assert "'note'" in table.warnings[0]
    assert "prompt" not in table.warnings[0]


def test_items_files_keyed_by_item_id_or_item_key(tmp_path: Path) -> None:
    jsonl = tmp_path / "items.jsonl"
    jsonl.write_text(
        json.dumps({"item_key": "k1", "prompt": "P", "response_a": "A", "response_b": "B"}) + "\n\n"
    )
    assert load_item_texts(jsonl)["k1"].texts == ("P", "A", "B")
    parquet = tmp_path / "items.parquet"
    pd.DataFrame({"item_id": ["k2"], "prompt": ["P2"], "response_a": ["A"], "response_b": ["B"]}
                 ).to_parquet(parquet)  # fmt: skip
    assert load_item_texts(parquet)["k2"].prompt == "P2"
    keyless = tmp_path / "bad.jsonl"
    keyless.write_text('{"prompt": "P"}\n')
    with pytest.raises(JudgmentTableError, match=r"bad.jsonl:1: no item_id \(or item_key\)"):
        load_item_texts(keyless)
    broken = tmp_path / "broken.jsonl"
    broken.write_text("{not json\n")
    with pytest.raises(JudgmentTableError, match=r"broken.jsonl:1: not JSON"):
        load_item_texts(broken)
    with pytest.raises(JudgmentTableError, match=r"read items from a .jsonl, .ndjson, .csv"):
        load_item_texts(tmp_path / "items.txt")


def test_store_payloads() -> None:
    texts = texts_from_payloads(
        [("k", {"prompt": "P", "response_a": "A", "response_b": None}), ("none", None)]
    )
    assert texts == {"k": ItemText(prompt="P", response_a="A", response_b=None)}
    assert not texts["k"].complete
