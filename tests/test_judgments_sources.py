"""What the platform readers share (connector.judgments.sources) and how load_judgments tells
the formats apart: detection, ``format=``/``--format``, answer maps, line numbers, and the
report's treatment of unknown annotators."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connector.cli import app
from connector.errors import JudgmentTableError, OptionError
from connector.judgments import (
    INPUT_FORMATS,
    PLATFORM_FORMATS,
    AnswerMap,
    PlatformTable,
    input_format,
    load_judgments,
)
from connector.judgments.sources import csv_rows, json_array

DATA = Path(__file__).parent / "data"
EXPORTS = DATA / "exports"
runner = CliRunner()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("prodigy_db_out.jsonl", "prodigy"),
        ("labelbox_export_v2.ndjson", "labelbox"),
        ("surge_tasks.json", "surge"),
        ("scale_tasks.json", "scale"),
        ("scale_genai_tasks.jsonl", "scale"),
        ("mturk_batch_results.csv", "mturk"),
    ],
)
def test_exports_are_detected_by_their_fields(name: str, expected: str) -> None:
    table = load_judgments(EXPORTS / name)
    assert isinstance(table, PlatformTable)
    assert input_format(table) == expected


def test_flat_surge_results_are_detected_by_worker_id() -> None:
    answers = AnswerMap(dimensions={"Which response is better?": "overall"})
    for name in ("surge_results.csv", "surge_results.json"):
        assert input_format(load_judgments(EXPORTS / name, answers=answers)) == "surge"


def test_the_earlier_formats_are_still_detected() -> None:
    assert input_format(load_judgments(DATA / "label_studio_export.json")) == "label-studio"
    assert input_format(load_judgments(DATA / "argilla_export.json")) == "argilla"
    assert input_format(load_judgments("examples/mt-bench/judgments.jsonl")) == "canonical"


def test_format_forces_a_reader_whatever_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "annotations.txt"
    shutil.copy(EXPORTS / "prodigy_db_out.jsonl", path)
    assert input_format(load_judgments(path, format="prodigy")) == "prodigy"
    with pytest.raises(JudgmentTableError) as caught:
        load_judgments(path, format="scale")
    assert str(caught.value) == (
        f"{path}:1: no 'task_id'; is this a Scale AI task list (GET /v1/tasks or /v2/tasks, "
        "or the tasks posted to your callback)?"
    )


def test_an_unknown_format_lists_the_valid_ones() -> None:
    with pytest.raises(OptionError) as caught:
        load_judgments(EXPORTS / "prodigy_db_out.jsonl", format="prodigi")
    assert str(caught.value) == (
        "format='prodigi' is not one of 'canonical', 'label-studio', 'argilla', 'prodigy', "
        "'labelbox', 'surge', 'scale', 'mturk'"
    )
    assert INPUT_FORMATS[3:] == PLATFORM_FORMATS


def test_a_mapping_on_a_canonical_table_is_an_error() -> None:
    with pytest.raises(JudgmentTableError) as caught:
        load_judgments(
            "examples/mt-bench/judgments.jsonl", answers=AnswerMap(dimensions={"x": "y"})
        )
    assert str(caught.value) == (
        "examples/mt-bench/judgments.jsonl: --map and --rationale apply to platform exports "
        "(prodigy, labelbox, surge, scale, mturk); this file reads as canonical"
    )


def test_answer_map_roles() -> None:
    plain = AnswerMap()
    assert plain.role(["overall"]) == ("dimension", "overall")
    assert plain.role(["Explain your reasoning"]) == ("rationale", None)
    assert plain.role(["notes"], free_text=True) == ("rationale", None)
    mapped = AnswerMap(dimensions={"Q1": "overall"}, rationale=("Q9",))
    assert mapped.role(["Answer.Q1", "Q1"]) == ("dimension", "overall")
    assert mapped.role(["Q2"]) == ("unmapped", None)
    assert mapped.role(["Q9"]) == ("rationale", None)
    assert mapped.unmatched(["Q1"]) == ["Q9"]


def test_json_array_entries_know_their_lines() -> None:
    text = '[\n  {"a": 1},\n  {"b": [\n    2\n  ]},\n\n  {"c": 3}\n]\n'
    assert json_array(text, "x.json") == ([{"a": 1}, {"b": [2]}, {"c": 3}], [2, 3, 7])
    page = '{"docs": [\n{"task_id": "t1"},\n{"task_id": "t2"}\n], "total": 2}'
    assert json_array(page, "x.json") == ([{"task_id": "t1"}, {"task_id": "t2"}], [2, 3])


def test_csv_rows_know_the_line_they_start_on() -> None:
    text = 'a,b\n1,"two\nlines"\n\n3,4\n'
    assert csv_rows(text, "x.csv") == (
        ["a", "b"],
        [{"a": "1", "b": "two\nlines"}, {"a": "3", "b": "4"}],
        [2, 5],
    )
    with pytest.raises(JudgmentTableError) as caught:
        csv_rows("a,b\n1,2\n1,2,3\n", "x.csv")
    assert str(caught.value) == (
        "x.csv:3: 3 cells but the header names 2 columns; quote cells that hold commas"
    )


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------


def test_cli_format_option_and_its_misspelling(tmp_path: Path) -> None:
    path = tmp_path / "annotations.txt"
    shutil.copy(EXPORTS / "prodigy_db_out.jsonl", path)
    ok = runner.invoke(app, ["report", str(path), "--format", "prodigy", "--resamples", "0"])
    assert ok.exit_code == 0, ok.output
    assert f"read {path} as prodigy:" in ok.output
    bad = runner.invoke(app, ["report", str(path), "--format", "prodigi"])
    assert bad.exit_code == 2
    assert "format='prodigi' is not one of 'canonical'" in " ".join(bad.output.split())


def test_cli_map_without_equals_sign() -> None:
    result = runner.invoke(
        app, ["report", str(EXPORTS / "mturk_batch_results.csv"), "--map", "overall"]
    )
    assert result.exit_code == 2
    assert "--map 'overall': write FIELD=DIMENSION, e.g. --map 'Answer.choice=overall'" in (
        " ".join(result.output.split())
    )


def test_cli_report_drops_only_the_unknown_annotators(tmp_path: Path) -> None:
    """Known annotators keep their figures and pairs; unknown ones count in the coefficients
    only (a canonical table marks them with the same prefix)."""
    rows = [
        {"item_id": f"i{i}", "annotator": who, "dimension": "overall", "value": value}
        for i in range(3)
        for who, value in (("ann", "a"), ("bob", "a"), (f"?unknown:task {i}", "b"))
    ]
    path = tmp_path / "j.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "report.json"
    result = runner.invoke(
        app,
        ["report", str(path), "--resamples", "0", "--min-shared-items", "1", "--json", str(out)],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert [a["annotator"] for a in report["annotators"]] == ["ann", "bob"]
    assert [(p["a"], p["b"]) for p in report["annotator_pairs"]["overall"]] == [("ann", "bob")]
    assert report["summary"]["n_annotators"] == 2
    assert report["dimensions"]["overall"]["n_judgments"] == 9
    # three agreeing pairs of nine: every unknown judgment counts
    assert report["dimensions"]["overall"]["percent_agreement"]["n_pairs"] == 9


def test_a_map_that_matches_nothing_is_a_clear_error_not_an_empty_rubric() -> None:
    """Before: 'default_rubric_for needs at least one dimension' and no hint of the fields."""
    path = Path(__file__).parent / "data" / "exports" / "mturk_batch_results.csv"
    result = runner.invoke(app, ["report", str(path), "--map", "Answer.choice=overall"])
    assert result.exit_code != 0
    assert "'Answer.choice' matched no answer field" in result.output
    assert "'Answer.overall'" in result.output  # the fields there are
    assert "check --map and --format" in result.output
    assert "Traceback" not in result.output
