"""Labelbox export v2 files as judgments (connector.judgments.labelbox).

The fixture tests/data/exports/labelbox_export_v2.ndjson is written from Labelbox's documented
export format: https://docs.labelbox.com/reference/export-glossary (one data row per line:
``data_row.{id, global_key, external_id}``, ``metadata_fields``,
``projects.<id>.{labels, project_details}``, each label's ``label_details.{created_by,
created_at, updated_at}`` and ``performance_details.{seconds_to_create, skipped}``) and
https://docs.labelbox.com/reference/export-text-annotations (classifications with
``radio_answer``, ``checklist_answers``, ``text_answer``; text entities among ``objects``).
Benchmark (gold) labels carry ``is_benchmark_reference``, the Label field of the SDK
(https://github.com/Labelbox/labelbox-python, "Allow marking Label with is_benchmark_reference
flag", 3.77.0).
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
from connector.judgments import AnswerMap, PlatformTable, labelbox_judgments, load_judgments

EXPORTS = Path(__file__).parent / "data" / "exports"
EXPORT = EXPORTS / "labelbox_export_v2.ndjson"
runner = CliRunner()


def _row(*labels: dict[str, Any]) -> dict[str, Any]:
    return {
        "data_row": {"id": "dr1", "external_id": "x.txt", "row_data": "text"},
        "projects": {"p1": {"name": "P", "labels": list(labels)}},
    }


def _label(*classifications: dict[str, Any], who: str = "ann@example.com") -> dict[str, Any]:
    return {
        "id": "lb1",
        "label_details": {"created_by": who, "created_at": "2024-05-01T10:00:00.000+00:00"},
        "performance_details": {"seconds_to_create": 12, "skipped": False},
        "annotations": {"objects": [], "classifications": list(classifications)},
    }


def test_export_v2_of_a_pairwise_project() -> None:
    table = load_judgments(EXPORT)
    assert isinstance(table, PlatformTable)
    assert table.platform == "labelbox"
    assert table.skipped == 1  # carol skipped pair-001
    assert table.gold == 1  # the benchmark reference label
    frame = table.frame
    overall = frame[frame["dimension"] == "overall"]
    assert overall[["item_id", "annotator", "value", "gold_value"]].to_dict(orient="records") == [
        {"item_id": "pair-001", "annotator": "alice@example.com", "value": "a", "gold_value": "a"},
        {"item_id": "pair-001", "annotator": "bob@example.com", "value": "a", "gold_value": "a"},
        {"item_id": "pair-002", "annotator": "alice@example.com", "value": "b", "gold_value": None},
        {"item_id": "pair-002", "annotator": "bob@example.com", "value": "tie", "gold_value": None},
        {"item_id": "pair-002", "annotator": "carol@example.com", "value": "b", "gold_value": None},
        {"item_id": "pair-003", "annotator": "alice@example.com", "value": "b", "gold_value": None},
        {"item_id": "pair-003", "annotator": "bob@example.com", "value": "b", "gold_value": None},
        {"item_id": "pair-003", "annotator": "carol@example.com", "value": "a", "gold_value": None},
    ]  # fmt: skip
    strength = frame[frame["dimension"] == "strength"]
    assert strength["value"].tolist() == [2, 3, 1, 2, 2, 2, 1]  # radio values read as numbers
    assert strength["gold_value"].tolist()[:2] == [3, 3]
    assert overall["lead_time_s"].tolist()[:3] == [41.5, 30.0, 55.0]
    assert overall["category"].tolist()[0] == "coding"
    assert overall["batch"].tolist()[0] == "batch-2024-05-01"
    # alice relabelled pair-002: her answer counts as of the edit
    assert overall["submitted_at"].tolist()[2] == pd.Timestamp("2024-05-02T09:30:00Z")
    assert overall["rationale"].tolist()[0] == "A gives a base case."
    assert table.warnings == ()
    assert table.notes == (
        "item_id ← data_row.global_key",
        "annotator ← label_details.created_by",
        "dimension ← classification value (its schema name), else name",
        "value ← radio_answer.value, or checklist_answers joined with '|'",
        "category ← metadata field 'category'",
        "submitted_at ← label_details.updated_at, else created_at",
        "batch ← project_details.batch_name",
        "lead_time_s ← performance_details.seconds_to_create",
        "gold_value ← benchmark reference labels (is_benchmark_reference)",
        "rationale ← text_answer.content",
        "skipped 1: labels the labeler skipped (performance_details.skipped)",
        "left out 1 object annotation(s) (boxes, entities, regions: not judgments)",
        "1 label(s) were edited after they were created; each counts as of its last edit "
        "(label_details.updated_at)",
    )


def test_checklist_answers_are_joined_and_nested_classifications_read() -> None:
    checklist = {
        "name": "Problems",
        "value": "problems",
        "checklist_answers": [
            {"name": "Wrong", "value": "wrong"},
            {"name": "Rude", "value": "rude"},
        ],
    }
    radio = {
        "name": "Better",
        "value": "overall",
        "radio_answer": {
            "name": "A",
            "value": "a",
            "classifications": [
                {"name": "Margin", "value": "strength", "radio_answer": {"name": "2", "value": "2"}}
            ],
        },
    }
    table = labelbox_judgments([_row(_label(checklist, radio))], source="x.ndjson")
    assert table.frame[["dimension", "value"]].to_dict(orient="records") == [
        {"dimension": "problems", "value": "wrong|rude"},
        {"dimension": "overall", "value": "a"},
        {"dimension": "strength", "value": 2},
    ]
    assert table.frame["item_id"].tolist() == ["x.txt"] * 3  # no global key: external id
    assert table.warnings == (
        "x.ndjson: 1 checklist answer(s) chose several options; their values join the options "
        "with '|'",
    )


def test_a_mapping_selects_and_renames_classifications() -> None:
    radio = {"name": "Which is better?", "value": "which_is_better", "radio_answer": {"value": "b"}}
    other = {"name": "Toxic?", "value": "toxic", "radio_answer": {"value": "no"}}
    table = labelbox_judgments(
        [_row(_label(radio, other))],
        source="x.ndjson",
        answers=AnswerMap(dimensions={"Which is better?": "overall"}),
    )
    assert table.frame[["dimension", "value"]].to_dict(orient="records") == [
        {"dimension": "overall", "value": "b"}
    ]
    assert "left out 1 answer(s) of fields not in --map: 'toxic' (1)" in table.notes


def test_message_classifications_of_a_conversation_are_one_dimension_per_message() -> None:
    rating = {
        "name": "score",
        "message_id": "m2",
        "radio_answer": {"value": "4"},
    }
    table = labelbox_judgments([_row(_label(rating))], source="x.ndjson")
    assert table.frame[["dimension", "value"]].to_dict(orient="records") == [
        {"dimension": "score.m2", "value": 4}
    ]


# --------------------------------------------------------------------------------------------
# Malformed files
# --------------------------------------------------------------------------------------------


def _error(path: Path) -> str:
    with pytest.raises(JudgmentTableError) as caught:
        load_judgments(path)
    return str(caught.value)


def test_malformed_file_names_the_line_and_what_to_do() -> None:
    """The second data row was exported without label details."""
    path = EXPORTS / "labelbox_malformed.ndjson"
    assert _error(path) == (
        f"{path}:2: label clv2lb005: no label_details.created_by; export with label details: "
        "project.export(params={'label_details': True, 'performance_details': True})"
    )


def test_a_line_without_data_row(tmp_path: Path) -> None:
    path = tmp_path / "export.ndjson"
    path.write_text(json.dumps(_row(_label())) + '\n{"projects": {}, "data_row": 3}\n')
    assert _error(path) == (
        f"{path}:2: no 'data_row' object; a Labelbox export v2 has one data row per line "
        "(export the project as JSON/NDJSON, not CSV)"
    )


def test_projects_must_be_an_object(tmp_path: Path) -> None:
    path = tmp_path / "export.ndjson"
    path.write_text(json.dumps({**_row(), "projects": [1]}) + "\n")
    assert _error(path) == (
        f"{path}:1: 'projects' is a list, expected an object mapping each project id to its labels"
    )


# --------------------------------------------------------------------------------------------
# The command line, end to end
# --------------------------------------------------------------------------------------------


def test_cli_report_of_an_export(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = runner.invoke(
        app,
        [
            "report", str(EXPORT), "--rubric", "rubrics/rlhf-pairwise/v2.yaml",
            "--resamples", "20", "--json", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "skipped 1: labels the labeler skipped" in result.output
    report = json.loads(out.read_text())
    assert report["source"]["format"] == "labelbox"
    overall = report["dimensions"]["overall"]
    # pair-001 (a, a) 1 of 1, pair-002 (b, tie, b) 1 of 3, pair-003 (b, b, a) 1 of 3.
    assert overall["percent_agreement"] == {"value": pytest.approx(3 / 7), "n_pairs": 7}
    assert report["dimensions"]["strength"]["n_judgments"] == 7
    alice = next(a for a in report["annotators"] if a["annotator"] == "alice@example.com")
    assert alice["dimensions"]["overall"]["gold"]["accuracy"] == 1.0
    assert alice["dimensions"]["overall"]["median_lead_time_s"] == pytest.approx(55.0)


def test_cli_report_of_a_malformed_export_is_one_clear_line() -> None:
    path = EXPORTS / "labelbox_malformed.ndjson"
    result = runner.invoke(app, ["report", str(path)])
    assert result.exit_code == 2
    assert f"{path}:2: label clv2lb005: no label_details.created_by" in " ".join(
        result.output.split()
    )
    assert "Traceback" not in result.output
