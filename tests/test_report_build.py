"""The report dict: per-dimension coefficients, decisive-only agreement, slices, per-annotator
figures (checked against values computed by hand), bias, re-tests and errors."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from connector.errors import JudgmentTableError
from connector.judgments import normalise
from connector.metrics import agreement, cohen_kappa, krippendorff_alpha
from connector.metrics.stats import binomial_test, wilson_interval
from connector.report.build import ReportOptions, build_report, jsonable
from connector.report.markdown import render_markdown
from connector.rubric import Dimension, Rubric

PREFERENCE = Dimension(
    name="overall",
    question="Which is better?",
    kind="preference",
    values=("a", "b", "tie"),
    level="nominal",
    non_decisive=("tie",),
)
RATING = Dimension(
    name="helpfulness",
    question="How helpful?",
    kind="rating",
    values=(1, 2, 3, 4, 5),
    level="ordinal",
)
RUBRIC = Rubric(
    id="test", version="1", changelog="", guidelines="", dimensions=(PREFERENCE, RATING)
)
NO_BOOTSTRAP = ReportOptions(resamples=0, min_shared_items=1)


def frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    return normalise(pd.DataFrame(rows))


def votes(table: dict[str, list[str | None]], **extra: list[object]) -> pd.DataFrame:
    """Rows from {annotator: values per item}; None = not judged."""
    rows = []
    for annotator, values in table.items():
        for i, value in enumerate(values):
            if value is not None:
                row: dict[str, object] = {
                    "item_id": f"i{i}",
                    "annotator": annotator,
                    "dimension": "overall",
                    "value": value,
                }
                for column, per_item in extra.items():
                    row[column] = per_item[i]
                rows.append(row)
    return frame(rows)


TABLE = {
    "ann": ["a", "a", "b", "tie", "a", "b"],
    "bob": ["a", "b", "b", "a", "a", None],
    "cy": ["a", "a", "tie", "a", None, "b"],
}


def test_dimension_coefficients_match_the_public_functions() -> None:
    report = build_report(votes(TABLE), RUBRIC, options=NO_BOOTSTRAP)
    section = report["dimensions"]["overall"]
    units = list(zip(*TABLE.values(), strict=True))
    assert section["krippendorff_alpha"]["value"] == pytest.approx(krippendorff_alpha(units))
    assert section["n_items"] == 6
    assert section["n_judgments"] == 16
    assert section["n_annotators"] == 3
    assert section["krippendorff_alpha"]["ci95"] is None  # resamples=0


def test_percent_agreement_with_and_without_ties_by_brute_force() -> None:
    report = build_report(votes(TABLE), RUBRIC, options=NO_BOOTSTRAP)
    section = report["dimensions"]["overall"]
    agree = pairs = agree_decisive = pairs_decisive = 0
    for item in zip(*TABLE.values(), strict=True):
        values = [v for v in item if v is not None]
        for x, y in itertools.combinations(values, 2):
            pairs += 1
            agree += x == y
            if "tie" not in (x, y):
                pairs_decisive += 1
                agree_decisive += x == y
    assert section["percent_agreement"] == {"value": pytest.approx(agree / pairs), "n_pairs": pairs}
    assert section["percent_agreement_decisive"] == {
        "value": pytest.approx(agree_decisive / pairs_decisive),
        "n_pairs": pairs_decisive,
    }


def test_annotator_pairs_and_peer_agreement_by_hand() -> None:
    report = build_report(votes(TABLE), RUBRIC, options=NO_BOOTSTRAP)
    pairs = {(p["a"], p["b"]): p for p in report["annotator_pairs"]["overall"]}
    # ann and bob share items 0..4: agree on 0, 2, 4 → 3/5.
    ann_bob = pairs[("ann", "bob")]
    assert ann_bob["shared_items"] == 5
    assert ann_bob["percent_agreement"] == pytest.approx(3 / 5)
    expected_kappa = cohen_kappa([["a", "a"], ["a", "b"], ["b", "b"], ["tie", "a"], ["a", "a"]])
    assert ann_bob["cohen_kappa"] == pytest.approx(expected_kappa)
    ann = next(a for a in report["annotators"] if a["annotator"] == "ann")["dimensions"]["overall"]
    # ann's pairs: with bob 5 (3 agree), with cy 5 items (0,1,2,3,5): agree on 0, 1, 5 → 3.
    assert ann["peers"]["n_pairs"] == 10
    assert ann["peers"]["percent_agreement"] == pytest.approx(6 / 10)
    assert ann["non_decisive_rate"] == pytest.approx(1 / 6)


def test_leave_one_out_majority_by_hand() -> None:
    report = build_report(votes(TABLE), RUBRIC, options=NO_BOOTSTRAP)
    ann = next(a for a in report["annotators"] if a["annotator"] == "ann")["dimensions"]["overall"]
    # Others' majority per item: 0 a (agree), 1 tie b/a (skip), 2 tie b/tie (skip), 3 a (ann tie:
    # disagree), 4 only bob a (agree), 5 only cy b (agree) → 3 of 4.
    assert ann["leave_one_out"]["n_items"] == 4
    assert ann["leave_one_out"]["agreement"] == pytest.approx(3 / 4)


def test_gold_accuracy_with_wilson_interval_and_kappa() -> None:
    gold = ["a", "b", "b", "a", "a", "b"]
    report = build_report(votes(TABLE, gold_value=gold), RUBRIC, options=NO_BOOTSTRAP)
    by_name = {a["annotator"]: a["dimensions"]["overall"]["gold"] for a in report["annotators"]}
    # ann: a a b tie a b vs a b b a a b → correct on 0, 2, 4, 5 = 4 of 6.
    assert by_name["ann"]["n"] == 6
    assert by_name["ann"]["accuracy"] == pytest.approx(4 / 6)
    assert by_name["ann"]["ci95"] == pytest.approx(list(wilson_interval(4, 6)))
    pairs = list(zip(TABLE["ann"], gold, strict=True))
    assert by_name["ann"]["cohen_kappa"] == pytest.approx(
        cohen_kappa(pairs, categories=["a", "b", "tie"])
    )
    assert by_name["bob"]["accuracy"] == pytest.approx(5 / 5)  # a b b a a · vs a b b a a
    assert by_name["cy"]["accuracy"] == pytest.approx(3 / 5)  # a a tie a · b: items 0, 3, 5


def test_position_bias_uses_the_display_side() -> None:
    # Every decisive vote picks whatever was shown on the left.
    left = ["a", "b", "b", "a", "a", "b"]
    report = build_report(votes(TABLE, display_left=left), RUBRIC, options=NO_BOOTSTRAP)
    bias = report["dimensions"]["overall"]["position_bias"]
    decisive = sum(v in ("a", "b") for col in TABLE.values() for v in col if v)
    chose_left = sum(
        v == left[i] for col in TABLE.values() for i, v in enumerate(col) if v in ("a", "b")
    )
    assert bias["n"] == decisive
    assert bias["left_share"] == pytest.approx(chose_left / decisive)
    assert bias["p_value"] == pytest.approx(binomial_test(chose_left, decisive))


def test_length_bias_against_the_pool() -> None:
    length_a = [100.0, 10.0, 10.0, 50.0, 90.0, 20.0]
    length_b = [10.0, 100.0, 90.0, 40.0, 10.0, 20.0]  # item 5: equal lengths → not counted
    report = build_report(
        votes(TABLE, length_a=length_a, length_b=length_b), RUBRIC, options=NO_BOOTSTRAP
    )
    bias = report["dimensions"]["overall"]["length_bias"]
    chose_longer = n = 0
    for col in TABLE.values():
        for i, v in enumerate(col):
            if v in ("a", "b") and length_a[i] != length_b[i]:
                n += 1
                chose_longer += (v == "a") == (length_a[i] > length_b[i])
    assert bias == {
        "n": n,
        "longer_share": pytest.approx(chose_longer / n),
        "p_value": pytest.approx(binomial_test(chose_longer, n)),
    }
    ann = next(a for a in report["annotators"] if a["annotator"] == "ann")["dimensions"]["overall"]
    assert ann["length_bias"]["pool_share"] == pytest.approx(chose_longer / n)


def test_retest_counts_for_consistency_not_for_agreement() -> None:
    rows = votes(TABLE)
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    rows["submitted_at"] = pd.Timestamp(t0)
    repeat = rows[rows["annotator"] == "ann"].iloc[:3].copy()
    repeat["value"] = ["a", "b", "tie"]  # first judgments were a, a, b → 1 of 3 agree
    repeat["submitted_at"] = pd.Timestamp(t0) + pd.Timedelta(days=3)
    both = normalise(pd.concat([repeat, rows], ignore_index=True))  # repeats listed first
    report = build_report(both, RUBRIC, options=NO_BOOTSTRAP)
    plain = build_report(rows, RUBRIC, options=NO_BOOTSTRAP)
    section = report["dimensions"]["overall"]
    assert section["krippendorff_alpha"] == plain["dimensions"]["overall"]["krippendorff_alpha"]
    assert section["n_retests"] == 3
    assert section["intra_annotator"]["n_pairs"] == 3
    assert section["intra_annotator"]["percent_agreement"] == pytest.approx(1 / 3)
    ann = next(a for a in report["annotators"] if a["annotator"] == "ann")["dimensions"]["overall"]
    assert ann["intra"]["n_pairs"] == 3


def test_slices_by_category_equal_alpha_of_the_subset() -> None:
    categories = ["x", "x", "x", "y", "y", "y"]
    report = build_report(votes(TABLE, category=categories), RUBRIC, options=NO_BOOTSTRAP)
    slices = {s["key"]: s for s in report["dimensions"]["overall"]["by_category"]}
    units = list(zip(*TABLE.values(), strict=True))
    assert slices["x"]["krippendorff_alpha"]["value"] == pytest.approx(
        krippendorff_alpha(units[:3])
    )
    assert slices["y"]["n_items"] == 3
    assert report["dimensions"]["overall"]["by_batch"] == []


def test_time_windows_are_iso_weeks() -> None:
    rows = votes(TABLE)
    rows["submitted_at"] = [
        pd.Timestamp("2025-01-06", tz="UTC") if i % 2 else pd.Timestamp("2025-01-13", tz="UTC")
        for i in range(len(rows))
    ]
    report = build_report(normalise(rows), RUBRIC, options=NO_BOOTSTRAP)
    keys = [s["key"] for s in report["dimensions"]["overall"]["by_window"]]
    assert keys == ["2025-W02", "2025-W03"]


def test_confusion_matrix_counts_pairs() -> None:
    report = build_report(votes(TABLE), RUBRIC, options=NO_BOOTSTRAP)
    confusion = report["dimensions"]["overall"]["confusion"]
    matrix = np.array(confusion["matrix"])
    assert np.triu(matrix).sum() == report["dimensions"]["overall"]["percent_agreement"]["n_pairs"]
    top = confusion["top_pairs"][0]
    assert (top["a"], top["b"]) == ("a", "b")


def test_rating_dimension_uses_linear_weights_and_ordinal_alpha() -> None:
    rows = frame(
        [
            {"item_id": f"i{i}", "annotator": ann, "dimension": "helpfulness", "value": v}
            for i, pair in enumerate([(1, 2), (4, 4), (5, 4), (2, 2), (3, 1)])
            for ann, v in zip(("p", "q"), pair, strict=True)
        ]
    )
    section = build_report(rows, RUBRIC, options=NO_BOOTSTRAP)["dimensions"]["helpfulness"]
    assert section["weights"] == "linear"
    assert "percent_agreement_decisive" not in section
    units = [(1, 2), (4, 4), (5, 4), (2, 2), (3, 1)]
    assert section["krippendorff_alpha"]["value"] == pytest.approx(
        krippendorff_alpha(units, level="ordinal", categories=[1, 2, 3, 4, 5])
    )


def test_bootstrap_intervals_bracket_the_estimate() -> None:
    rng = np.random.default_rng(0)
    table = {
        f"r{k}": list(rng.choice(["a", "b", "tie"], size=60, p=[0.5, 0.4, 0.1])) for k in range(4)
    }
    section = build_report(votes(table), RUBRIC)["dimensions"]["overall"]
    for name in ("krippendorff_alpha", "fleiss_kappa", "gwet_ac1"):
        lo, hi = section[name]["ci95"]
        assert lo <= section[name]["value"] <= hi


def _random_votes(seed: int, items: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return votes(
        {
            f"r{k}": list(rng.choice(["a", "b", "tie"], size=items, p=[0.5, 0.4, 0.1]))
            for k in range(4)
        }
    )


def test_report_names_its_interval_method() -> None:
    judgments = _random_votes(1)
    bca = build_report(judgments, RUBRIC)
    percentile = build_report(
        judgments, RUBRIC, options=ReportOptions(interval_method="percentile")
    )
    assert bca["options"]["ci_method"] == "bca"
    assert percentile["options"]["ci_method"] == "percentile"
    for name in ("krippendorff_alpha", "fleiss_kappa", "gwet_ac1", "krippendorff_alpha_decisive"):
        bca_entry = bca["dimensions"]["overall"][name]
        percentile_entry = percentile["dimensions"]["overall"][name]
        # every interval is of the report's method: no per-estimate ci_method
        assert "ci_method" not in bca_entry
        assert "ci_method" not in percentile_entry
        assert bca_entry["value"] == percentile_entry["value"]
        assert bca_entry["ci95"] != pytest.approx(percentile_entry["ci95"], abs=1e-9)
    assert "95% BCa bootstrap intervals" in render_markdown(bca)
    assert "95% percentile bootstrap intervals" in render_markdown(percentile)


def test_an_interval_that_fell_back_to_percentile_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fault injected: BCa undefined everywhere. Each estimate keeps its percentile interval
    and names it (``ci_method``), since ``options.ci_method`` says BCa."""
    judgments = _random_votes(2)
    percentile = build_report(
        judgments, RUBRIC, options=ReportOptions(interval_method="percentile")
    )
    monkeypatch.setattr(agreement, "bca_interval", lambda *a, **k: (math.nan, math.nan))
    fallen = build_report(judgments, RUBRIC)
    assert fallen["options"]["ci_method"] == "bca"
    entry = fallen["dimensions"]["overall"]["krippendorff_alpha"]
    assert entry["ci_method"] == "percentile"
    assert entry["ci95"] == percentile["dimensions"]["overall"]["krippendorff_alpha"]["ci95"]


