"""Tests of connector.judgments: the canonical table, its loaders and their error messages."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import connector.judgments as judgments
from connector.errors import ConnectorError, JudgmentTableError
from connector.judgments import (
    COLUMNS,
    REQUIRED_COLUMNS,
    JudgmentTable,
    load_judgments,
    normalise,
)

DATA = Path(__file__).parent / "data"


def _isort_key(name: str) -> tuple[int, str]:
    """Ruff's RUF022 order: CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return (0, name)
    return (1, name) if name[0].isupper() else (2, name)


def test_all_is_complete_and_sorted() -> None:
    public = {
        name
        for name, obj in vars(judgments).items()
        if not name.startswith("_")
        and getattr(obj, "__module__", "connector.judgments") == "connector.judgments"
        and (callable(obj) or name.isupper())
    }
    assert set(judgments.__all__) >= public
    assert judgments.__all__ == sorted(judgments.__all__, key=_isort_key)


def test_stored_rows_get_the_dtypes_normalise_gives() -> None:
    """The store reads validated rows back as raw values (times as text, NULLs as None) and
    casts them with with_canonical_dtypes: the dtypes must be normalise's."""
    rows = [
        {"item_id": "i1", "annotator": "x", "dimension": "overall", "value": "a",
         "submitted_at": "2024-05-01 12:00:00.000000", "lead_time_s": 3, "gold_value": "a"},
        {"item_id": "i1", "annotator": "y", "dimension": "overall", "value": "b",
         "submitted_at": None, "lead_time_s": None, "gold_value": None},
    ]  # fmt: skip
    validated = normalise(pd.DataFrame(rows))
    raw = pd.DataFrame.from_records(
        [{c: r.get(c) for c in COLUMNS} for r in rows], columns=list(COLUMNS)
    )
    cast = judgments.with_canonical_dtypes(raw)
    assert cast.dtypes.to_dict() == validated.dtypes.to_dict()
    assert cast["submitted_at"].iloc[0] == validated["submitted_at"].iloc[0]
    assert cast["gold_value"].iloc[1] is None
    assert cast["lead_time_s"].iloc[0] == 3.0


def test_columns() -> None:
    assert REQUIRED_COLUMNS == ("item_id", "annotator", "dimension", "value")
    assert COLUMNS[:4] == REQUIRED_COLUMNS
    assert len(COLUMNS) == 13
    assert set(COLUMNS[4:]) == {
        "category",
        "submitted_at",
        "rubric_version",
        "batch",
        "lead_time_s",
        "display_left",
        "gold_value",
        "length_a",
        "length_b",
    }


# --------------------------------------------------------------------------------------------
# Canonical files
# --------------------------------------------------------------------------------------------

ROWS: list[dict[str, Any]] = [
    {
        "item_id": "q1",
        "annotator": "ann",
        "dimension": "overall",
        "value": "a",
        "category": "coding",
        "submitted_at": "2024-05-01T10:00:12.5Z",
        "rubric_version": "v1",
        "batch": "b1",
        "lead_time_s": 12.5,
        "display_left": "b",
        "gold_value": "a",
        "length_a": 120,
        "length_b": 80,
    },
    {
        "item_id": "q1",
        "annotator": "bob",
        "dimension": "overall",
        "value": "tie",
        "submitted_at": "2024-05-01T11:00:00+02:00",
        "lead_time_s": 3,
    },
    {"item_id": "q1", "annotator": "ann", "dimension": "helpfulness", "value": 4},
    {"item_id": "007", "annotator": "bob", "dimension": "helpfulness", "value": 2},
]


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _expected_frame() -> pd.DataFrame:
    def column(values: list[object]) -> pd.Series[Any]:
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return pd.Series(array, dtype=object)

    return pd.DataFrame(
        {
            "item_id": column(["q1", "q1", "q1", "007"]),
            "annotator": column(["ann", "bob", "ann", "bob"]),
            "dimension": column(["overall", "overall", "helpfulness", "helpfulness"]),
            "value": column(["a", "tie", 4, 2]),
            "category": column(["coding", None, None, None]),
            "submitted_at": pd.to_datetime(
                pd.Series(["2024-05-01T10:00:12.5Z", "2024-05-01T09:00:00Z", None, None]),
                utc=True,
                format="ISO8601",
            ).astype("datetime64[ns, UTC]"),
            "rubric_version": column(["v1", None, None, None]),
            "batch": column(["b1", None, None, None]),
            "lead_time_s": [12.5, 3.0, math.nan, math.nan],
            "display_left": column(["b", None, None, None]),
            "gold_value": column(["a", None, None, None]),
            "length_a": [120.0, math.nan, math.nan, math.nan],
            "length_b": [80.0, math.nan, math.nan, math.nan],
        }
    )


