"""Items and gold files: validation with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.calibration.gold import load_gold
from connector.calibration.item import ItemFileError, load_items
from connector.rubric import load_rubric

RUBRIC = load_rubric("rubrics/rlhf-pairwise/v2.yaml")
GOOD = (
    '{"item_key": "g1", "prompt": "p", "response_a": "x", "response_b": "y", '
    '"answers": {"overall": "a", "strength": 2}}'
)


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_gold_file_loads(tmp_path: Path) -> None:
    [item] = load_gold(write(tmp_path, GOOD), RUBRIC)
    assert item.answers == {"overall": "a", "strength": 2}
    assert item.response_b == "y"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{", "gold.jsonl:1: invalid JSON: Expecting property name enclosed in double quotes"),
        ("[1]", "gold.jsonl:1: each line must be a JSON object"),
        (GOOD.replace('"overall": "a"', '"overall": "c"'),
         "gold.jsonl:1: answers.overall: 'c' is not one of ['a', 'b', 'tie', 'both_bad']"),
        (GOOD.replace('"strength": 2', '"strength": "2"'),
         "gold.jsonl:1: answers.strength: '2' is not one of [1, 2, 3] (it matches a value "
         "written differently: write it as in the rubric, e.g. 2)"),
        (GOOD.replace('"strength": 2', '"strength": 2.5'),
         "gold.jsonl:1: answers.strength: 2.5 is not one of [1, 2, 3]"),
        (GOOD.replace('"overall"', '"tone"'),
         "gold.jsonl:1: answers: 'tone' is not a dimension of rubric rlhf-pairwise@v2 "
         "(overall, strength)"),
        (GOOD.replace('"response_b": "y", ', ""),
         "gold.jsonl:1: 'response_b' must be a non-empty string"),
        (GOOD.replace(', "answers": {"overall": "a", "strength": 2}', ""),
         "gold.jsonl:1: 'answers' must be a non-empty object of dimension → value"),
    ],
)  # fmt: skip
def test_bad_gold_lines_are_named(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(ItemFileError) as err:
        load_gold(write(tmp_path, line), RUBRIC)
    assert str(err.value) == f"{tmp_path}/{message}"


def test_repeated_key_names_both_lines(tmp_path: Path) -> None:
    with pytest.raises(ItemFileError, match=r"gold\.jsonl:3: item_key 'g1' repeats line 1"):
        load_gold(write(tmp_path, GOOD, "", GOOD), RUBRIC)


def test_items_without_answers_are_fine_outside_gold(tmp_path: Path) -> None:
    line = GOOD.replace(', "answers": {"overall": "a", "strength": 2}', "")
    [item] = load_items(write(tmp_path, line), RUBRIC)
    assert item.answers == {}
