"""Surge AI results as judgments (connector.judgments.surge).

The fixtures are written from Surge's documented formats: https://app.surgehq.ai/docs/api
(projects, questions keyed by their text, tasks with their ``responses``) and the official
Python SDK, https://github.com/surge-ai/surge-python: ``surge/reports.py`` (the results
exports ``export_json`` / ``export_csv``, "a list of dictionaries of results for each
response") and ``surge/tasks.py`` (a task's responses: ``id``, ``data``, ``time_spent_in_secs``,
``completed_at``, ``worker_id``). tests/data/exports/surge_results.{csv,json} hold one row per
response; surge_tasks.json holds the same answers as task objects.
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
from connector.judgments import AnswerMap, PlatformTable, load_judgments, surge_judgments

EXPORTS = Path(__file__).parent / "data" / "exports"
QUESTIONS = {"Which response is better?": "overall", "How much better is it?": "strength"}
MAP = AnswerMap(dimensions=QUESTIONS)
runner = CliRunner()

EXPECTED = [
    ("pair-001", "W7XK2LQ9", "overall", "a"),
    ("pair-001", "W7XK2LQ9", "strength", 2),
    ("pair-001", "W3MN8RT4", "overall", "a"),
    ("pair-001", "W3MN8RT4", "strength", 3),
    ("pair-001", "W9PQ5ZD1", "overall", "tie"),
    ("pair-002", "W7XK2LQ9", "overall", "b"),
    ("pair-002", "W7XK2LQ9", "strength", 1),
    ("pair-002", "W9PQ5ZD1", "overall", "b"),
    ("pair-002", "W9PQ5ZD1", "strength", 2),
    ("pair-003", "W7XK2LQ9", "overall", "a"),
    ("pair-003", "W7XK2LQ9", "strength", 3),
    ("pair-003", "W3MN8RT4", "overall", "a"),
    ("pair-003", "W3MN8RT4", "strength", 2),
    ("pair-003", "W9PQ5ZD1", "overall", "b"),
    ("pair-003", "W9PQ5ZD1", "strength", 1),
]


def _records(table: PlatformTable) -> list[tuple[Any, ...]]:
    columns = ["item_id", "annotator", "dimension", "value"]
    return [tuple(row) for row in table.frame[columns].itertuples(index=False)]


@pytest.mark.parametrize("name", ["surge_results.csv", "surge_results.json", "surge_tasks.json"])
def test_results_exports_and_task_objects_read_alike(name: str) -> None:
    table = load_judgments(EXPORTS / name, answers=MAP)
    assert isinstance(table, PlatformTable)
    assert table.platform == "surge"
    assert _records(table) == EXPECTED
    frame = table.frame
    assert frame["submitted_at"].iloc[2] == pd.Timestamp("2024-05-01T10:04:10Z")
    assert frame["lead_time_s"].tolist()[:3] == [41.0, 41.0, 35.0]
    assert frame["length_a"].iloc[0] == 71.0
    assert frame["rationale"].iloc[0] == "A gives a base case, B is a joke."
    # W3MN8RT4 answered only the free-text question on pair-002: no judgment there
    assert table.skipped == 0
    assert "left out 3 question(s) left unanswered" in table.notes
    assert table.warnings == ()


def test_notes_of_the_csv_export() -> None:
    table = load_judgments(EXPORTS / "surge_results.csv", answers=MAP)
    assert table.frame["display_left"].tolist()[:3] == ["a", "a", "b"]
    assert table.notes == (
        "item_id ← the task's 'item_id' field",
        "annotator ← worker_id",
        "dimension ← the question (its text, or its --map name)",
        "value ← the answer (checkbox answers joined with '|')",
        "submitted_at ← completed_at",
        "lead_time_s ← time_spent_in_secs",
        "display_left ← the task's 'display_left' field",
        "length_a ← the task's 'response_a' field",
        "length_b ← the task's 'response_b' field",
        "rationale ← free-text answer 'Explain your reasoning'",
        "left out 3 question(s) left unanswered",
    )


def test_task_objects_need_no_mapping_and_name_dimensions_by_question() -> None:
    table = load_judgments(EXPORTS / "surge_tasks.json")
    assert sorted(set(table.frame["dimension"])) == [
        "How much better is it?",
        "Which response is better?",
    ]


def test_checkbox_answers_are_joined_and_gold_tasks_noted() -> None:
    tasks = [
        {
            "id": "t1",
            "is_gold_standard": True,
            "fields": {"text": "hello"},
            "responses": [
                {
                    "id": "r1",
                    "worker_id": "W1",
                    "completed_at": "2024-05-01T10:00:00Z",
                    "time_spent_in_secs": 3,
                    "data": {"Problems": ["rude", "wrong"]},
                }
            ],
        }
    ]
    table = surge_judgments(tasks, source="tasks.json")
    assert _records(table) == [("t1", "W1", "Problems", "rude|wrong")]
    assert table.warnings == (
        "tasks.json: 1 checkbox answer(s) chose several options; their values join the options "
        "with '|'",
    )
    assert table.notes[-1] == (
        "1 response(s) answer gold standard tasks; the export holds no gold answers, so they "
        "are judged as ordinary items"
    )


def test_a_flat_export_without_mapping_says_what_to_do() -> None:
    path = EXPORTS / "surge_results.csv"
    with pytest.raises(JudgmentTableError) as caught:
        load_judgments(path)
    assert str(caught.value) == (
        f"{path}:2: a flat Surge export has task fields and answers side by side and nothing "
        "tells them apart; name the answer columns with --map 'QUESTION=DIMENSION' (columns "
        "besides worker_id, completed_at, …: 'item_id', 'prompt', 'response_a', 'response_b', "
        "'display_left', 'Which response is better?', 'How much better is it?', "
        "'Explain your reasoning')"
    )


def test_a_misspelt_mapping_is_warned() -> None:
    answers = AnswerMap(dimensions={**QUESTIONS, "Which is better": "x"})
    table = load_judgments(EXPORTS / "surge_results.csv", answers=answers)
    assert table.warnings == (
        f"{EXPORTS / 'surge_results.csv'}: --map/--rationale field(s) 'Which is better' matched "
        "no answer field; answer fields found: 'Explain your reasoning', "
        "'How much better is it?', 'Which response is better?'",
    )


# --------------------------------------------------------------------------------------------
# Malformed files
# --------------------------------------------------------------------------------------------


def test_malformed_file_names_the_line_and_what_to_do() -> None:
    path = EXPORTS / "surge_malformed.csv"
    with pytest.raises(JudgmentTableError) as caught:
        load_judgments(path, answers=MAP)
    assert str(caught.value) == (
        f"{path}:3: 'completed_at' is not a timestamp: 'soon'; the export writes ISO 8601 "
        "(e.g. 2024-05-01T12:00:00Z); fix or empty the field"
    )


def test_a_response_without_worker(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    rows = [{"task_id": "t1", "worker_id": "W1", "data": {"q": "a"}},
            {"task_id": "t1", "worker_id": "", "data": {"q": "b"}}]  # fmt: skip
    path.write_text(json.dumps(rows, indent=1))
    with pytest.raises(JudgmentTableError) as caught:
        load_judgments(path)
    assert str(caught.value) == (
        f"{path}:9: 'worker_id' is empty; Surge writes the worker of every response, so the "
        "row is damaged: restore it from a fresh export or drop it"
    )


# --------------------------------------------------------------------------------------------
# The command line, end to end
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["surge_results.csv", "surge_results.json"])
def test_cli_report_of_results(tmp_path: Path, name: str) -> None:
    out = tmp_path / "report.json"
    result = runner.invoke(
        app,
        [
            "report", str(EXPORTS / name), "--rubric", "rubrics/rlhf-pairwise/v2.yaml",
            "--map", "Which response is better?=overall",
            "--map", "How much better is it?=strength",
            "--resamples", "20", "--json", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "rationale ← free-text answer 'Explain your reasoning'" in result.output
    report = json.loads(out.read_text())
    assert report["source"]["format"] == "surge"
    overall = report["dimensions"]["overall"]
    # pair-001 (a, a, tie) 1 of 3, pair-002 (b, b) 1 of 1, pair-003 (a, a, b) 1 of 3.
    assert overall["percent_agreement"] == {"value": pytest.approx(3 / 7), "n_pairs": 7}
    assert {a["annotator"] for a in report["annotators"]} == {"W3MN8RT4", "W7XK2LQ9", "W9PQ5ZD1"}


def test_cli_report_of_a_malformed_export_is_one_clear_line() -> None:
    path = EXPORTS / "surge_malformed.csv"
    result = runner.invoke(app, ["report", str(path), "--map", "Which response is better?=overall"])
    assert result.exit_code == 2
    assert f"{path}:3: 'completed_at' is not a timestamp: 'soon'" in " ".join(result.output.split())
    assert "Traceback" not in result.output