def test_jsonl_reads_canonical_rows(tmp_path: Path) -> None:
    table = load_judgments(_write_jsonl(tmp_path / "j.jsonl", ROWS))
    assert table.format == "canonical"
    assert table.skipped == 0
    assert table.warnings == ()
    pd.testing.assert_frame_equal(table.frame, _expected_frame())
    assert [type(v) for v in table.frame["value"]] == [str, str, int, int]


def test_jsonl_csv_parquet_round_trip_to_identical_frames(tmp_path: Path) -> None:
    original = load_judgments(_write_jsonl(tmp_path / "j.ndjson", ROWS)).frame
    original.to_csv(tmp_path / "j.csv", index=False)
    # A Parquet column holds one type: a table of mixed values stores them as strings.
    original.astype({"value": str, "gold_value": str}).replace({"None": None}).to_parquet(
        tmp_path / "j.parquet"
    )
    from_csv = load_judgments(tmp_path / "j.csv").frame
    from_parquet = load_judgments(tmp_path / "j.parquet").frame
    pd.testing.assert_frame_equal(from_csv, original)
    pd.testing.assert_frame_equal(from_parquet, original)
    assert from_csv["item_id"].tolist() == ["q1", "q1", "q1", "007"]  # no leading zeros lost


def test_parquet_of_numbers_keeps_python_numbers(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"item_id": ["i1", "i2"], "annotator": ["x", "y"], "dimension": ["d", "d"], "value": [1, 5]}
    )
    frame.to_parquet(tmp_path / "n.parquet")
    table = load_judgments(tmp_path / "n.parquet")
    assert table.frame["value"].tolist() == [1, 5]
    assert [type(v) for v in table.frame["value"]] == [int, int]
    assert table.frame["value"].dtype == object


def test_csv_values_become_numbers_per_dimension(tmp_path: Path) -> None:
    path = tmp_path / "j.csv"
    path.write_text(
        "item_id,annotator,dimension,value\n"
        "q1,ann,helpfulness,1\n"
        "q1,bob,helpfulness,2.5\n"
        "q1,ann,overall,a\n"
        "q1,bob,overall,1\n"
        "q1,ann,label,NA\n",
        encoding="utf-8",
    )
    values = load_judgments(path).frame["value"].tolist()
    assert values == [1, 2.5, "a", "1", "NA"]
    assert [type(v) for v in values] == [int, float, str, str, str]


def test_json_list_of_rows_is_canonical(tmp_path: Path) -> None:
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(ROWS), encoding="utf-8")
    table = load_judgments(path)
    assert table.format == "canonical"
    pd.testing.assert_frame_equal(table.frame, _expected_frame())


def test_unknown_columns_are_kept_and_warned(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "j.jsonl", [{**ROWS[2], "note": "fast"}])
    table = load_judgments(path)
    assert list(table.frame.columns) == [*COLUMNS, "note"]
    assert table.frame["note"].tolist() == ["fast"]
    assert table.warnings == (
        f"{path}: unknown column(s) 'note' kept as they are; the connector reads only "
        "item_id, annotator, dimension, value, category, submitted_at, rubric_version, batch, "
        "lead_time_s, display_left, gold_value, length_a, length_b",
    )


def test_repeated_judgments_are_kept_and_warned(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "j.jsonl", [ROWS[2], ROWS[3], {**ROWS[2], "value": 5}])
    table = load_judgments(path)
    assert len(table.frame) == 3
    assert table.warnings == (
        f"{path}: 1 judgment(s) repeat an (item_id, annotator, dimension) already judged, "
        "first at line 3; they are read as re-tests, except exact copies (same value and "
        "time), which the report drops and counts",
    )


