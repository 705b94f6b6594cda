"""Tables as people have them (issue 10): other column names, composite items, wide and one-hot
tables, sniffed delimiters, --drop-empty, tables with a header and no rows, and the two published
tables in ../shared/data read with flags only."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from public_datasets import shared_data_dir
from typer.testing import CliRunner

from connector.cli import app
from connector.errors import JudgmentTableError
from connector.judgments import TableLayout, load_judgments

runner = CliRunner()


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path, layout: TableLayout | None = None) -> str:
    with pytest.raises(JudgmentTableError) as caught:
        load_judgments(path, layout=layout)
    return str(caught.value)


def _triples(frame: pd.DataFrame) -> list[tuple[object, ...]]:
    return list(frame[["item_id", "annotator", "dimension", "value"]].itertuples(index=False))


# --------------------------------------------------------------------------------------------
# Long tables with other names
# --------------------------------------------------------------------------------------------


def test_named_columns_composite_item_and_fixed_dimension(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "t.csv",
        "article,system,worker,label\n1,bart,w1,yes\n1,bart,w2,no\n1,t5,w1,yes\n",
    )
    layout = TableLayout(
        item=("article", "system"), annotator="worker", value="label", fixed_dimension="factual"
    )
    table = load_judgments(path, layout=layout)
    assert _triples(table.frame) == [
        ("1|bart", "w1", "factual", "yes"),
        ("1|bart", "w2", "factual", "no"),
        ("1|t5", "w1", "factual", "yes"),
    ]
    assert table.warnings == ()


def test_dimension_column_and_numbers_per_dimension(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "id,who,q,answer\n1,a,overall,b\n1,a,help,4\n1,b,help,5\n")
    layout = TableLayout(item=("id",), annotator="who", value="answer", dimension="q")
    frame = load_judgments(path, layout=layout).frame
    assert frame["value"].tolist() == ["b", 4, 5]
    assert frame["dimension"].tolist() == ["overall", "help", "help"]


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        (
            TableLayout(item=("nope",)),
            "t.csv: --item-col names column(s) 'nope' that the table does not have; its columns "
            "are 'item_id', 'annotator', 'dimension', 'value', 'grade'",
        ),
        (
            TableLayout(value="grade"),
            "t.csv: --value-col 'grade' names the value column, but the table has a column "
            "'value' too; rename or drop one of them",
        ),
        (
            TableLayout(fixed_dimension="x"),
            "t.csv: --dimension 'x' gives every row one dimension, but the table has a "
            "'dimension' column; drop one of them",
        ),
        (
            TableLayout(fixed_dimension="x", dimension="dimension"),
            "t.csv: give --dimension NAME (one dimension for every row) or --dimension-col "
            "COLUMN, not both",
        ),
    ],
)
def test_column_options_that_cannot_apply_name_the_column(
    tmp_path: Path, layout: TableLayout, message: str
) -> None:
    path = _write(tmp_path / "t.csv", "item_id,annotator,dimension,value,grade\n1,a,o,x,1\n")
    assert _error(path, layout) == f"{tmp_path}/{message}"


def test_composite_key_that_would_merge_two_items_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "a,b,who,v\nx|y,z,p,1\nx,y|z,p,2\n")
    assert _error(path, TableLayout(item=("a", "b"), annotator="who", value="v")) == (
        f"{path}: the columns 'a', 'b' joined by '|' give one key to different items (a value "
        "holds '|'); make an item_id column instead"
    )


def test_column_options_force_a_table_of_judgments_over_platform_detection(
    tmp_path: Path,
) -> None:
    # a worker_id column alone reads as Surge AI results; naming the columns says otherwise
    path = _write(tmp_path / "t.csv", "item,worker_id,answer\n1,w1,a\n1,w2,b\n")
    layout = TableLayout(item=("item",), annotator="worker_id", value="answer", fixed_dimension="d")
    assert load_judgments(path, layout=layout).format == "canonical"
    with pytest.raises(JudgmentTableError, match="apply to tables of judgments; this file "):
        load_judgments(path, format="surge", layout=layout)


# --------------------------------------------------------------------------------------------
# Delimiters and file types
# --------------------------------------------------------------------------------------------

ROWS = [("1", "a", "o", "x"), ("1", "b", "o", "y"), ("2", "a", "o", "x")]


@pytest.mark.parametrize(
    ("name", "sep"),
    [("t.csv", ";"), ("t.csv", "\t"), ("t.csv", "|"), ("t.tsv", "\t"), ("t.csv", ",")],
)
def test_delimiters_are_sniffed(tmp_path: Path, name: str, sep: str) -> None:
    lines = [sep.join(("item_id", "annotator", "dimension", "value"))]
    lines += [sep.join(row) for row in ROWS]
    path = _write(tmp_path / name, "\n".join(lines) + "\n")
    assert _triples(load_judgments(path).frame) == ROWS


def test_sniffed_semicolon_file_keeps_commas_inside_values(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "t.csv",
        "item_id;annotator;dimension;value;comment\n1;a;o;x;yes, clearly\n1;b;o;y;no, not\n",
    )
    frame = load_judgments(path).frame
    assert frame["comment"].tolist() == ["yes, clearly", "no, not"]


def test_same_table_from_jsonl_json_array_and_parquet(tmp_path: Path) -> None:
    records = [{"idx": 1, "ann1": "a", "ann2": "b"}, {"idx": 2, "ann1": "a", "ann2": None}]
    jsonl = _write(tmp_path / "w.jsonl", "".join(json.dumps(r) + "\n" for r in records))
    array = _write(tmp_path / "w.json", json.dumps(records))
    parquet = tmp_path / "w.parquet"
    pd.DataFrame.from_records(records).to_parquet(parquet)
    expected = [(1, "ann1", "label", "a"), (1, "ann2", "label", "b"), (2, "ann1", "label", "a")]
    for path in (jsonl, array, parquet):
        frame = load_judgments(path, layout=TableLayout(wide=True)).frame
        assert [(int(str(i)), a, d, v) for i, a, d, v in _triples(frame)] == expected, path


# --------------------------------------------------------------------------------------------
# Wide tables
# --------------------------------------------------------------------------------------------

WIDE = "idx,annotator1,annotator2,annotator3\n1,a,a,b\n2,b,,b\n3,tie,a,a\n"


def test_wide_table_by_detection_says_how_it_was_read(tmp_path: Path) -> None:
    path = _write(tmp_path / "w.csv", WIDE)
    table = load_judgments(path)
    assert _triples(table.frame) == [
        ("1", "annotator1", "label", "a"),
        ("1", "annotator2", "label", "a"),
        ("1", "annotator3", "label", "b"),
        ("2", "annotator1", "label", "b"),
        ("2", "annotator3", "label", "b"),
        ("3", "annotator1", "label", "tie"),
        ("3", "annotator2", "label", "a"),
        ("3", "annotator3", "label", "a"),
    ]
    source = str(path)
    assert table.warnings == (
        f"{source}: no annotator and no value column: read as a wide table (one row per item, "
        "one column per annotator); name the columns with --annotator-col and --value-col if it "
        "is a long one",
        f"{source}: wide table: column 'idx' read as the item (--item-col)",
        f"{source}: wide table: annotator columns 'annotator1', 'annotator2', 'annotator3'",
        f"{source}: wide table: 1 empty cell(s) read as items the annotator did not judge",
        f"{source}: wide table: dimension named 'label' (--dimension NAME)",
    )


def test_wide_table_with_flags_keeps_category_and_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path / "w.csv", "prompt,category,r1,r2\np1,code,4,5\np2,math,3,3\n")
    layout = TableLayout(item=("prompt",), wide=True, fixed_dimension="helpfulness")
    frame = load_judgments(path, layout=layout).frame
    assert frame["value"].tolist() == [4, 5, 3, 3]
    assert frame["category"].tolist() == ["code", "code", "math", "math"]
    assert frame["dimension"].unique().tolist() == ["helpfulness"]


def test_wide_table_error_names_the_line_of_the_cell(tmp_path: Path) -> None:
    path = _write(tmp_path / "w.csv", "idx,r1,r2\n1,a,b\n,a,b\n")
    assert _error(path, TableLayout(wide=True)) == (
        f"{path}:3: column 'item_id' is empty; fill it in or drop those rows"
    )


def test_long_table_missing_annotator_is_not_taken_for_wide(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "item_id,dimension,value\n1,o,a\n")
    assert "missing required column(s) 'annotator'" in _error(path)


def test_report_reads_a_wide_table_from_the_command_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "w.csv", WIDE)
    out = tmp_path / "r.json"
    result = runner.invoke(
        app, ["report", str(path), "--wide", "--resamples", "0", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["summary"] == {
        "n_items": 3,
        "n_judgments": 8,
        "n_annotators": 3,
        "n_dimensions": 1,
        "n_exact_duplicates_dropped": 0,
        "n_normalised_labels": 0,
    }


# --------------------------------------------------------------------------------------------
# One-hot tables
# --------------------------------------------------------------------------------------------

ONE_HOT = (
    "item,who,sev.1,sev.0,sev.-1,other.x,other.y\n1,a,1,0,0,1,0\n1,b,0,0,1,0,1\n2,a,0,1,0,0,1\n"
)


def test_one_hot_groups_become_dimensions(tmp_path: Path) -> None:
    path = _write(tmp_path / "h.csv", ONE_HOT)
    layout = TableLayout(item=("item",), annotator="who", one_hot=("sev", "other"))
    frame = load_judgments(path, layout=layout).frame
    assert _triples(frame) == [
        ("1", "a", "sev", 1),
        ("1", "b", "sev", -1),
        ("2", "a", "sev", 0),
        ("1", "a", "other", "x"),
        ("1", "b", "other", "y"),
        ("2", "a", "other", "y"),
    ]


def test_one_hot_row_with_no_column_set_is_an_error_or_dropped(tmp_path: Path) -> None:
    path = _write(tmp_path / "h.csv", "item,who,sev.1,sev.0\n1,a,1,0\n1,b,0,0\n2,a,0,0\n")
    layout = TableLayout(item=("item",), annotator="who", one_hot=("sev",))
    assert _error(path, layout) == (
        f"{path}:3: column 'sev.*' (no column set) is empty (also lines 4); fill it in, drop "
        "those rows, or pass --drop-empty to drop and count such rows"
    )
    dropping = TableLayout(item=("item",), annotator="who", one_hot=("sev",), drop_empty=True)
    table = load_judgments(path, layout=dropping)
    assert _triples(table.frame) == [("1", "a", "sev", 1)]
    assert table.warnings[0] == (
        f"{path}: --drop-empty dropped 2 row(s) with an empty value in column 'sev.*' (no "
        "column set), first at line 3"
    )


def test_one_hot_row_with_several_columns_set_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "h.csv", "item,who,sev.1,sev.0\n1,a,1,0\n1,b,1,1\n")
    layout = TableLayout(item=("item",), annotator="who", one_hot=("sev",), drop_empty=True)
    assert _error(path, layout) == (
        f"{path}:3: --one-hot 'sev': several columns are set (sev.1, sev.0); a one-hot group "
        "has exactly one"
    )


def test_one_hot_cell_that_is_not_zero_or_one_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "h.csv", "item,who,sev.1,sev.0\n1,a,1,0\n1,b,2,0\n")
    layout = TableLayout(item=("item",), annotator="who", one_hot=("sev",))
    assert _error(path, layout) == (
        f"{path}:3: column 'sev.1' is '2'; a one-hot column holds 1 or 0 (true/false, yes/no)"
    )


def test_one_hot_prefix_without_columns(tmp_path: Path) -> None:
    path = _write(tmp_path / "h.csv", ONE_HOT)
    layout = TableLayout(item=("item",), annotator="who", one_hot=("abuse",))
    assert _error(path, layout).startswith(
        f"{path}: --one-hot 'abuse': no column is named 'abuse.<value>'; the columns are 'item',"
    )


# --------------------------------------------------------------------------------------------
# Empty values and empty tables
# --------------------------------------------------------------------------------------------


def test_drop_empty_drops_counts_and_keeps_lines(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "t.csv",
        "item_id,annotator,dimension,value,submitted_at\n"
        "1,a,o,x,2024-01-01\n1,b,o,,2024-01-01\n2,a,o, ,2024-01-01\n2,b,o,y,yesterday\n",
    )
    # without --drop-empty: the first empty value, with every other line
    assert _error(path) == (
        f"{path}:3: column 'value' is empty (also lines 4); fill it in, drop those rows, or pass "
        "--drop-empty to drop and count such rows"
    )
    # with it: dropped and counted, and a later error still names the file's own line
    assert _error(path, TableLayout(drop_empty=True)) == (
        f"{path}:5: column 'submitted_at' is not a timestamp: 'yesterday'; write ISO 8601, "
        "e.g. 2024-05-01T12:00:00Z"
    )


def test_drop_empty_of_every_row_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "item_id,annotator,dimension,value\n1,a,o,\n")
    assert _error(path, TableLayout(drop_empty=True)) == (
        f"{path}: no judgments left: {path}: --drop-empty dropped 1 row(s) with an empty value in "
        "column 'value', first at line 2"
    )


def test_missing_value_marker_is_named_and_can_be_read_as_empty(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "t.csv", "item_id,annotator,dimension,value\n1,a,o,yes\n1,b,o,NULL\n2,a,o,no\n"
    )
    table = load_judgments(path)
    assert table.warnings == (
        f"{path}: value 'NULL' (1 judgment(s), first at line 3) reads like a missing-value "
        "marker and is scored as a category; pass --na NULL to read it as empty (with "
        "--drop-empty to drop those rows)",
    )
    read = load_judgments(path, layout=TableLayout(empty_markers=("NULL",), drop_empty=True))
    assert read.frame["value"].tolist() == ["yes", "no"]


@pytest.mark.parametrize("rubric", [None, "rubrics/mt-bench/v1.yaml"])
def test_header_without_rows_is_an_error_with_a_non_zero_exit(
    tmp_path: Path, rubric: str | None
) -> None:
    path = _write(tmp_path / "t.csv", "item_id,annotator,dimension,value\n")
    args = ["report", str(path), *(["--rubric", rubric] if rubric else [])]
    result = runner.invoke(app, args, env={"COLUMNS": "300"})
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: {path}: no judgments (the table has a header and no rows); export the "
        "judgments again or check the file"
    )


def test_item_col_option_is_checked(tmp_path: Path) -> None:
    path = _write(tmp_path / "w.csv", WIDE)
    result = runner.invoke(app, ["report", str(path), "--item-col", "a,,b"])
    assert result.exit_code == 2
    assert "--item-col 'a,,b': write COLUMN or COLUMN,COLUMN,..." in result.output


# --------------------------------------------------------------------------------------------
# The two published tables, read with flags only
# --------------------------------------------------------------------------------------------


def _shared(relative: str) -> Path:
    path = shared_data_dir() / relative
    if not path.is_file():  # CI has ../shared beside the clone: a missing file fails, never skips
        pytest.fail(
            f"{path} is missing: put shared/data beside the checkout or set IAA_SHARED_DATA"
        )
    return path


def _alpha_by_krippendorff(judgments: dict[tuple[object, str], object]) -> float:
    """The `krippendorff` package's nominal alpha over (item, annotator) -> value."""
    import krippendorff

    items = sorted({i for i, _ in judgments}, key=str)
    annotators = sorted({a for _, a in judgments})
    values = sorted({str(v) for v in judgments.values()})
    matrix = np.full((len(annotators), len(items)), np.nan)
    row = {a: k for k, a in enumerate(annotators)}
    column = {i: k for k, i in enumerate(items)}
    for (item, annotator), value in judgments.items():
        matrix[row[annotator], column[item]] = values.index(str(value))
    return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal"))