def test_unknown_dimension_is_named() -> None:
    rows = frame([{"item_id": "i", "annotator": "x", "dimension": "tone", "value": "a"}])
    with pytest.raises(JudgmentTableError) as err:
        build_report(rows, RUBRIC)
    assert str(err.value) == (
        "dimension(s) ['tone'] are not in rubric 'test' version '1', whose dimensions are "
        "['overall', 'helpfulness']"
    )


def test_value_outside_the_rubric_is_named_with_its_row() -> None:
    rows = frame(
        [
            {"item_id": "i1", "annotator": "x", "dimension": "overall", "value": "a"},
            {"item_id": "i2", "annotator": "y", "dimension": "overall", "value": "both_bad"},
        ]
    )
    with pytest.raises(JudgmentTableError) as err:
        build_report(rows, RUBRIC)
    assert str(err.value) == (
        "row 2 (item 'i2', annotator 'y'): dimension 'overall' has value 'both_bad', which is not "
        "one of ['a', 'b', 'tie'] (1 such judgment(s))"
    )


def test_report_is_json_clean() -> None:
    report = jsonable(build_report(votes(TABLE), RUBRIC))
    import json

    text = json.dumps(report, allow_nan=False)
    assert '"schema": "iaa-connector/report@1"' in text


def _ratings(values: tuple[int, ...], codes: list[list[int]]) -> pd.DataFrame:
    rows = [
        {
            "item_id": f"i{i}",
            "annotator": f"r{r}",
            "dimension": "helpfulness",
            "value": values[code],
        }
        for i, row in enumerate(codes)
        for r, code in enumerate(row)
    ]
    return frame(rows)


