"""Mechanical Turk batch results as judgments (connector.judgments.mturk).

tests/data/exports/mturk_batch_results.csv is written from the documented results: the
assignment's fields and statuses at
https://docs.aws.amazon.com/AWSMechTurk/latest/AWSMturkAPI/ApiReference_AssignmentDataStructureArticle.html
(``AssignmentId``, ``WorkerId``, ``HITId``, ``AssignmentStatus`` Submitted | Approved | Rejected,
``AcceptTime``, ``SubmitTime``) and
https://docs.aws.amazon.com/AWSMechTurk/latest/AWSMechanicalTurkRequester/RetrievingResults.html;
the requester site's "Download CSV" columns (``WorkTimeInSeconds``, ``Input.*``, ``Answer.*``,
``Approve``/``Reject``, times like ``Wed May 01 03:00:41 PDT 2024``, every cell quoted).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from connector.cli import app
from connector.errors import JudgmentTableError
from connector.judgments import AnswerMap, PlatformTable, load_judgments, mturk_judgments
from connector.judgments.mturk import mturk_time

EXPORTS = Path(__file__).parent / "data" / "exports"
RESULTS = EXPORTS / "mturk_batch_results.csv"
runner = CliRunner()


def _assignment(**cells: str) -> dict[str, str]:
    base = {
        "HITId": "H1",
        "AssignmentId": "A1",
        "WorkerId": "W1",
        "AssignmentStatus": "Approved",
        "AcceptTime": "Wed May 01 03:00:00 PDT 2024",
        "SubmitTime": "Wed May 01 03:00:30 PDT 2024",
        "WorkTimeInSeconds": "",
    }
    return {**base, **cells}


def test_batch_results() -> None:
    table = load_judgments(RESULTS)
    assert isinstance(table, PlatformTable)
    assert table.platform == "mturk"
    # A3ZZ… was Rejected; A4QW…'s pair-003 assignment is marked in the Reject column.
    assert table.skipped == 2
    frame = table.frame
    overall = frame[frame["dimension"] == "overall"]
    assert overall[["item_id", "annotator", "value"]].to_dict(orient="records") == [
        {"item_id": "pair-001", "annotator": "A1B2C3D4E5F6G7", "value": "a"},
        {"item_id": "pair-001", "annotator": "A2H8KQ0PLM3Z4X", "value": "a"},
        {"item_id": "pair-002", "annotator": "A1B2C3D4E5F6G7", "value": "b"},
        {"item_id": "pair-002", "annotator": "A2H8KQ0PLM3Z4X", "value": "tie"},
        {"item_id": "pair-002", "annotator": "A4QWERTY123456", "value": "b"},
        {"item_id": "pair-003", "annotator": "A1B2C3D4E5F6G7", "value": "a"},
        {"item_id": "pair-003", "annotator": "A2H8KQ0PLM3Z4X", "value": "a"},
    ]
    assert frame[frame["dimension"] == "strength"]["value"].tolist() == [2, 3, 1, 2, 3, 2]
    # Pacific daylight time to UTC; WorkTimeInSeconds is the lead time
    assert overall["submitted_at"].iloc[0] == pd.Timestamp("2024-05-01T10:00:41Z")
    assert overall["lead_time_s"].tolist()[:2] == [41.0, 35.0]
    assert overall["display_left"].tolist()[:2] == ["a", "b"]
    assert overall["length_a"].iloc[0] == 71.0
    assert overall["rationale"].tolist()[3] == "Both are fine,\nB is shorter."
    assert table.warnings == ()
    assert table.notes == (
        "item_id ← Input.item_id",
        "annotator ← WorkerId",
        "dimension ← the Answer.* field (one dimension per field)",
        "value ← the Answer.* value",
        "submitted_at ← SubmitTime",
        "lead_time_s ← WorkTimeInSeconds",
        "display_left ← Input.display_left",
        "length_a ← Input.response_a (its length)",
        "length_b ← Input.response_b (its length)",
        "rationale ← free-text answer 'Answer.comment'",
        "skipped 1: assignments marked for rejection in the Reject column",
        "skipped 1: rejected assignments (AssignmentStatus Rejected)",
        "left out 1 empty answer field(s)",
        "1 assignment(s) are Submitted, neither approved nor rejected yet; they count as judgments",
    )


def test_mapping_renames_and_selects_answer_fields() -> None:
    answers = AnswerMap(dimensions={"Answer.overall": "preference"})
    table = load_judgments(RESULTS, answers=answers)
    assert set(table.frame["dimension"]) == {"preference"}
    # seven kept assignments, one with strength left empty
    assert "left out 7 answer(s) of fields not in --map: 'strength' (7)" in table.notes


def test_crowd_html_forms_and_several_answers() -> None:
    """A classifier writes Answer.<name>.label, radio buttons one true/false column each,
    crowd-form the JSON list Answer.taskAnswers; checkboxes of one name are joined by '|'."""
    rows = [
        _assignment(**{
            "Answer.sentiment.label": "Positive",
            "Answer.overall.a": "true", "Answer.overall.b": "false",
            "Answer.flags": "rude|wrong",
            "Answer.taskAnswers": json.dumps([{"safety": {"safe": True, "unsafe": False},
                                                "score": 4}]),
        }),
    ]  # fmt: skip
    table = mturk_judgments(rows, source="results.csv")
    assert table.frame[["dimension", "value"]].to_dict(orient="records") == [
        {"dimension": "sentiment", "value": "Positive"},
        {"dimension": "overall", "value": "a"},
        {"dimension": "flags", "value": "rude|wrong"},
        {"dimension": "safety", "value": "safe"},
        {"dimension": "score", "value": 4},
    ]
    assert table.frame["item_id"].tolist() == ["H1"] * 5  # no Input.item_id: the HIT
    assert table.frame["lead_time_s"].tolist() == [30.0] * 5  # SubmitTime - AcceptTime
    assert table.warnings == (
        "results.csv: 1 answer(s) chose several options; their values join the options with '|'",
    )


def test_mturk_times() -> None:
    assert mturk_time("Wed Jul 26 09:47:12 PDT 2017", "SubmitTime", "x") == pd.Timestamp(
        "2017-07-26T16:47:12Z"
    )
    assert mturk_time("Mon Jan 08 09:47:12 PST 2018", "SubmitTime", "x") == pd.Timestamp(
        "2018-01-08T17:47:12Z"
    )
    assert mturk_time("2019-12-01T13:04:59Z", "SubmitTime", "x") == pd.Timestamp(
        "2019-12-01T13:04:59Z"
    )
    assert mturk_time("", "SubmitTime", "x") is None


# --------------------------------------------------------------------------------------------
# Malformed files
# --------------------------------------------------------------------------------------------


def _error(path: Path) -> str:
    with pytest.raises(JudgmentTableError) as caught:
        load_judgments(path)
    return str(caught.value)


def test_malformed_file_names_the_line_and_what_to_do() -> None:
    """The bad time is on line 4: the row before it holds a comment spanning two lines."""
    path = EXPORTS / "mturk_malformed.csv"
    assert _error(path) == (
        f"{path}:4: 'SubmitTime' is not a Mechanical Turk time: 'yesterday'; the results file "
        "writes e.g. 'Wed Jul 26 09:47:12 PDT 2017'"
    )


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_input_csv_instead_of_results(tmp_path: Path) -> None:
    path = _write(tmp_path / "results.csv", [_assignment()])
    assert _error(path) == (
        f"{path}:1: no 'Answer.' column; the batch has no results yet, or the file is the "
        "input CSV rather than the results"
    )


def test_a_kept_assignment_without_worker(tmp_path: Path) -> None:
    rows = [_assignment(**{"Answer.q": "a"}), _assignment(WorkerId="", **{"Answer.q": "b"})]
    path = _write(tmp_path / "results.csv", rows)
    assert _error(path) == (
        f"{path}:3: 'WorkerId' is empty in assignment 'A1'; restore it from the original "
        "results file or drop the row"
    )


def test_missing_columns_with_forced_format(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    path.write_text("HITId,WorkerId,Answer.q\nH1,W1,a\n")
    with pytest.raises(JudgmentTableError) as caught:
        load_judgments(path, format="mturk")
    assert str(caught.value) == (
        f"{path}:1: no column(s) 'AssignmentId', 'AssignmentStatus'; a Mechanical Turk batch "
        "results file (Download CSV on the batch's results page) has HITId, AssignmentId, "
        "WorkerId and AssignmentStatus"
    )


# --------------------------------------------------------------------------------------------
# The command line, end to end
# --------------------------------------------------------------------------------------------


def test_cli_report_of_batch_results(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = runner.invoke(
        app,
        [
            "report", str(RESULTS), "--rubric", "rubrics/rlhf-pairwise/v2.yaml",
            "--resamples", "20", "--json", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "skipped 1: rejected assignments (AssignmentStatus Rejected)" in result.output
    report = json.loads(out.read_text())
    assert report["source"]["format"] == "mturk"
    assert report["source"]["skipped"] == 2
    overall = report["dimensions"]["overall"]
    # pair-001 (a, a) 1 of 1, pair-002 (b, tie, b) 1 of 3, pair-003 (a, a) 1 of 1.
    assert overall["percent_agreement"] == {"value": pytest.approx(0.6), "n_pairs": 5}
    workers = {a["annotator"] for a in report["annotators"]}
    assert "A3ZZ9Y8X7W6V5U" not in workers  # rejected work is no judgment


def test_cli_report_with_a_mapping(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    rubric = tmp_path / "rubric.yaml"
    rubric.write_text(
        "id: pref\nversion: 1\nchangelog: First.\nguidelines: Pick the better one.\ndimensions:\n"
        "  - name: preference\n    question: Which is better?\n    kind: preference\n"
        "    values: [a, b, tie]\n    non_decisive: [tie]\n    level: nominal\n"
    )
    result = runner.invoke(
        app,
        [
            "report", str(RESULTS), "--rubric", str(rubric), "--map", "Answer.overall=preference",
            "--resamples", "0", "--json", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert list(json.loads(out.read_text())["dimensions"]) == ["preference"]


def test_cli_report_of_malformed_results_is_one_clear_line() -> None:
    path = EXPORTS / "mturk_malformed.csv"
    result = runner.invoke(app, ["report", str(path)])
    assert result.exit_code == 2
    assert f"{path}:4: 'SubmitTime' is not a Mechanical Turk time" in " ".join(
        result.output.split()
    )
    assert "Traceback" not in result.output
