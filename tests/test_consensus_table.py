"""Majority vote, rulings and the consensus table (connector.consensus): ties reported as ties,
the report's coding rule, rulings winning over votes, clear errors, and the three file formats."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from connector.consensus import CONSENSUS_COLUMNS, consensus_table, majority_vote
from connector.consensus.adjudication import Adjudication, load_adjudications, rubric_value
from connector.consensus.dawid_skene import dawid_skene
from connector.consensus.output import write_consensus
from connector.errors import JudgmentTableError, OptionError
from connector.judgments import COLUMNS
from connector.rubric import Dimension, Rubric

RUBRIC = Rubric(
    id="t",
    version="1",
    changelog="test",
    guidelines="",
    dimensions=(
        Dimension(
            name="overall",
            question="Which is better?",
            kind="preference",
            values=("a", "b", "tie"),
            level="nominal",
            non_decisive=("tie",),
        ),
        Dimension(
            name="helpfulness",
            question="How helpful?",
            kind="rating",
            values=(1, 2, 3, 4, 5),
            level="ordinal",
        ),
    ),
)


def judgments(rows: list[tuple[str, str, str, object]]) -> pd.DataFrame:
    """Canonical judgments from (item, annotator, dimension, value) rows."""
    frame = pd.DataFrame(rows, columns=["item_id", "annotator", "dimension", "value"])
    for column in COLUMNS:
        if column not in frame:
            frame[column] = None
    frame["submitted_at"] = pd.NaT
    for column in ("lead_time_s", "length_a", "length_b"):
        frame[column] = np.nan
    return frame[list(COLUMNS)]


FRAME = judgments(
    [
        ("i1", "x", "overall", "a"),
        ("i1", "y", "overall", "a"),
        ("i1", "z", "overall", "tie"),
        ("i2", "x", "overall", "a"),
        ("i2", "y", "overall", "b"),
        ("i3", "x", "overall", "tie"),
        ("i3", "y", "overall", "tie"),
        ("i1", "x", "helpfulness", 4),
        ("i1", "y", "helpfulness", 4),
        ("i1", "z", "helpfulness", 5),
    ]
)


def row(table: pd.DataFrame, item: str, dimension: str, method: str) -> pd.Series:
    found = table[
        (table["item_id"] == item) & (table["dimension"] == dimension) & (table["method"] == method)
    ]
    assert len(found) == 1
    return found.iloc[0]


# --- majority vote ----------------------------------------------------------------------------


def test_majority_vote_reports_ties_and_never_breaks_them() -> None:
    vote = majority_vote([[2, 2, 1], [0, 3, 1], [1, 1, 1], [0, 0, 0]])
    assert vote.label.tolist() == [-1, 1, -1, -1]
    assert vote.tie.tolist() == [True, False, True, False]
    np.testing.assert_allclose(vote.confidence[:3], [0.4, 0.75, 1 / 3])
    assert np.isnan(vote.confidence[3])
    np.testing.assert_allclose(vote.shares[1], [0, 0.75, 0.25])


def test_majority_vote_refuses_bad_counts() -> None:
    with pytest.raises(ValueError, match=r"counts must be \(n_items, q\), got shape \(3,\)"):
        majority_vote([1, 2, 3])
    with pytest.raises(ValueError, match="counts must not be negative"):
        majority_vote([[1, -1]])


# --- the table ----------------------------------------------------------------------------------


def test_table_has_one_row_per_judged_item_dimension_and_method() -> None:
    table = consensus_table(FRAME, RUBRIC)
    assert list(table.columns) == list(CONSENSUS_COLUMNS)
    assert len(table) == 2 * (3 + 1)
    first = row(table, "i1", "overall", "majority")
    assert first["label"] == "a"
    assert first["confidence"] == pytest.approx(2 / 3)
    assert first["votes"] == {"a": 2, "b": 0, "tie": 1}
    assert first["soft_label"] == pytest.approx({"a": 2 / 3, "b": 0.0, "tie": 1 / 3})
    assert first["n_judgments"] == 3
    assert not first["tied"]
    assert not first["adjudicated"]
    rating = row(table, "i1", "helpfulness", "majority")
    assert rating["label"] == 4
    assert rating["votes"] == {"1": 0, "2": 0, "3": 0, "4": 2, "5": 1}


def test_a_split_vote_is_a_tie_with_no_label_and_tie_is_an_ordinary_value() -> None:
    table = consensus_table(FRAME, RUBRIC, methods=["majority"])
    split = row(table, "i2", "overall", "majority")
    assert split["tied"]
    assert split["label"] is None
    assert split["method_label"] is None
    assert np.isnan(split["confidence"])
    assert split["soft_label"] == pytest.approx({"a": 0.5, "b": 0.5, "tie": 0.0})
    # both annotators chose the value "tie": a decided label, not a tied vote
    both_tie = row(table, "i3", "overall", "majority")
    assert both_tie["label"] == "tie"
    assert not both_tie["tied"]
    assert both_tie["confidence"] == 1.0


def test_dawid_skene_rows_are_the_kernels_posteriors() -> None:
    table = consensus_table(FRAME, RUBRIC, methods=["dawid-skene"])
    overall = FRAME[FRAME["dimension"] == "overall"]
    item = pd.factorize(FRAME["item_id"])[0][overall.index]
    annotator = pd.factorize(FRAME["annotator"])[0][overall.index]
    value = overall["value"].map({"a": 0, "b": 1, "tie": 2}).to_numpy()
    fit = dawid_skene(item, annotator, value, n_items=3, n_annotators=3, q=3)
    for i, name in enumerate(["i1", "i2", "i3"]):
        got = row(table, name, "overall", "dawid-skene")
        assert list(got["soft_label"].values()) == pytest.approx(fit.posterior[i].tolist())
        if fit.tie[i]:
            assert got["tied"]
            assert got["label"] is None
        else:
            assert got["label"] == ["a", "b", "tie"][fit.label[i]]
            assert got["confidence"] == pytest.approx(fit.confidence[i])


def test_retests_are_left_out_as_in_the_report() -> None:
    retest = judgments(
        [
            ("i1", "x", "overall", "a"),
            ("i1", "y", "overall", "b"),
            ("i1", "y", "overall", "a"),  # y's second judgment of i1: a re-test
        ]
    )
    retest["submitted_at"] = pd.to_datetime(["2026-01-01", "2026-01-01", "2026-01-02"], utc=True)
    got = row(consensus_table(retest, RUBRIC, methods=["majority"]), "i1", "overall", "majority")
    assert got["n_judgments"] == 2
    assert got["tied"]


def test_a_value_outside_the_rubric_names_row_item_and_annotator() -> None:
    bad = judgments([("i1", "x", "overall", "maybe")])
    with pytest.raises(JudgmentTableError, match="row 1 \\(item 'i1', annotator 'x'\\)"):
        consensus_table(bad, RUBRIC)


def test_a_method_named_twice_gives_one_row_per_item() -> None:
    table = consensus_table(FRAME, RUBRIC, methods=["majority", "majority"])
    assert len(table) == 4
    assert set(table["method"]) == {"majority"}


def test_an_unknown_method_lists_the_valid_ones() -> None:
    with pytest.raises(OptionError, match="method='vote' is not one of 'majority', 'dawid-skene'"):
        consensus_table(FRAME, RUBRIC, methods=["vote"])


# --- rulings --------------------------------------------------------------------------------------


def test_a_ruling_wins_over_both_methods_and_keeps_the_votes() -> None:
    rulings = [
        Adjudication(item_id="i2", dimension="overall", value="b", where="r.csv:2"),
        Adjudication(item_id="i9", dimension="helpfulness", value="3", where="r.csv:3"),
    ]
    table = consensus_table(FRAME, RUBRIC, adjudications=rulings)
    for method in ("majority", "dawid-skene"):
        ruled = row(table, "i2", "overall", method)
        assert ruled["label"] == "b"
        assert ruled["adjudicated"]
        assert np.isnan(ruled["confidence"])
        assert ruled["votes"] == {"a": 1, "b": 1, "tie": 0}
        # an item ruled on but never judged gets a row of its own, value as the rubric has it
        unjudged = row(table, "i9", "helpfulness", method)
        assert unjudged["label"] == 3
        assert unjudged["n_judgments"] == 0
        assert unjudged["adjudicated"]
        assert unjudged["method_label"] is None
    assert row(table, "i2", "overall", "majority")["method_label"] is None  # the vote was tied
    assert not row(table, "i1", "overall", "majority")["adjudicated"]


def test_two_different_rulings_are_an_error_naming_both() -> None:
    rulings = [
        Adjudication(item_id="i1", dimension="overall", value="a", where="r.csv:2"),
        Adjudication(item_id="i1", dimension="overall", value="b", where="store"),
    ]
    with pytest.raises(
        JudgmentTableError,
        match=r"item 'i1' dimension 'overall' has two different rulings: 'a' \(r\.csv:2\) "
        r"and 'b' \(store\)",
    ):
        consensus_table(FRAME, RUBRIC, adjudications=rulings)


@pytest.mark.parametrize(
    ("ruling", "message"),
    [
        (
            Adjudication(item_id="i1", dimension="overall", value="c", where="r.csv:4"),
            "r.csv:4: item 'i1': adjudicated value 'c' is not one of dimension 'overall'",
        ),
        (
            Adjudication(item_id="i1", dimension="style", value="a", where="r.csv:5"),
            "r.csv:5: dimension 'style' is not in rubric 't' version '1'",
        ),
    ],
)
def test_a_bad_ruling_names_where_it_was_read(ruling: Adjudication, message: str) -> None:
    with pytest.raises(JudgmentTableError, match=message.replace(".", r"\.").replace("(", r"\(")):
        consensus_table(FRAME, RUBRIC, adjudications=[ruling])


def test_rubric_value_matches_text_and_numbers() -> None:
    assert rubric_value("4", (1, 2, 3, 4, 5)) == 4
    assert rubric_value(4.0, (1, 2, 3, 4, 5)) == 4
    assert rubric_value("tie", ("a", "b", "tie")) == "tie"
    assert rubric_value("6", (1, 2, 3, 4, 5)) is None
    assert rubric_value("x", (1, 2)) is None


def test_adjudication_files_csv_and_jsonl(tmp_path: Path) -> None:
    csv = tmp_path / "r.csv"
    csv.write_text("item_id,dimension,value,reviewer\ni2,overall,b,kim\ni1,helpfulness,5,kim\n")
    jsonl = tmp_path / "r.jsonl"
    jsonl.write_text('{"item_id": "i2", "dimension": "overall", "value": "b"}\n\n')
    assert [(r.item_id, r.value, r.where) for r in load_adjudications(csv)] == [
        ("i2", "b", f"{csv}:2"),
        ("i1", "5", f"{csv}:3"),
    ]
    assert [r.where for r in load_adjudications(jsonl)] == [f"{jsonl}:1"]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "r.csv",
            "item_id,value\ni1,a\n",
            "r.csv:1: adjudication file lacks column(s) ['dimension']",
        ),
        ("r.csv", "item_id,dimension,value\ni1,overall,\n", "r.csv:2: empty or missing ['value']"),
        ("r.jsonl", '{"item_id": "i1"\n', "r.jsonl:1: not a JSON object"),
        ("r.jsonl", "[1, 2]\n", "r.jsonl:1: not a JSON object"),
        ("r.txt", "x", "an adjudication file must be .csv, .jsonl or .ndjson, not .txt"),
    ],
)
def test_bad_adjudication_files_name_file_and_line(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(JudgmentTableError) as caught:
        load_adjudications(path)
    assert message in str(caught.value)


# --- output ---------------------------------------------------------------------------------------


def test_the_three_formats_hold_the_same_table(tmp_path: Path) -> None:
    table = consensus_table(FRAME, RUBRIC)
    assert write_consensus(table, tmp_path / "c.csv") == "csv"
    assert write_consensus(table, tmp_path / "c.jsonl") == "jsonl"
    assert write_consensus(table, tmp_path / "c.parquet") == "parquet"
    lines = [json.loads(x) for x in (tmp_path / "c.jsonl").read_text().splitlines()]
    csv = pd.read_csv(tmp_path / "c.csv", keep_default_na=False)
    parquet = pd.read_parquet(tmp_path / "c.parquet")
    assert len(lines) == len(csv) == len(parquet) == len(table)
    for k, (_, expected) in enumerate(table.iterrows()):
        assert lines[k]["votes"] == expected["votes"]
        assert json.loads(csv["votes"][k]) == expected["votes"]
        assert json.loads(parquet["votes"][k]) == expected["votes"]
        shown = None if expected["label"] is None else str(expected["label"])
        assert (None if lines[k]["label"] is None else str(lines[k]["label"])) == shown
        assert (csv["label"][k] or None) == shown
        stored = parquet["label"][k]  # text: the table mixes a/b/tie with 1–5
        assert (None if pd.isna(stored) else stored) == shown
    # JSON Lines keeps types: a rating label is a number, an undefined confidence is null
    rating = next(x for x in lines if x["dimension"] == "helpfulness")
    assert rating["label"] == 4
    split = next(x for x in lines if x["item_id"] == "i2" and x["method"] == "majority")
    assert split["confidence"] is None
    assert split["tied"] is True


def test_an_unknown_extension_lists_the_formats(tmp_path: Path) -> None:
    with pytest.raises(JudgmentTableError, match=r"ending in \.csv, \.jsonl, \.ndjson, \.parquet"):
        write_consensus(consensus_table(FRAME, RUBRIC), tmp_path / "c.xlsx")


def test_all_is_complete_and_sorted() -> None:
    import connector.consensus as package

    public = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not isinstance(value, type(package))
    }
    order = sorted(package.__all__, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    assert package.__all__ == order
    assert set(package.__all__) == public


def test_the_judgments_counted_are_the_reports() -> None:
    """One coding rule: each item's vote count is the report's per-item judgment count."""
    import public_datasets as datasets

    from connector.report.build import item_agreements
    from connector.rubric import load_rubric

    frame = datasets.mt_bench(
        Path(__file__).resolve().parent
        / "data"
        / "public"
        / "mt-bench"
        / "human_judgments_turn1.jsonl"
    )
    rubric = load_rubric("rubrics/mt-bench/v1.yaml", check_layout=False)
    table = consensus_table(frame, rubric, methods=["majority"])
    report = item_agreements(frame, rubric)
    counted = {(r.dimension, r.item_id): r.n_judgments for r in table.itertuples()}
    expected = {
        (dimension, item): entry.n_judgments
        for dimension, items in report.items()
        for item, entry in items.items()
    }
    assert len(counted) > 100
    assert counted == expected


SIGNED = Rubric(
    id="s",
    version="1",
    changelog="test",
    guidelines="",
    dimensions=(
        Dimension(
            name="preference",
            question="-3 response_a much better … 3 response_b much better",
            kind="preference",
            values=(-3, -2, -1, 0, 1, 2, 3),
            level="interval",
            non_decisive=(0,),
            signed=True,
        ),
    ),
)


@pytest.mark.parametrize("method", ["majority", "dawid-skene"])
def test_a_signed_scale_decides_the_side_first_then_the_median_strength(method: str) -> None:
    votes = {
        "two_sides": [-3, -2, 3],  # response_a by 2 of 3 (not a three-way tie of values)
        "even": [-3, -1, 0, -2, 3],  # response_a by 3; median of -3, -1, -2 is -2
        "nearer_zero": [2, 3],  # an even number on the side: the one nearer 0
        "neither": [0, 0, 1],
        "split": [-1, 1],  # one vote per side: a tie, no label
    }
    frame = judgments(
        [(item, f"r{n}", "preference", v) for item, vs in votes.items() for n, v in enumerate(vs)]
    )
    table = consensus_table(frame, SIGNED, methods=[method]).set_index("item_id")
    labels = table["label"].to_dict()
    if method == "majority":
        assert labels == {
            "two_sides": -2,
            "even": -2,
            "nearer_zero": 2,
            "neither": 0,
            "split": None,
        }
        assert table.loc["two_sides", "confidence"] == pytest.approx(2 / 3)
        assert table.loc["two_sides", "soft_label"] == pytest.approx(
            {"a": 2 / 3, "0": 0.0, "b": 1 / 3}
        )
        assert bool(table.loc["split", "tied"])
    else:  # Dawid–Skene decides the side on the same sign-coded votes
        assert {k: labels[k] for k in ("two_sides", "even", "nearer_zero")} == {
            "two_sides": -2, "even": -2, "nearer_zero": 2
        }  # fmt: skip
        assert set(table.loc["even", "soft_label"]) == {"a", "0", "b"}
    # votes still count every value of the scale
    assert table.loc["two_sides", "votes"] == {
        "-3": 1, "-2": 1, "-1": 0, "0": 0, "1": 0, "2": 0, "3": 1
    }  # fmt: skip
    assert SIGNED.dimensions[0].strength_of(labels["two_sides"]) == 2.0
