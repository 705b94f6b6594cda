"""Scale AI tasks as judgments (connector.judgments.scale), and what the report does with
judgments whose annotator is unknown.

The fixtures are written from Scale's documented task objects:
tests/data/exports/scale_tasks.json from https://scale.com/docs/api-reference/callbacks (a
completed task: ``task_id``, ``status``, ``completed_at``, ``response``, ``metadata``, ``params``,
``type``) with text collection answers in ``response.annotations``; scale_genai_tasks.jsonl from
https://docs.genai.scale.com/core-resources/task and https://docs.genai.scale.com/v2/task
(``threads[].turns[].messages[].annotations`` and turn annotations ``selected_model_id``,
``likert_value``, ``justification``; "Download All Completed Tasks From a Batch as JSONL",
https://docs.genai.scale.com/v2/tasks). Neither names the contributor.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from connector.cli import app
from connector.errors import JudgmentTableError
from connector.judgments import (
    UNKNOWN_ANNOTATOR_PREFIX,
    AnswerMap,
    PlatformTable,
    is_unknown_annotator,
    load_judgments,
    scale_judgments,
    unknown_annotator,
)

EXPORTS = Path(__file__).parent / "data" / "exports"
TASKS = EXPORTS / "scale_tasks.json"
GENAI = EXPORTS / "scale_genai_tasks.jsonl"
runner = CliRunner()


def test_completed_tasks_without_worker_ids() -> None:
    table = load_judgments(TASKS)
    assert isinstance(table, PlatformTable)
    assert table.platform == "scale"
    assert table.skipped == 2  # one pending, one canceled
    frame = table.frame
    assert frame[["item_id", "dimension", "value"]].to_dict(orient="records") == [
        {"item_id": "pair-001", "dimension": "overall", "value": "a"},
        {"item_id": "pair-001", "dimension": "overall", "value": "a"},
        {"item_id": "pair-001", "dimension": "overall", "value": "tie"},
        {"item_id": "pair-002", "dimension": "overall", "value": "b"},
        {"item_id": "pair-002", "dimension": "overall", "value": "b"},
        {"item_id": "pair-003", "dimension": "overall", "value": "a"},
        {"item_id": "pair-003", "dimension": "overall", "value": "b"},
    ]
    # every task its own unknown annotator: never one person's re-test of another task
    assert frame["annotator"].iloc[0] == "?unknown:task 6627a1f0c1d2e30011a00001"
    assert frame["annotator"].is_unique
    assert frame["annotator"].map(is_unknown_annotator).all()
    assert table.unknown_annotators == 7
    assert frame["submitted_at"].iloc[0] == pd.Timestamp("2024-05-01T10:00:00Z")
    assert frame["batch"].iloc[0] == "batch-2024-05-01"
    assert frame["category"].tolist()[3] == "writing"
    assert frame["rationale"].iloc[0] == "A gives a base case."
    assert table.warnings == ()
    assert table.notes == (
        "item_id ← metadata.item_id",
        "annotator ← none: the tasks name no contributor",
        "dimension ← the answer's name (response field or annotation key)",
        "value ← the task's 'response' fields",
        "category ← metadata.category",
        "submitted_at ← completed_at",
        "batch ← batch",
        "rationale ← free-text answer 'why'",
        "skipped 1: tasks with status 'canceled' (not completed)",
        "skipped 1: tasks with status 'pending' (not completed)",
        "7 judgment(s) from 7 task(s) name no annotator: they count for agreement on their "
        "items, each task as an annotator of its own, and no per-annotator figure is computed "
        "for them",
    )


def test_genai_tasks_read_turn_and_message_annotations() -> None:
    table = load_judgments(GENAI)
    assert table.frame[["dimension", "value"]].iloc[:4].to_dict(orient="records") == [
        {"dimension": "selected_model_id", "value": "base_model"},
        {"dimension": "likert_value", "value": 2},
        {"dimension": "overall.base_model", "value": 5},
        {"dimension": "overall.test_model", "value": 2},
    ]
    assert table.frame["rationale"].iloc[0] == "@Response 1 gives a base case."
    assert table.unknown_annotators == 12


def test_genai_mapping_keeps_the_model_of_a_message_rating() -> None:
    answers = AnswerMap(dimensions={"overall": "quality", "selected_model_id": "preferred"})
    table = load_judgments(GENAI, answers=answers)
    assert sorted(set(table.frame["dimension"])) == [
        "preferred",
        "quality.base_model",
        "quality.test_model",
    ]
    assert "left out 3 answer(s) of fields not in --map: 'likert_value' (3)" in table.notes


def test_categorization_response_and_a_worker_id_when_present() -> None:
    tasks = [
        {"task_id": "t1", "status": "completed", "response": {"category": "red"},
         "metadata": {"worker_id": "labeler-7"}},
        {"task_id": "t2", "status": "completed", "response": {"category": ["red", "blue"]}},
    ]  # fmt: skip
    table = scale_judgments(tasks, source="tasks.json")
    assert table.frame[["annotator", "value"]].to_dict(orient="records") == [
        {"annotator": "labeler-7", "value": "red"},
        {"annotator": unknown_annotator("task t2"), "value": "red|blue"},
    ]
    assert table.unknown_annotators == 1


def test_unknown_annotator_ids() -> None:
    assert UNKNOWN_ANNOTATOR_PREFIX == "?unknown:"
    assert is_unknown_annotator(unknown_annotator("task 1"))
    assert not is_unknown_annotator("alice")
    assert not is_unknown_annotator(None)


# --------------------------------------------------------------------------------------------
# Malformed files
# --------------------------------------------------------------------------------------------


def _error(path: Path) -> str:
    with pytest.raises(JudgmentTableError) as caught:
        load_judgments(path)
    return str(caught.value)


def test_malformed_file_names_the_line_and_what_to_do() -> None:
    """The second task of a JSON array lost its task_id: the message names its line."""
    path = EXPORTS / "scale_malformed.json"
    assert _error(path) == (
        f"{path}:75: no 'task_id'; is this a Scale AI task list (GET /v1/tasks or /v2/tasks, "
        "or the tasks posted to your callback)?"
    )


def test_a_completed_task_without_response(tmp_path: Path) -> None:
    path = tmp_path / "tasks.jsonl"
    path.write_text(json.dumps({"task_id": "t9", "status": "completed"}) + "\n")
    assert _error(path) == (
        f"{path}:1: task t9: a completed task with no 'response' object and no 'threads' list; "
        "export completed tasks with their responses (GET /v1/tasks?status=completed)"
    )


# --------------------------------------------------------------------------------------------
# The command line, end to end: consensus figures, no per-annotator figures
# --------------------------------------------------------------------------------------------


def test_cli_report_scores_agreement_and_no_unknown_annotator(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = runner.invoke(
        app,
        [
            "report", str(TASKS), "--rubric", "rubrics/rlhf-pairwise/v1.yaml",
            "--resamples", "20", "--min-shared-items", "1", "--json", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "7 judgment(s) from 7 task(s) name no annotator" in " ".join(result.output.split())
    report = json.loads(out.read_text())
    assert report["source"]["format"] == "scale"
    assert report["source"]["unknown_annotator_judgments"] == 7
    overall = report["dimensions"]["overall"]
    # pair-001 (a, a, tie) 1 of 3, pair-002 (b, b) 1 of 1, pair-003 (a, b) 0 of 1.
    assert overall["percent_agreement"] == {"value": pytest.approx(0.4), "n_pairs": 5}
    assert overall["krippendorff_alpha"]["value"] is not None
    assert overall["n_annotators"] == 0
    assert report["summary"]["n_annotators"] == 0
    assert report["annotators"] == []  # no per-annotator figures for unknown annotators
    assert report["annotator_pairs"] == {"overall": []}


def test_cli_report_of_a_malformed_task_list_is_one_clear_line() -> None:
    path = EXPORTS / "scale_malformed.json"
    result = runner.invoke(app, ["report", str(path)])
    assert result.exit_code == 2
    assert f"{path}:75: no 'task_id'" in " ".join(result.output.split())
    assert "Traceback" not in result.output