def test_ordinal_weights_are_over_ranks_and_the_report_says_so() -> None:
    # Declaring 1, 2, 3, 4, 6 gives the same weighted kappa and AC2 as 1, 2, 3, 4, 5.
    codes = [[0, 0, 1], [1, 2, 1], [3, 4, 4], [4, 4, 3], [2, 2, 0], [0, 1, 1], [3, 3, 4]]
    gapped = (1, 2, 3, 4, 6)
    rubric = Rubric(
        id="gap",
        version="1",
        changelog="",
        guidelines="",
        dimensions=(
            Dimension(
                name="helpfulness",
                question="How helpful?",
                kind="rating",
                values=gapped,
                level="ordinal",
            ),
        ),
    )
    plain = build_report(_ratings(RATING.values, codes), RUBRIC, options=NO_BOOTSTRAP)
    gap = build_report(_ratings(gapped, codes), rubric, options=NO_BOOTSTRAP)
    for key in ("fleiss_kappa", "gwet_ac1", "krippendorff_alpha"):
        assert gap["dimensions"]["helpfulness"][key]["value"] == pytest.approx(
            plain["dimensions"]["helpfulness"][key]["value"], abs=1e-12
        ), key
    section = gap["dimensions"]["helpfulness"]
    assert (section["weights"], section["weight_distances"]) == ("linear", "ranks")