def test_normalise_validates_a_frame_and_adds_missing_columns() -> None:
    frame = pd.DataFrame(
        {
            "item_id": [1, 2],
            "annotator": ["x", "y"],
            "dimension": ["d", "d"],
            "value": np.array([3, 4], dtype=np.int64),
        },
        index=[10, 20],
    )
    out = normalise(frame)
    assert list(out.columns) == list(COLUMNS)
    assert out.index.tolist() == [0, 1]
    assert out["item_id"].tolist() == ["1", "2"]
    assert [type(v) for v in out["value"]] == [int, int]
    assert str(out["submitted_at"].dtype) == "datetime64[ns, UTC]"
    assert out["lead_time_s"].dtype == np.float64
    assert out["display_left"].tolist() == [None, None]


def test_judgment_table_from_frame_keeps_warnings() -> None:
    frame = pd.DataFrame({"item_id": ["i"], "annotator": ["x"], "dimension": ["d"]})
    frame["value"] = "a"
    frame["extra"] = 1
    table = JudgmentTable.from_frame(frame, source="pulled")
    assert table.source == "pulled"
    assert table.format == "canonical"
    assert len(table.warnings) == 1
    assert table.warnings[0].startswith("pulled: unknown column(s) 'extra' kept")


def test_empty_frame_is_valid() -> None:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in REQUIRED_COLUMNS})
    out = normalise(frame)
    assert out.empty
    assert list(out.columns) == list(COLUMNS)


# --------------------------------------------------------------------------------------------
# Error messages
# --------------------------------------------------------------------------------------------


def _error(path: Path | str) -> str:
    with pytest.raises(JudgmentTableError) as caught:
        load_judgments(path)
    assert isinstance(caught.value, ConnectorError)
    assert isinstance(caught.value, ValueError)
    return str(caught.value)


def test_error_missing_column() -> None:
    path = DATA / "missing_column.csv"
    assert _error(path) == (
        f"{path}: missing required column(s) 'value'; columns found: 'item_id', 'annotator', "
        "'dimension', 'score'. A judgments table needs item_id, annotator, dimension, value "
        "(one row per judgment)"
    )


def test_error_empty_cell_names_the_lines() -> None:
    path = DATA / "empty_annotator.csv"
    assert _error(path) == (
        f"{path}:3: column 'annotator' is empty (also lines 5, 6); fill it in or drop those rows"
    )


def test_error_empty_cell_in_one_row(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "j.jsonl", [ROWS[0], {**ROWS[1], "value": ""}])
    assert _error(path) == (
        f"{path}:2: column 'value' is empty; fill it in, drop the row, or pass --drop-empty "
        "to drop and count such rows"
    )


def test_error_empty_cell_in_a_frame_names_rows() -> None:
    frame = pd.DataFrame(
        {"item_id": ["i"] * 9, "annotator": ["x"] * 9, "dimension": [None] * 8 + ["d"]}
    )
    frame["value"] = 1
    with pytest.raises(JudgmentTableError) as caught:
        normalise(frame, source="pulled")
    assert str(caught.value) == (
        "pulled: row 1: column 'dimension' is empty (also rows 2, 3, 4, 5, 6 and 2 more); "
        "fill it in or drop those rows"
    )


def test_error_bad_json_line() -> None:
    path = DATA / "bad_json.jsonl"
    assert _error(path) == f"{path}:5: invalid JSON: Expecting ',' delimiter at column 62"


def test_error_json_line_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text('{"item_id": "q"}\n["q", "ann"]\n', encoding="utf-8")
    assert _error(path) == (f"{path}:2: expected a JSON object (one judgment per line), got list")


def test_error_bad_timestamp() -> None:
    path = DATA / "bad_timestamp.csv"
    assert _error(path) == (
        f"{path}:3: column 'submitted_at' is not a timestamp: 'yesterday'; "
        "write ISO 8601, e.g. 2024-05-01T12:00:00Z"
    )


def test_error_bad_display_left() -> None:
    path = DATA / "bad_display_left.jsonl"
    assert _error(path) == (
        f"{path}:2: column 'display_left' is 'left'; it must be 'a' or 'b' "
        "(the response shown on the left) or empty"
    )


def test_error_lead_time_not_a_number(tmp_path: Path) -> None:
    path = tmp_path / "j.csv"
    path.write_text(
        "item_id,annotator,dimension,value,lead_time_s\nq,x,d,a,12\nq,y,d,b,fast\n",
        encoding="utf-8",
    )
    assert _error(path) == f"{path}:3: column 'lead_time_s' is not a number: 'fast'"