def test_convabuse_one_hot_with_eight_annotators_and_retests(tmp_path: Path) -> None:
    # Cercas Curry, Abercrombie & Rieser (2021), ConvAbuse, EMNLP; CC BY 4.0. One row per
    # annotation; the item is the conversation snippet (conv_id and its four turns: 4,185
    # snippets, as the dataset's README counts them); is_abuse is one-hot over 1 ... -3.
    path = _shared("convabuse/ConvAbuseEMNLPfull.csv")
    out = tmp_path / "r.json"
    result = runner.invoke(
        app,
        [
            "report", str(path), "--item-col", "conv_id,prev_agent,prev_user,agent,user",
            "--annotator-col", "annotator_id", "--one-hot", "is_abuse", "--resamples", "0",
            "--json", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    section = json.loads(out.read_text())["dimensions"]["is_abuse"]
    assert section["n_items"] == 4185
    assert section["n_annotators"] == 8
    assert section["categories"] == [-3, -2, -1, 0, 1]
    # 12,768 annotations; an annotator's repeat of a snippet is a re-test, not a second rater
    # (the first in file order counts for agreement: the table has no submission times)
    first: dict[tuple[object, str], object] = {}
    repeats = 0
    with path.open(encoding="utf-8", newline="") as stream:
        for record in csv.DictReader(stream):
            item = tuple(record[c] for c in ("conv_id", "prev_agent", "prev_user", "agent", "user"))
            hot = [v for v in ("1", "0", "-1", "-2", "-3") if record[f"is_abuse.{v}"] == "1"]
            assert len(hot) == 1
            key = (item, record["annotator_id"])
            repeats += key in first
            first.setdefault(key, int(hot[0]))
    assert repeats == 357
    assert section["n_judgments"] == len(first) == 12768 - 357
    assert section["krippendorff_alpha"]["value"] == pytest.approx(
        _alpha_by_krippendorff(first), abs=1e-12
    )


def test_xsum_factuality_composite_item_and_blank_values(tmp_path: Path) -> None:
    # Maynez, Narayan, Bohnet & McDonald (2020), On Faithfulness and Factuality in Abstractive
    # Summarization, ACL; CC BY 4.0. 5,597 rows, item = (bbcid, system), is_factual yes/no with
    # 33 blanks (written NULL in the file).
    path = _shared("xsum-factuality/factuality_annotations_xsum_summaries.csv")
    out = tmp_path / "r.json"
    args = [
        "report", str(path), "--item-col", "bbcid,system", "--annotator-col", "worker_id",
        "--value-col", "is_factual", "--dimension", "is_factual", "--resamples", "0",
        "--json", str(out),
    ]  # fmt: skip
    unread = runner.invoke(app, args, env={"COLUMNS": "400"})
    assert unread.exit_code == 0  # NULL is a value until told otherwise, and the report says so
    assert "value 'NULL' (33 judgment(s), first at line 411) reads like a missing-value" in (
        unread.output
    )
    result = runner.invoke(app, [*args, "--na", "NULL", "--drop-empty"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert "--drop-empty dropped 33 row(s) with an empty value in column 'is_factual'" in (
        result.output
    )
    report = json.loads(out.read_text())
    section = report["dimensions"]["is_factual"]
    assert section["categories"] == ["no", "yes"]
    judgments: dict[tuple[object, str], object] = {}
    with path.open(encoding="utf-8", newline="") as stream:
        for record in csv.DictReader(stream):
            if record["is_factual"] != "NULL":
                judgments[(record["bbcid"], record["system"]), record["worker_id"]] = record[
                    "is_factual"
                ]
    assert section["n_judgments"] == len(judgments) == 5597 - 33
    assert section["n_items"] == len({item for item, _ in judgments})
    assert section["krippendorff_alpha"]["value"] == pytest.approx(
        _alpha_by_krippendorff(judgments), abs=1e-12
    )


# --------------------------------------------------------------------------------------------
# Text read at once keeps the per-row rules
# --------------------------------------------------------------------------------------------


def test_numbers_and_times_from_text_follow_the_per_row_rules(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "t.csv",
        "item_id,annotator,dimension,value,lead_time_s,submitted_at\n"
        "1,a,o,x, 3 ,2024-01-01T10:00:00+02:00\n"
        "1,b,o,y,,  \n"
        "2,a,o,x,1e3,2024-01-02 12:00\n",
    )
    frame = load_judgments(path).frame
    assert frame["lead_time_s"].tolist()[0] == 3.0
    assert np.isnan(frame["lead_time_s"].tolist()[1])
    assert frame["lead_time_s"].tolist()[2] == 1000.0
    stamps = frame["submitted_at"].tolist()
    assert stamps[0] == pd.Timestamp("2024-01-01T08:00:00Z")
    assert stamps[1] is pd.NaT
    assert stamps[2] == pd.Timestamp("2024-01-02T12:00:00Z")  # naive: UTC


@pytest.mark.parametrize("bad", ["inf", "nan", "fast"])
def test_a_number_that_is_not_finite_is_an_error(tmp_path: Path, bad: str) -> None:
    path = _write(
        tmp_path / "t.csv",
        f"item_id,annotator,dimension,value,lead_time_s\n1,a,o,x,2\n1,b,o,y,{bad}\n",
    )
    assert _error(path) == f"{path}:3: column 'lead_time_s' is not a number: '{bad}'"


def test_values_become_numbers_only_where_the_whole_dimension_reads_as_numbers(
    tmp_path: Path,
) -> None:
    path = _write(
        tmp_path / "t.csv",
        "item_id,annotator,dimension,value,gold_value\n"
        "1,a,help,4,5\n1,b,help,05,\n1,a,overall,1,b\n1,b,overall,b,\n",
    )
    frame = load_judgments(path).frame
    assert frame["value"].tolist() == [4, 5, "1", "b"]
    assert frame["gold_value"].tolist() == [5, None, "b", None]


# --------------------------------------------------------------------------------------------
# Files pandas' pyarrow parser refuses are read or refused as before
# --------------------------------------------------------------------------------------------


def test_a_row_with_too_many_fields_names_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "item_id,annotator,dimension,value\n1,a,o,x\n1,b,o,y,z\n")
    assert _error(path) == (
        f"{path}: not a valid CSV file: Error tokenizing data. C error: Expected 4 fields in "
        "line 3, saw 5"
    )


def test_byte_order_mark_empty_file_and_other_encodings(tmp_path: Path) -> None:
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfitem_id,annotator,dimension,value\n1,a,o,x\n1,b,o,y\n")
    assert load_judgments(bom).frame.columns[0] == "item_id"
    empty = _write(tmp_path / "e.csv", "")
    assert _error(empty) == f"{empty}: no judgments (the file is empty)"
    latin = tmp_path / "l.csv"
    latin.write_bytes(b"item_id,annotator,dimension,value\n1,a,o,caf\xe9\n")
    assert _error(latin).startswith(f"{latin}: not a valid CSV file: 'utf-8' codec can't decode")