def test_position_bias_is_not_measurable_when_a_is_always_on_the_left() -> None:
    report = build_report(votes(TABLE, display_left=["a"] * 6), RUBRIC, options=NO_BOOTSTRAP)
    bias = report["dimensions"]["overall"]["position_bias"]
    decisive = sum(v in ("a", "b") for col in TABLE.values() for v in col if v)
    assert bias["measurable"] is False
    assert (bias["n"], bias["left_share"], bias["p_value"]) == (decisive, None, None)
    assert bias["reason"].startswith(f"response a was on the left in all {decisive} judgments")
    for entry in report["annotators"]:
        mine = entry["dimensions"]["overall"]["position_bias"]
        assert mine["measurable"] is False
        assert mine["p_value"] is None
        assert "randomised display sides" in mine["reason"]


def test_position_bias_per_annotator_needs_both_sides_for_that_annotator() -> None:
    # Sides vary over items, but cy judged items 0, 1, 3, 5 decisively... all with a on the left
    # except item 2 (tie, not decisive): cy's own sides never vary.
    left = ["a", "a", "b", "a", "b", "a"]
    report = build_report(votes(TABLE, display_left=left), RUBRIC, options=NO_BOOTSTRAP)
    assert report["dimensions"]["overall"]["position_bias"]["measurable"] is True
    by_name = {
        entry["annotator"]: entry["dimensions"]["overall"]["position_bias"]
        for entry in report["annotators"]
    }
    assert by_name["cy"]["measurable"] is False
    assert by_name["cy"]["p_value"] is None
    assert by_name["ann"]["measurable"] is True
    assert by_name["ann"]["p_value"] is not None