def test_error_value_is_a_list(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "j.jsonl", [{**ROWS[2], "value": [1, 2]}])
    assert _error(path) == (
        f"{path}:1: column 'value' holds a list; a judgment value is one string or number "
        "(write one row per dimension)"
    )


def test_error_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "j.xlsx"
    path.write_bytes(b"PK\x03\x04")
    assert _error(path) == (
        f"{path}: unknown judgments format '.xlsx'; use .jsonl, .ndjson, .csv, .tsv, .parquet, "
        "or .json (Label Studio or Argilla export)"
    )


def test_error_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.jsonl"
    assert _error(path) == f"{path}: no such file"


def test_error_empty_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    assert _error(path) == f"{path}: no judgments (the file has no JSON lines)"


def test_error_json_of_unknown_shape(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('[{"foo": 1}]', encoding="utf-8")
    assert _error(path) == (
        f"{path}: cannot tell the format of entry 1 (keys 'foo'); expected a Label Studio task "
        "('annotations'), an Argilla record ('fields', 'responses') or a judgment row "
        "(item_id, annotator, dimension, value)"
    )


# --------------------------------------------------------------------------------------------
# Label Studio
# --------------------------------------------------------------------------------------------


def test_label_studio_export() -> None:
    path = DATA / "label_studio_export.json"
    table = load_judgments(path)
    assert table.format == "label-studio"
    assert table.source == str(path)
    assert table.skipped == 1  # the cancelled annotation 1002
    assert table.gold == 1  # the ground-truth annotation 1003
    assert table.warnings == (
        f"{path}: left out 1 result(s) that are not choices, rating, number, pairwise or ranker: "
        "textarea (1)",
    )
    frame = table.frame
    got = frame[["item_id", "annotator", "dimension", "value", "gold_value"]]
    assert got.to_dict(orient="records") == [
        {
            "item_id": "q1",
            "annotator": "ann@example.com",
            "dimension": "overall",
            "value": "a",
            "gold_value": "a",
        },
        {
            "item_id": "q1",
            "annotator": "ann@example.com",
            "dimension": "helpfulness",
            "value": 4,
            "gold_value": None,
        },
        {
            "item_id": "q1",
            "annotator": "9",
            "dimension": "overall",
            "value": "tie",
            "gold_value": "a",
        },
        {
            "item_id": "q1",
            "annotator": "9",
            "dimension": "helpfulness",
            "value": 3,
            "gold_value": None,
        },
        {
            "item_id": "102",
            "annotator": "ann@example.com",
            "dimension": "overall",
            "value": "a",
            "gold_value": None,
        },
    ]
    assert frame["category"].tolist() == ["writing"] * 4 + [None]
    assert frame["display_left"].tolist() == ["b"] * 4 + [None]
    assert frame["rubric_version"].tolist() == ["v1"] * 4 + [None]
    assert frame["lead_time_s"].tolist() == [12.5, 12.5, 60.25, 60.25, 2.0]
    assert frame["submitted_at"].tolist() == [
        pd.Timestamp("2024-05-01T10:00:12.5Z"),
        pd.Timestamp("2024-05-01T10:00:12.5Z"),
        pd.Timestamp("2024-05-02T08:31:00Z"),
        pd.Timestamp("2024-05-02T08:31:00Z"),
        pd.Timestamp("2024-05-03T12:00:00Z"),  # no updated_at: created_at
    ]
    assert frame["length_a"].tolist() == [21.0] * 4 + [1.0]
    assert frame["length_b"].tolist() == [21.0] * 4 + [1.0]


def _label_studio_task(**annotation: Any) -> list[dict[str, Any]]:
    base = {"id": 5, "completed_by": 3, "was_cancelled": False, "ground_truth": False}
    return [{"id": 1, "data": {}, "annotations": [{**base, **annotation}]}]


def test_label_studio_pairwise_maps_sides_through_display_left() -> None:
    tasks = _label_studio_task(
        result=[{"from_name": "pick", "type": "pairwise", "value": {"selected": "left"}}]
    )
    tasks[0]["data"]["display_left"] = "b"
    table = judgments.label_studio_judgments(tasks)
    assert table.frame["value"].tolist() == ["b"]


def test_label_studio_error_without_completed_by() -> None:
    tasks = _label_studio_task(completed_by=None, result=[])
    with pytest.raises(JudgmentTableError) as caught:
        judgments.label_studio_judgments(tasks, source="export.json")
    assert str(caught.value) == (
        "export.json: task 1, annotation 5: no 'completed_by'; "
        "export with user details or fill it in"
    )


def test_label_studio_error_on_disagreeing_ground_truths() -> None:
    result = [{"from_name": "overall", "type": "choices", "value": {"choices": ["a"]}}]
    other = [{"from_name": "overall", "type": "choices", "value": {"choices": ["b"]}}]
    tasks = _label_studio_task(id=5, ground_truth=True, result=result)
    tasks[0]["annotations"].append(
        {"id": 6, "completed_by": 4, "ground_truth": True, "result": other}
    )
    with pytest.raises(JudgmentTableError) as caught:
        judgments.label_studio_judgments(tasks, source="export.json")
    assert str(caught.value) == (
        "export.json: task 1, annotation 6: two ground-truth annotations disagree on "
        "'overall' ('a' in annotation 5, 'b' here); keep one ground truth per item"
    )


# --------------------------------------------------------------------------------------------
# Argilla
# --------------------------------------------------------------------------------------------

USER_1 = "3f1c0a4e-0000-4000-8000-000000000001"
USER_2 = "3f1c0a4e-0000-4000-8000-000000000002"


def test_argilla_export() -> None:
    path = DATA / "argilla_export.json"
    table = load_judgments(path)
    assert table.format == "argilla"
    assert table.skipped == 2  # one draft, one discarded
    assert table.gold == 0
    assert table.warnings == ()
    frame = table.frame
    got = frame[["item_id", "annotator", "dimension", "value"]].to_dict(orient="records")
    assert got == [
        {"item_id": "rec-1", "annotator": USER_1, "dimension": "preference", "value": "a"},
        {"item_id": "rec-1", "annotator": USER_1, "dimension": "quality", "value": 4},
        {"item_id": "rec-1", "annotator": USER_1, "dimension": "ranking.response_a", "value": 2},
        {"item_id": "rec-1", "annotator": USER_1, "dimension": "ranking.response_b", "value": 1},
        {"item_id": "item-2", "annotator": USER_2, "dimension": "preference", "value": "a"},
    ]
    assert frame["category"].tolist() == ["math"] * 4 + [None]
    assert frame["display_left"].tolist() == ["a"] * 4 + [None]
    assert frame["batch"].tolist() == ["b-001"] * 4 + [None]
    assert frame["rubric_version"].tolist() == [None] * 4 + ["v1"]
    assert frame["length_a"].tolist() == [1.0] * 4 + [5.0]
    assert frame["length_b"].tolist() == [11.0] * 4 + [4.0]
    assert frame["submitted_at"].isna().all()


def test_argilla_sdk_export_without_status(tmp_path: Path) -> None:
    """Argilla 2.8's records.to_json writes {value, user_id} only, and rankings as lists."""
    records = [
        {
            "id": "r1",
            "fields": {"prompt": "p"},
            "metadata": {},
            "suggestions": {},
            "responses": {
                "label": [{"value": "good", "user_id": USER_1}],
                "rank": [{"value": ["x", "y"], "user_id": USER_1}],
                "span": [{"value": [{"start": 0, "end": 1, "label": "E"}], "user_id": USER_1}],
            },
            "vectors": {},
            "status": "completed",
            "_server_id": "s1",
        }
    ]
    path = tmp_path / "records.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    table = load_judgments(path)
    assert table.frame[["dimension", "value"]].to_dict(orient="records") == [
        {"dimension": "label", "value": "good"},
        {"dimension": "rank.x", "value": 1},
        {"dimension": "rank.y", "value": 2},
    ]
    assert table.skipped == 0
    assert table.warnings == (
        f"{path}: 3 response(s) carry no status (Argilla's records.to_json drops it); "
        "they were counted as submitted, so drafts may be among them",
        f"{path}: question 'rank' was answered with lists of options; read as rankings, "
        "best first (ranks 1, 2, …; ties are lost in this export)",
        f"{path}: left out 1 answer(s) that are not a label, rating or ranking: span (1)",
    )


def test_argilla_error_without_user_id() -> None:
    records = [{"id": "r9", "fields": {}, "responses": {"label": [{"value": "a"}]}}]
    with pytest.raises(JudgmentTableError) as caught:
        judgments.argilla_judgments(records, source="records.json")
    assert str(caught.value) == "records.json: record r9: a response to 'label' has no 'user_id'"
