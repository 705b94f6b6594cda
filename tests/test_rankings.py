"""Ranking judgments in the canonical table, their derived dimensions and the report
(connector/judgments/rankings.py; issue 11)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from connector.cli import app
from connector.judgments import normalise
from connector.judgments.rankings import (
    RankingError,
    format_ranking,
    parse_ranking,
    ranking_from_ranks,
    ranking_preferences,
    scoring_view,
)
from connector.report.build import ReportOptions, build_report, item_agreements
from connector.rubric import load_rubric

RUBRIC_PATH = Path(__file__).parent / "data" / "rubrics" / "ranking.yaml"
RUBRIC = load_rubric(RUBRIC_PATH, check_layout=False)
ORDER = RUBRIC.dimension("order")
NO_BOOTSTRAP = ReportOptions(resamples=0, min_shared_items=1)


def _table(rankings: dict[str, list[str]]) -> pd.DataFrame:
    """Rows from {annotator: ranking per item}."""
    return normalise(
        pd.DataFrame(
            [
                {"item_id": f"i{i}", "annotator": who, "dimension": "order", "value": value}
                for who, values in rankings.items()
                for i, value in enumerate(values)
            ]
        )
    )


def _random_rankings(seed: int, items: int = 25) -> dict[str, list[str]]:
    rng = np.random.default_rng(seed)
    table: dict[str, list[str]] = {"u0": [], "u1": [], "u2": []}
    for _ in range(items):
        base = list(rng.permutation(list("abcd")))
        for who in table:
            order = base[:]
            if rng.random() < 0.5:
                j = int(rng.integers(0, 3))
                order[j], order[j + 1] = order[j + 1], order[j]
            text = ">".join(order)
            if rng.random() < 0.15:  # a tie
                text = text.replace(">", "=", 1)
            table[who].append(text)
    return table


def test_a_ranking_is_the_ordering_of_the_options_best_first() -> None:
    assert parse_ranking("b>a=c>d", ORDER) == ((1,), (0, 2), (3,))
    assert parse_ranking(" b > c ", ORDER) == ((1,), (2,))  # incomplete: a, d not ranked
    assert parse_ranking(["c", "a", "b", "d"], ORDER) == ((2,), (0,), (1,), (3,))
    assert format_ranking(((1,), (2, 0), (3,)), ORDER) == "b>a=c>d"
    assert ranking_from_ranks({"a": 2, "b": 1, "c": 2, "d": 3}, ORDER) == "b>a=c>d"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("b>e>a", "ranking 'b>e>a' for 'order' has option 'e'; its options are ['a', 'b', 'c', "
         "'d'] (write e.g. 'a>b>c>d')"),
        ("b>>a", "ranking 'b>>a' for 'order' has an empty rank"),
        ("b>a=b", "ranking 'b>a=b' for 'order' ranks 'b' twice"),
        (3, "ranking 3 for 'order' is not an ordering such as 'a>b>c>d'"),
    ],
)  # fmt: skip
def test_a_bad_ranking_says_what_is_wrong(value: object, message: str) -> None:
    with pytest.raises(RankingError) as caught:
        parse_ranking(value, ORDER)
    assert str(caught.value).startswith(message)


def test_ranks_from_an_unknown_option_or_a_non_number_are_refused() -> None:
    with pytest.raises(RankingError, match="names option 'e'"):
        ranking_from_ranks({"e": 1}, ORDER)
    with pytest.raises(RankingError, match="gives 'a' the rank 'first', not a number"):
        ranking_from_ranks({"a": "first"}, ORDER)  # type: ignore[dict-item]


def test_the_scoring_view_derives_a_rank_per_option_and_the_implied_pairs() -> None:
    frame = _table({"u0": ["b>a=c>d", "a>b"], "u1": ["a>b>c>d", "b>a>c>d"]})
    view = scoring_view(frame, RUBRIC)
    names = [d.name for d in view.rubric.dimensions]
    assert names == ["order.a", "order.b", "order.c", "order.d", "order_pairs"]
    assert view.rubric.dimension("order.a").level == "ordinal"
    pairs = view.rubric.dimension("order_pairs")
    assert (pairs.kind, pairs.values, pairs.non_decisive) == (
        "preference", ("first", "second", "tie"), ("tie",)
    )  # fmt: skip
    rows = view.frame
    u0 = rows[(rows["annotator"] == "u0") & rows["item_id"].str.startswith("i0")]
    ranks = dict(zip(u0["dimension"], u0["value"], strict=True))
    assert {k: ranks[k] for k in ("order.a", "order.b", "order.c", "order.d")} == {
        "order.a": 2.5, "order.b": 1, "order.c": 2.5, "order.d": 4
    }  # fmt: skip
    implied = u0[u0["dimension"] == "order_pairs"]
    assert dict(zip(implied["item_id"], implied["value"], strict=True)) == {
        "i0 (a vs b)": "second", "i0 (a vs c)": "tie", "i0 (a vs d)": "first",
        "i0 (b vs c)": "first", "i0 (b vs d)": "first", "i0 (c vs d)": "first",
    }  # fmt: skip
    # the incomplete ranking a>b ranks two options and implies one pair
    short = rows[(rows["annotator"] == "u0") & rows["item_id"].str.startswith("i1")]
    assert sorted(short["dimension"]) == ["order.a", "order.b", "order_pairs"]
    assert sorted(view.source_rows.tolist()) == [0] * 10 + [1] * 3 + [2] * 10 + [3] * 10
    assert (
        view.frame["annotator"].to_numpy() == frame["annotator"].to_numpy()[view.source_rows]
    ).all()
    w = view.rankings["order"]["concordance"]
    assert (w.n_items, w.n_rankings, w.n_incomplete) == (1, 4, 1)


def test_a_table_without_rankings_is_left_as_it_is() -> None:
    frame = normalise(
        pd.DataFrame([{"item_id": "i", "annotator": "u", "dimension": "x", "value": "a"}])
    )
    view = scoring_view(frame, RUBRIC)
    assert view.frame is frame
    assert view.rubric is RUBRIC
    assert view.rankings == {}


@pytest.mark.parametrize("seed", range(5))
def test_report_rank_alpha_per_option_and_pair_alpha_match_the_krippendorff_package(
    seed: int,
) -> None:
    table = _random_rankings(seed)
    report = build_report(_table(table), RUBRIC, options=NO_BOOTSTRAP)
    view = scoring_view(_table(table), RUBRIC)
    frame = view.frame
    for option in "abcd":
        rows = frame[frame["dimension"] == f"order.{option}"]
        wide = rows.pivot(index="annotator", columns="item_id", values="value").astype(float)
        expected = krippendorff.alpha(
            reliability_data=wide.to_numpy(), level_of_measurement="ordinal"
        )
        section = report["dimensions"][f"order.{option}"]
        assert section["level"] == "ordinal"
        assert section["krippendorff_alpha"]["value"] == pytest.approx(expected)
    rows = frame[frame["dimension"] == "order_pairs"]
    coded = rows["value"].map({"first": 0.0, "second": 1.0, "tie": 2.0})
    wide = rows.assign(code=coded).pivot(index="annotator", columns="item_id", values="code")
    expected = krippendorff.alpha(reliability_data=wide.to_numpy(), level_of_measurement="nominal")
    pairs = report["dimensions"]["order_pairs"]
    assert pairs["krippendorff_alpha"]["value"] == pytest.approx(expected)
    assert pairs["n_items"] == 25 * 6  # 4 options: 6 pairs per item
    assert "percent_agreement_decisive" in pairs


def test_report_has_kendalls_w_over_the_items_complete_rankings() -> None:
    table = _random_rankings(7)
    report = build_report(_table(table), RUBRIC, options=NO_BOOTSTRAP)
    section = report["rankings"]["order"]
    assert section["options"] == ["a", "b", "c", "d"]
    assert section["pairs_dimension"] == "order_pairs"
    assert section["rank_dimensions"] == ["order.a", "order.b", "order.c", "order.d"]
    from connector.metrics.ranking import kendall_w, midranks

    per_item = [
        kendall_w(
            np.vstack([midranks(parse_ranking(table[u][i], ORDER), 4) for u in ("u0", "u1", "u2")])
        )
        for i in range(25)
    ]
    w = section["kendall_w"]
    assert (w["n_items"], w["n_rankings"], w["n_incomplete"], w["n_undefined"]) == (25, 75, 0, 0)
    assert w["mean"] == pytest.approx(np.mean(per_item))
    assert w["median"] == pytest.approx(np.median(per_item))


def test_a_bad_ranking_in_a_report_names_the_row_item_and_annotator() -> None:
    frame = _table({"u0": ["a>b>c>d", "a>x"], "u1": ["a>b>c>d", "a>b"]})
    with pytest.raises(RankingError) as caught:
        build_report(frame, RUBRIC, options=NO_BOOTSTRAP)
    assert str(caught.value).startswith(
        "row 2 (item 'i1', annotator 'u0'): ranking 'a>x' for 'order' has option 'x'"
    )


def test_gold_rankings_become_gold_ranks_and_gold_pairs() -> None:
    frame = _table({"u0": ["a>b>c>d"], "u1": ["b>a>c>d"]})
    frame["gold_value"] = "a>b>c>d"
    view = scoring_view(frame, RUBRIC)
    rows = view.frame[view.frame["annotator"] == "u1"]
    gold = dict(zip(rows["item_id"] + "/" + rows["dimension"], rows["gold_value"], strict=True))
    assert gold["i0/order.a"] == 1
    assert gold["i0 (a vs b)/order_pairs"] == "first"


def test_item_agreements_read_the_derived_dimensions() -> None:
    found = item_agreements(_table({"u0": ["a>b>c>d"], "u1": ["a>b>c>d"]}), RUBRIC)
    assert set(found) == {"order.a", "order.b", "order.c", "order.d", "order_pairs"}
    assert found["order_pairs"]["i0 (a vs b)"].agreement == 1.0


def test_ranking_preferences_give_chosen_and_rejected_and_leave_ties_out() -> None:
    prefs = ranking_preferences(_table({"u0": ["b>a=c>d"]}), RUBRIC)
    assert list(prefs.columns) == ["item_id", "annotator", "dimension", "chosen", "rejected"]
    pairs = set(zip(prefs["chosen"], prefs["rejected"], strict=True))
    assert pairs == {("b", "a"), ("a", "d"), ("b", "c"), ("b", "d"), ("c", "d")}  # a=c left out
    assert len(list(itertools.combinations("abcd", 2))) - 1 == len(prefs)


def test_the_offline_report_reads_a_ranking_table_from_a_file(tmp_path: Path) -> None:
    table = _random_rankings(3, items=6)
    path = tmp_path / "rankings.jsonl"
    path.write_text(
        "".join(
            json.dumps({"item_id": f"i{i}", "annotator": who, "dimension": "order", "value": v})
            + "\n"
            for who, values in table.items()
            for i, v in enumerate(values)
        )
    )
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        app,
        ["report", str(path), "--rubric", str(RUBRIC_PATH), "--json", str(out), "--resamples", "0"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["rankings"]["order"]["kendall_w"]["n_items"] == 6
    assert report["dimensions"]["order_pairs"]["n_items"] == 36


def test_every_renderer_shows_the_rankings_table() -> None:
    from io import StringIO

    from rich.console import Console

    from connector.report.build import jsonable
    from connector.report.console import print_summary
    from connector.report.html import render_html
    from connector.report.markdown import render_markdown

    report = jsonable(build_report(_table(_random_rankings(5)), RUBRIC, options=NO_BOOTSTRAP))
    mean = f"{report['rankings']['order']['kendall_w']['mean']:.3f}"
    markdown = render_markdown(report)
    assert "## Rankings" in markdown
    assert f"| order | a, b, c, d | {mean} |" in markdown
    assert "## Dimension: order\\_pairs" in markdown or "## Dimension: order_pairs" in markdown
    html = render_html(report)
    assert "<h3>Rankings</h3>" in html
    assert mean in html
    out = StringIO()
    print_summary(report, Console(file=out, width=200))
    assert "Rankings" in out.getvalue()
    assert mean in out.getvalue()


def test_kendalls_w_takes_each_annotators_earliest_ranking_as_the_report_does() -> None:
    # u0 ranked i0 twice: the later re-test (listed first in the table) is left out of W
    frame = normalise(
        pd.DataFrame(
            [
                {"item_id": "i0", "annotator": "u0", "dimension": "order", "value": "d>c>b>a",
                 "submitted_at": "2026-01-02T00:00:00Z"},
                {"item_id": "i0", "annotator": "u0", "dimension": "order", "value": "a>b>c>d",
                 "submitted_at": "2026-01-01T00:00:00Z"},
                {"item_id": "i0", "annotator": "u1", "dimension": "order", "value": "a>b>c>d",
                 "submitted_at": "2026-01-01T00:00:00Z"},
            ]
        )
    )  # fmt: skip
    w = scoring_view(frame, RUBRIC).rankings["order"]["concordance"]
    assert (w.n_items, w.n_rankings, w.mean) == (1, 2, 1.0)
    report = build_report(frame, RUBRIC, options=NO_BOOTSTRAP)
    assert report["dimensions"]["order.a"]["n_retests"] == 1


def test_the_offline_report_reads_rankings_from_an_argilla_export_file(tmp_path: Path) -> None:
    """An Argilla export writes a ranking as one row per option (``order.a`` = its rank); under
    a rubric with the ranking dimension, check_input reads them back as one ranking each."""
    users = ["u1", "u2", "u3"]
    answers = {"u1": "2134", "u2": "2124", "u3": "2134"}  # ranks of a, b, c, d
    records = [
        {
            "id": f"rec-{i}",
            "fields": {"prompt": "p"},
            "metadata": {},
            "responses": {
                "order": [
                    {
                        "value": [
                            {"value": o, "rank": int(r)}
                            for o, r in zip("abcd", answers[u], strict=True)
                        ],
                        "user_id": u,
                        "status": "submitted",
                    }
                    for u in users
                ]
            },
        }
        for i in range(4)
    ]
    path = tmp_path / "argilla.json"
    path.write_text(json.dumps(records))
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        app,
        ["report", str(path), "--rubric", str(RUBRIC_PATH), "--json", str(out), "--resamples", "0"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["warnings"] == [
        "48 per-option rank(s) of ranking 'order' (order.a, order.b, order.c, order.d) were "
        "read as 12 ranking(s) (options with equal ranks tied)"
    ]
    w = report["rankings"]["order"]["kendall_w"]
    assert (w["n_items"], w["n_rankings"], w["n_incomplete"]) == (4, 12, 0)
    assert report["dimensions"]["order_pairs"]["n_items"] == 4 * 6


def test_a_per_option_rank_that_is_not_a_number_names_the_row() -> None:
    from connector.judgments.rankings import assemble_rankings

    frame = normalise(
        pd.DataFrame(
            [
                {"item_id": "i", "annotator": "u", "dimension": "order.a", "value": 1},
                {"item_id": "i", "annotator": "u", "dimension": "order.b", "value": "first"},
            ]
        )
    )
    with pytest.raises(RankingError) as caught:
        assemble_rankings(frame, RUBRIC)
    assert str(caught.value) == (
        "row 2: 'order.b' holds 'first', not a rank (a number, 1 = best) of ranking 'order'"
    )
    assembled, warnings = assemble_rankings(frame.iloc[:1], RUBRIC)
    assert assembled["value"].tolist() == ["a"]
    assert warnings == [
        "1 per-option rank(s) of ranking 'order' (order.a) were read as 1 ranking(s) "
        "(options with equal ranks tied)"
    ]


def test_a_label_studio_export_with_ranker_results_is_reported_as_rankings(tmp_path: Path) -> None:
    """The Label Studio export reader writes a Ranker result as one row per response (its
    rank); under the ranking rubric they are read back as rankings, ground truth included."""
    from connector.judgments import load_judgments

    def annotation(ident: int, user: str, ids: list[str], **extra: object) -> dict[str, object]:
        return {
            "id": ident,
            "completed_by": {"id": ident, "email": user},
            "result": [
                {
                    "from_name": "order",
                    "to_name": "order_responses",
                    "type": "ranker",
                    "value": {"ranker": {"order": ids}},
                }
            ],
            "created_at": "2026-01-01T00:00:00Z",
            **extra,
        }

    tasks = [
        {
            "id": i,
            "data": {"item_id": f"t{i}"},
            "annotations": [
                annotation(10 * i + 1, "u1", ["b", "a", "c", "d"]),
                annotation(10 * i + 2, "u2", ["b", "c", "a", "d"]),
                annotation(10 * i + 3, "boss", ["b", "a", "c", "d"], ground_truth=True),
            ],
        }
        for i in range(3)
    ]
    path = tmp_path / "ls.json"
    path.write_text(json.dumps(tasks))
    table = load_judgments(path)
    assert table.warnings == ()
    first = table.frame.iloc[:4]
    assert list(zip(first["dimension"], first["value"], first["gold_value"], strict=True)) == [
        ("order.b", 1, 1), ("order.a", 2, 2), ("order.c", 3, 3), ("order.d", 4, 4)
    ]  # fmt: skip
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        app,
        ["report", str(path), "--rubric", str(RUBRIC_PATH), "--json", str(out), "--resamples", "0"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["rankings"]["order"]["kendall_w"]["mean"] == pytest.approx(0.9)
    pairs = report["dimensions"]["order_pairs"]
    assert pairs["percent_agreement"]["value"] == 15 / 18
    gold = {a["annotator"]: a["dimensions"]["order_pairs"]["gold"] for a in report["annotators"]}
    assert (gold["u1"]["n"], gold["u1"]["accuracy"]) == (18, 1.0)
    assert (gold["u2"]["n"], gold["u2"]["accuracy"]) == (18, 15 / 18)


def test_the_implied_pairs_carry_no_display_side_and_no_response_lengths() -> None:
    frame = _table({"u0": ["a>b>c>d"], "u1": ["b>a>c>d"]})
    frame["display_left"] = "a"
    frame["length_a"] = 10.0
    frame["length_b"] = 200.0
    report = build_report(frame, RUBRIC, options=NO_BOOTSTRAP)
    pairs = report["dimensions"]["order_pairs"]
    assert pairs["position_bias"] is None
    assert pairs["length_bias"] is None


def test_without_a_rubric_orderings_are_named_as_rankings_read_as_labels() -> None:
    from connector.report.checks import check_input

    frame = _table({"u0": ["b>a=c>d", "a>b>c>d"], "u1": ["a>b>c>d", "b>a>c>d"]})
    other = normalise(
        pd.DataFrame(
            [
                {"item_id": "i0", "annotator": "u0", "dimension": "tone", "value": "fine"},
                {"item_id": "i0", "annotator": "u1", "dimension": "tone", "value": "a>b"},
            ]
        )
    )
    checked = check_input(pd.concat([frame, other], ignore_index=True), None)
    assert checked.warnings == (
        "dimension 'order' holds orderings such as 'b>a=c>d': without a rubric they are scored "
        "as unordered labels; give --rubric with a ranking dimension (kind: ranking, values: "
        "the options) to score them as rankings",
    )  # 'tone' is not all orderings: no warning
