"""The consensus of a ranking dimension (connector.consensus.ordering and the consensus table's
scoring view): implied pairs' consensus per pair, the per-option rank rows, the mean-rank
ordering per item with ties as ties, and the CLI on a ranking file."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from connector.cli import app
from connector.consensus import consensus_table
from connector.consensus.adjudication import Adjudication
from connector.judgments.table import normalise
from connector.rubric import load_rubric

RANKING = Path(__file__).parent / "data" / "rubrics" / "ranking.yaml"
RUBRIC = load_rubric(RANKING, check_layout=False)
RANKINGS = {
    # a ranks 2, 3, 1 (mean 2); b 1, 1, 2 (4/3); c 3, 2, 3 (8/3); d 4: b>a>c>d
    "r-0": ["b>a>c>d", "b>c>a>d", "a>b>c>d"],
    # a 1.5, 2 (1.75); b 1.5, 1 (1.25); c 3, 4 and d 4, 3 (3.5 both): a tie of c and d
    "r-1": ["a=b>c>d", "b>a>d>c"],
}


def _frame(rankings: dict[str, list[str]]) -> pd.DataFrame:
    rows = [
        {"item_id": item, "annotator": f"n{k}", "dimension": "order", "value": value}
        for item, values in rankings.items()
        for k, value in enumerate(values)
    ]
    return normalise(pd.DataFrame(rows))


def test_the_ordering_is_by_mean_rank_with_ties_as_ties() -> None:
    table = consensus_table(_frame(RANKINGS), RUBRIC, methods=["majority"])
    ordering = table[table["dimension"] == "order"].set_index("item_id")
    assert set(ordering["method"]) == {"mean-rank"}
    assert ordering.loc["r-0", "label"] == "b>a>c>d"
    assert not ordering.loc["r-0", "tied"]
    assert ordering.loc["r-0", "soft_label"] == pytest.approx(
        {"a": 2.0, "b": 4 / 3, "c": 8 / 3, "d": 4.0}
    )
    assert ordering.loc["r-1", "label"] == "b>a>c=d"
    assert ordering.loc["r-1", "tied"]
    assert ordering.loc["r-1", "soft_label"] == pytest.approx(
        {"a": 1.75, "b": 1.25, "c": 3.5, "d": 3.5}
    )
    assert list(ordering["n_judgments"]) == [3, 2]
    assert ordering.loc["r-0", "votes"] == {"a": 3, "b": 3, "c": 3, "d": 3}
    assert ordering["confidence"].isna().all()


def test_each_implied_pair_gets_a_consensus_of_each_method() -> None:
    table = consensus_table(_frame(RANKINGS), RUBRIC)
    pairs = table[table["dimension"] == "order_pairs"]
    assert len(pairs) == 2 * 6 * 2  # methods × pairs per item × items
    majority = pairs[pairs["method"] == "majority"].set_index("item_id")
    # r-0, a vs b: a first once, second twice
    assert majority.loc["r-0 (a vs b)", "label"] == "second"
    assert majority.loc["r-0 (a vs b)", "votes"] == {"first": 1, "second": 2, "tie": 0}
    # r-1, c vs d: one each way: a tied vote, no label
    assert majority.loc["r-1 (c vs d)", "tied"]
    assert majority.loc["r-1 (c vs d)", "label"] is None
    # r-1, a vs b: a tie and a second: a tied vote between tie and second
    assert majority.loc["r-1 (a vs b)", "votes"] == {"first": 0, "second": 1, "tie": 1}
    ranks = table[(table["dimension"] == "order.a") & (table["method"] == "majority")]
    assert len(ranks) == 2


def test_a_ruling_on_an_implied_pair_wins() -> None:
    ruling = Adjudication(
        item_id="r-1 (c vs d)", dimension="order_pairs", value="second", where="rulings:1"
    )
    table = consensus_table(_frame(RANKINGS), RUBRIC, methods=["majority"], adjudications=[ruling])
    row = table[table["item_id"] == "r-1 (c vs d)"].iloc[0]
    assert (row["label"], row["adjudicated"]) == ("second", True)


def test_the_ordering_agrees_with_a_borda_count_on_random_complete_rankings() -> None:
    """Cross-check against an independent Borda count (score k - position, summed) done here
    with plain Python: on complete rankings without ties the mean-rank ordering is Borda's."""
    rng = np.random.default_rng(11)
    options = list("abcd")
    rankings: dict[str, list[str]] = {}
    for i in range(40):
        rankings[f"i{i}"] = [
            ">".join(rng.permutation(options)) for _ in range(int(rng.integers(2, 6)))
        ]
    table = consensus_table(_frame(rankings), RUBRIC, methods=["majority"])
    ordering = table[table["dimension"] == "order"].set_index("item_id")["label"]
    for item, values in rankings.items():
        borda = dict.fromkeys(options, 0)
        for value in values:
            for position, option in enumerate(value.split(">")):
                borda[option] += len(options) - position
        tiers = [
            "=".join(sorted(o for o, _ in group))
            for _, group in itertools.groupby(
                sorted(borda.items(), key=lambda kv: -kv[1]), key=lambda kv: kv[1]
            )
        ]
        got = ordering[item].split(">")
        assert [("=".join(sorted(t.split("=")))) for t in got] == tiers, item


def test_the_cli_writes_ranking_consensus_rows_from_a_file(tmp_path: Path) -> None:
    source = tmp_path / "rankings.jsonl"
    frame = _frame(RANKINGS)
    source.write_text(
        "".join(
            json.dumps({k: r[k] for k in ("item_id", "annotator", "dimension", "value")}) + "\n"
            for r in frame.to_dict("records")
        )
    )
    out = tmp_path / "consensus.jsonl"
    result = CliRunner().invoke(
        app,
        [
            "consensus",
            str(source),
            "--rubric",
            str(RANKING),
            "--out",
            str(out),
            "--method",
            "majority",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    # per item: 4 option ranks, 6 pairs (majority) and the ordering
    assert len(rows) == 2 * (4 + 6 + 1)
    assert {r["label"] for r in rows if r["dimension"] == "order"} == {"b>a>c>d", "b>a>c=d"}


def test_only_gives_the_rows_of_the_dimensions_named() -> None:
    full = consensus_table(_frame(RANKINGS), RUBRIC, methods=["majority"])
    pairs = consensus_table(_frame(RANKINGS), RUBRIC, methods=["majority"], only={"order_pairs"})
    assert set(pairs["dimension"]) == {"order_pairs"}
    expected = full[full["dimension"] == "order_pairs"].reset_index(drop=True)
    pd.testing.assert_frame_equal(pairs.reset_index(drop=True), expected)
    ordering = consensus_table(_frame(RANKINGS), RUBRIC, methods=["majority"], only={"order"})
    assert list(ordering["label"]) == ["b>a>c>d", "b>a>c=d"]
