"""Prodigy ``db-out`` files as judgments (connector.judgments.prodigy).

The fixture tests/data/exports/prodigy_db_out.jsonl is written from Prodigy's documented task
format: https://prodi.gy/docs/api-interfaces (annotated tasks carry ``answer`` accept / reject /
ignore; the ``choice`` interface's ``options`` and the selected ids in ``accept``; ``text_input``
writes ``user_input``), https://prodi.gy/docs/recipes#db-out (the export, with ``_input_hash``,
``_task_hash``, ``_timestamp``), https://prodi.gy/docs/task-routing (``_annotator_id`` and
``_session_id`` are ``dataset-session`` with named sessions) and https://prodi.gy/docs/review
(review records carry ``versions`` and ``sessions``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from connector.cli import app
from connector.errors import JudgmentTableError
from connector.judgments import (
    AnswerMap,
    PlatformTable,
    load_judgments,
    prodigy_judgments,
)

EXPORTS = Path(__file__).parent / "data" / "exports"
DB_OUT = EXPORTS / "prodigy_db_out.jsonl"
runner = CliRunner()


def _task(**fields: Any) -> dict[str, Any]:
    base = {
        "text": "Which reply is kinder?",
        "_input_hash": 11,
        "_task_hash": 12,
        "_annotator_id": "ds-ann",
        "_session_id": "ds-ann",
        "_timestamp": 1714557600,
    }
    return {**base, **fields}


def test_db_out_of_an_ab_choice_dataset() -> None:
    """A custom ``choice`` interface for A/B: options a, b, tie in shuffled order."""
    table = load_judgments(DB_OUT)
    assert isinstance(table, PlatformTable)
    assert table.platform == "prodigy"
    assert table.format == "canonical"
    assert table.skipped == 2  # one ignore, one reject on a choice task
    assert table.gold == 1  # the review record
    frame = table.frame
    got = frame[["item_id", "annotator", "value", "display_left", "gold_value"]]
    assert got.to_dict(orient="records") == [
        {"item_id": "-1850512432", "annotator": "pairwise-alice", "value": "a",
         "display_left": "a", "gold_value": "a"},
        {"item_id": "-1850512432", "annotator": "pairwise-bob", "value": "a",
         "display_left": "b", "gold_value": "a"},
        {"item_id": "-1850512432", "annotator": "pairwise-carol", "value": "tie",
         "display_left": "a", "gold_value": "a"},
        {"item_id": "735139882", "annotator": "pairwise-alice", "value": "b",
         "display_left": "b", "gold_value": None},
        {"item_id": "735139882", "annotator": "pairwise-bob", "value": "b",
         "display_left": "a", "gold_value": None},
        {"item_id": "1203554871", "annotator": "pairwise-alice", "value": "a",
         "display_left": "a", "gold_value": None},
        {"item_id": "1203554871", "annotator": "pairwise-carol", "value": "b",
         "display_left": "b", "gold_value": None},
        {"item_id": "-1850512432", "annotator": "pairwise-alice", "value": "a",
         "display_left": "b", "gold_value": "a"},
    ]  # fmt: skip
    assert set(frame["dimension"]) == {"overall"}
    assert frame["category"].tolist()[:2] == ["coding", "coding"]
    assert frame["batch"].tolist()[0] == "b-01"
    assert frame["submitted_at"].iloc[0] == pd.Timestamp("2024-05-01T10:00:00Z")
    assert frame["submitted_at"].iloc[-1] == pd.Timestamp("2024-05-04T10:00:00Z")
    assert frame["length_a"].iloc[0] == 71.0
    assert frame["length_b"].iloc[0] == 25.0
    assert frame["rationale"].tolist()[1] == "A explains the base case; B is a joke."
    assert frame["lead_time_s"].isna().all()  # Prodigy records no time spent
    assert table.notes == (
        "item_id ← _input_hash",
        "annotator ← _annotator_id",
        "dimension ← the task's 'label', else 'choice'",
        "value ← 'accept' (the selected option ids of a choice task)",
        "category ← meta.category",
        "submitted_at ← _timestamp (Unix seconds)",
        "batch ← meta.batch",
        "display_left ← the first of the options 'a' and 'b'",
        "gold_value ← review recipe answers (records with 'versions')",
        "length_a ← text of option 'a'",
        "length_b ← text of option 'b'",
        "rationale ← free-text field 'user_input'",
        "skipped 1: answer 'ignore' (a skip, not a judgment)",
        "skipped 1: answer 'reject' on a choice task (the task rejected, no option judged)",
    )
    # Alice answered the same input twice (a relabel): kept, first for agreement, second re-test.
    assert table.warnings == (
        f"{DB_OUT}: 1 judgment(s) repeat an (item_id, annotator, dimension) already judged, "
        "first at line 10; they are read as re-tests, except exact copies (same value and "
        "time), which the report drops and counts",
    )


def test_binary_tasks_read_accept_and_reject_as_values() -> None:
    records = [
        _task(label="helpful", answer="accept"),
        _task(label="helpful", answer="reject", _annotator_id="ds-bob", _session_id="ds-bob"),
        _task(label="helpful", answer="ignore", _annotator_id="ds-cy", _session_id="ds-cy"),
    ]
    table = prodigy_judgments(records, source="db.jsonl")
    assert table.frame[["annotator", "dimension", "value"]].to_dict(orient="records") == [
        {"annotator": "ds-ann", "dimension": "helpful", "value": "accept"},
        {"annotator": "ds-bob", "dimension": "helpful", "value": "reject"},
    ]
    assert table.skipped == 1


def test_multiple_choice_answers_are_joined_and_warned() -> None:
    options = [{"id": "kind"}, {"id": "clear"}, {"id": "rude"}]
    records = [_task(options=options, accept=["kind", "clear"], answer="accept")]
    table = prodigy_judgments(records, source="db.jsonl")
    assert table.frame[["dimension", "value"]].to_dict(orient="records") == [
        {"dimension": "choice", "value": "kind|clear"}
    ]
    assert table.warnings == (
        "db.jsonl: 1 choice task(s) chose several options; their values join the options with '|'",
    )


def test_an_accepted_choice_without_a_selection_is_skipped() -> None:
    records = [_task(options=[{"id": "a"}, {"id": "b"}], accept=[], answer="accept")]
    table = prodigy_judgments(records, source="db.jsonl")
    assert table.frame.empty
    assert table.skipped == 1
    assert "skipped 1: choice tasks accepted with no option selected" in table.notes


def test_unnamed_sessions_are_warned() -> None:
    sid = "2024-02-06_10-17-19"
    records = [_task(label="ok", answer="accept", _annotator_id=sid, _session_id=sid)]
    table = prodigy_judgments(records, source="db.jsonl")
    assert table.warnings == (
        "db.jsonl: 1 judgment(s) come from unnamed sessions (ids like 2024-02-06_10-17-19): "
        "each start of the Prodigy server counts as another annotator; have annotators open "
        "/?session=NAME",
    )


def test_a_mapping_names_the_dimension() -> None:
    records = [_task(options=[{"id": "a"}, {"id": "b"}], accept=["b"], answer="accept")]
    table = prodigy_judgments(
        records, source="db.jsonl", answers=AnswerMap(dimensions={"choice": "overall"})
    )
    assert table.frame[["dimension", "value", "display_left"]].to_dict(orient="records") == [
        {"dimension": "overall", "value": "b", "display_left": "a"}
    ]


# --------------------------------------------------------------------------------------------
# Malformed files
# --------------------------------------------------------------------------------------------


def _error(path: Path) -> str:
    with pytest.raises(JudgmentTableError) as caught:
        load_judgments(path)
    return str(caught.value)


def test_malformed_file_names_the_line_and_what_to_do() -> None:
    path = EXPORTS / "prodigy_malformed.jsonl"
    assert _error(path) == (
        f"{path}:3: no '_annotator_id' or '_session_id'; export the dataset with "
        "`prodigy db-out` from Prodigy 1.8 or later, which records who answered"
    )


def test_invalid_json_line(tmp_path: Path) -> None:
    path = tmp_path / "db.jsonl"
    path.write_text(json.dumps(_task(answer="accept")) + '\n{"answer": "accept",\n')
    assert _error(path) == (
        f"{path}:2: invalid JSON: Expecting property name enclosed in double quotes at "
        "column 21; the export has one JSON object per line"
    )


def test_unknown_answer(tmp_path: Path) -> None:
    path = tmp_path / "db.jsonl"
    path.write_text(json.dumps(_task(answer="maybe")) + "\n")
    assert _error(path) == (
        f"{path}:1: 'answer' is 'maybe'; Prodigy answers are accept, reject or ignore"
    )


def test_a_task_without_answer_is_not_an_annotation(tmp_path: Path) -> None:
    path = tmp_path / "db.jsonl"
    path.write_text(json.dumps(_task()) + "\n")
    assert _error(path) == (
        f"{path}:1: no 'answer'; this is a task, not an annotation: export the annotations "
        "with `prodigy db-out DATASET > annotations.jsonl`"
    )


# --------------------------------------------------------------------------------------------
# The command line, end to end
# --------------------------------------------------------------------------------------------


def test_cli_report_of_a_db_out_file(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = runner.invoke(
        app,
        [
            "report", str(DB_OUT), "--rubric", "rubrics/rlhf-pairwise/v1.yaml",
            "--resamples", "20", "--json", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"read {DB_OUT} as prodigy:" in result.output
    assert "skipped 1: answer 'ignore' (a skip, not a judgment)" in result.output
    report = json.loads(out.read_text())
    assert report["source"]["format"] == "prodigy"
    assert report["source"]["skipped"] == 2
    assert report["source"]["gold"] == 1
    overall = report["dimensions"]["overall"]
    # Pairs of first judgments: recursion (a, a, tie) 1 of 3 agree, haiku (b, b) 1 of 1,
    # revolution (a, b) 0 of 1: 2 of 5; decisive pairs (no tie): 2 of 3.
    assert overall["percent_agreement"] == {"value": pytest.approx(0.4), "n_pairs": 5}
    assert overall["percent_agreement_decisive"]["value"] == pytest.approx(2 / 3)
    assert overall["intra_annotator"]["n_pairs"] == 1  # alice's relabel of the recursion item
    alice = next(a for a in report["annotators"] if a["annotator"] == "pairwise-alice")
    assert alice["dimensions"]["overall"]["gold"]["n"] == 1


def test_cli_report_of_a_malformed_db_out_file_is_one_clear_line() -> None:
    path = EXPORTS / "prodigy_malformed.jsonl"
    result = runner.invoke(app, ["report", str(path), "--rubric", "rubrics/rlhf-pairwise/v1.yaml"])
    assert result.exit_code == 2
    assert f"{path}:3: no '_annotator_id' or '_session_id'" in " ".join(result.output.split())
    assert "Traceback" not in result.output