def test_iso_weeks_equal_python_isocalendar_across_year_ends_and_zones() -> None:
    from connector.report.build import iso_weeks

    days = pd.date_range("1969-12-20", "1970-01-10", freq="D").append(
        pd.date_range("2019-12-25", "2027-01-08", freq="37h")
    )
    for zone in ("UTC", "Asia/Kolkata", "America/Los_Angeles"):
        stamps = pd.DatetimeIndex([*days.tz_localize("UTC").tz_convert(zone).tolist(), pd.NaT])
        found = iso_weeks(stamps)
        expected = [
            f"{s.isocalendar()[0]}-W{s.isocalendar()[1]:02d}" if s is not pd.NaT else None
            for s in stamps
        ]
        assert found.tolist() == expected
    # Week 53 and week 1 across year ends (Python's datetime.date.isocalendar, ISO 8601).
    edges = pd.DatetimeIndex(["2020-12-31", "2021-01-03", "2019-12-30", "2024-12-30"])
    assert iso_weeks(edges).tolist() == ["2020-W53", "2020-W53", "2020-W01", "2025-W01"]


def test_slice_figures_equal_the_summary_of_the_slice_over_all_items() -> None:
    from connector.metrics.agreement import summarise_agreement
    from connector.metrics.table import code_values, value_counts

    # Slices are summarised over their own items only; the figures (bootstrap included) must
    # equal those of the slice's judgments counted over every item of the table.
    rng = np.random.default_rng(7)
    table = {
        f"r{r}": list(rng.choice(["a", "b", "tie"], size=60, p=[0.5, 0.3, 0.2])) for r in range(4)
    }
    categories = ["x", "y", "x", "z"] * 15
    options = ReportOptions(resamples=200, seed=3, min_shared_items=1)
    frame = votes(table, category=categories)
    report = build_report(frame, RUBRIC, options=options)
    items, item_ids = pd.factorize(frame["item_id"])
    codes, _ = code_values(frame["value"].to_numpy(dtype=object), list(PREFERENCE.values))
    for entry in report["dimensions"]["overall"]["by_category"]:
        chosen = (frame["category"] == entry["key"]).to_numpy()
        counts = value_counts(items[chosen], codes[chosen], n_units=len(item_ids), q=3)
        summary = summarise_agreement(
            counts,
            categories=list(PREFERENCE.values),
            level="nominal",
            weights=np.eye(3),
            resamples=200,
            seed=3,
        )
        assert entry["n_items"] == summary.n_items
        assert entry["krippendorff_alpha"]["value"] == summary.krippendorff_alpha.value
        assert entry["n_pairable_items"] >= 10  # enough for an interval
        assert entry["krippendorff_alpha"]["ci95"] == list(summary.krippendorff_alpha.ci95)
