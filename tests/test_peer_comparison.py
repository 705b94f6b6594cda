"""Issue 10: an annotator's peer agreement is compared like with like, with the agreement among
the other annotators on the same items (or, with one other judge, the same category), and the
flag shows its interval (connector/metrics/annotator.py peer_comparison, report/sections.py
peer_shortfall)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from connector.judgments import normalise
from connector.metrics.annotator import peer_comparison
from connector.metrics.judgments import CodedJudgments
from connector.report import (
    PEER_MARGIN,
    PEER_MIN_PAIRS,
    annotator_table,
    flag_rules,
    flagged_annotators,
)
from connector.report.build import ReportOptions, build_report
from connector.rubric import Dimension, Rubric

VERDICT = Dimension(
    name="factual", question="Is it factual?", kind="choice", values=("yes", "no"), level="nominal"
)
RUBRIC = Rubric(id="fact", version="1", changelog="", guidelines="", dimensions=(VERDICT,))


def _brute_force(
    item: list[int], annotator: list[int], value: list[int], category: list[int]
) -> dict[int, tuple[float, float, int]]:
    """Per annotator: (agreement, reference, pairs) by explicit loops over items and pairs."""
    by_item: dict[int, list[tuple[int, int]]] = {}
    for i, a, v in zip(item, annotator, value, strict=True):
        by_item.setdefault(i, []).append((a, v))
    found: dict[int, tuple[float, float, int]] = {}
    for me in sorted(set(annotator)):
        agree = pairs = expected = 0.0
        for i, judged in by_item.items():
            mine = [v for a, v in judged if a == me]
            rest = [v for a, v in judged if a != me]
            if not mine or not rest:
                continue
            own_pairs = len(rest)
            own_agree = sum(v == mine[0] for v in rest)
            if len(rest) >= 2:
                combos = list(itertools.combinations(rest, 2))
                reference = sum(x == y for x, y in combos) / len(combos)
            else:  # one other judge: pairs without me in items of this category
                agree_c = pairs_c = 0
                for k, others in by_item.items():
                    if category[k] != category[i]:
                        continue
                    without = [v for a, v in others if a != me]
                    combos = list(itertools.combinations(without, 2))
                    agree_c += sum(x == y for x, y in combos)
                    pairs_c += len(combos)
                if pairs_c == 0:
                    continue
                reference = agree_c / pairs_c
            agree += own_agree
            pairs += own_pairs
            expected += own_pairs * reference
        if pairs:
            found[me] = (agree / pairs, expected / pairs, int(pairs))
    return found


def test_matches_a_brute_force_count_on_random_data() -> None:
    rng = np.random.default_rng(2)
    n_items, n_annotators = 40, 7
    category = rng.integers(0, 3, size=n_items).tolist()
    item, annotator, value = [], [], []
    for i in range(n_items):
        judges = rng.choice(n_annotators, size=int(rng.integers(1, 5)), replace=False)
        for a in judges:
            item.append(i)
            annotator.append(int(a))
            value.append(int(rng.integers(0, 3)))
    judgments = CodedJudgments(
        item=np.asarray(item, dtype=np.intp),
        annotator=np.asarray(annotator, dtype=np.intp),
        value=np.asarray(value, dtype=np.intp),
        gold=np.full(len(item), -1, dtype=np.intp),
        n_items=n_items,
        n_annotators=n_annotators,
        q=3,
    )
    ours = peer_comparison(judgments, np.asarray(category, dtype=np.intp))
    expected = _brute_force(item, annotator, value, category)
    assert set(expected) == {a for a in range(n_annotators) if ours.n_pairs[a] > 0}
    for a, (agreement, reference, pairs) in expected.items():
        assert ours.n_pairs[a] == pairs
        assert ours.agreement[a] == pytest.approx(agreement, abs=1e-12)
        assert ours.reference[a] == pytest.approx(reference, abs=1e-12)
        assert ours.difference[a] == pytest.approx(agreement - reference, abs=1e-12)
        if ours.n_items[a] >= 2:
            assert ours.ci_low[a] <= ours.difference[a] <= ours.ci_high[a]


def test_interval_is_the_item_clustered_variance_computed_by_hand() -> None:
    # Annotator 0 judges three items with two others each. Item values (0 first):
    #   i0: 0 | 0 0  -> x=2, n=2, e=1      i1: 0 | 1 1 -> x=0, n=2, e=1
    #   i2: 0 | 0 1  -> x=1, n=2, e=0
    rows = [(0, 0, 0), (0, 1, 0), (0, 2, 0), (1, 0, 0), (1, 1, 1), (1, 2, 1)]
    rows += [(2, 0, 0), (2, 1, 0), (2, 2, 1)]
    item, annotator, value = (np.asarray(c, dtype=np.intp) for c in zip(*rows, strict=True))
    judgments = CodedJudgments(
        item=item,
        annotator=annotator,
        value=value,
        gold=np.full(len(rows), -1, dtype=np.intp),
        n_items=3,
        n_annotators=3,
        q=2,
    )
    result = peer_comparison(judgments)
    x, n, e = np.array([2, 0, 1.0]), np.array([2, 2, 2.0]), np.array([1, 1, 0.0])
    d = x.sum() / n.sum() - (n * e).sum() / n.sum()
    z = (x - n * e - d * n) / n.sum()
    half = 1.959963984540054 * math.sqrt(3 / 2 * (z**2).sum())
    assert result.difference[0] == pytest.approx(d)  # 0.5 - 0.667
    assert (result.ci_low[0], result.ci_high[0]) == pytest.approx((d - half, d + half))


def _constructed_frame() -> pd.DataFrame:
    """Hard items (the three regulars split 2-1: they agree on 1 of 3 pairs), judged by
    `careful`, who sides with one of them; easy items (the regulars agree), 30 of them judged by
    `careless`, who answers at random. Pooled agreement lies between the two subsets."""
    rng = np.random.default_rng(0)
    rows: list[dict[str, object]] = []

    def add(item: str, who: str, value: str, category: str) -> None:
        rows.append(
            {
                "item_id": item,
                "annotator": who,
                "dimension": "factual",
                "value": value,
                "category": category,
            }
        )

    for i in range(40):  # hard: the three regulars split; careful sides with one of them
        votes = ["yes", "yes", "no"] if i % 2 else ["no", "no", "yes"]
        for who, value in zip(("r1", "r2", "r3"), rng.permutation(votes), strict=True):
            add(f"hard{i}", who, str(value), "hard")
        add(f"hard{i}", "careful", str(rng.choice(votes)), "hard")
    for i in range(80):  # easy: the regulars agree; careless, on 30 of them, is a coin flip
        truth = "yes" if i % 3 else "no"
        for who in ("r1", "r2", "r3"):
            add(f"easy{i}", who, truth, "easy")
        if i < 30:
            add(f"easy{i}", "careless", str(rng.choice(["yes", "no"])), "easy")
    return normalise(pd.DataFrame(rows))


def test_careful_annotator_on_hard_items_is_not_flagged_and_careless_one_is() -> None:
    report = build_report(
        _constructed_frame(), RUBRIC, options=ReportOptions(resamples=0, min_shared_items=1)
    )
    pooled = report["dimensions"]["factual"]["percent_agreement"]["value"]
    figures = {entry["annotator"]: entry["dimensions"]["factual"] for entry in report["annotators"]}
    careful = figures["careful"]["peers"]
    # The old rule (peer agreement vs the pooled figure) would have flagged the careful one.
    assert careful["percent_agreement"] < pooled - PEER_MARGIN
    same = careful["same_items"]
    assert same["n_pairs"] == 120 >= PEER_MIN_PAIRS  # 40 hard items × 3 peers
    assert same["others_agreement"] == pytest.approx(1 / 3)  # the regulars split 2-1
    assert same["difference"] > 0  # careful agrees more than the others do on those items
    careless = figures["careless"]["peers"]["same_items"]
    assert careless["others_agreement"] == pytest.approx(1.0)
    assert careless["ci95"][1] < 0
    flagged = {f.annotator: f for f in flagged_annotators(report)}
    assert set(flagged) == {"careless"}
    assert flagged["careless"].reasons == (
        "agrees with peers less than the others do on the same items",
    )
    shown = flagged["careless"].peer_agreement  # the flag shows its interval
    assert shown.startswith("36.7% vs 100.0% (−63.3 pp [−80.9, −45.8])")
    assert "same items" in flag_rules()


def test_annotator_table_shows_the_like_for_like_comparison() -> None:
    report = build_report(
        _constructed_frame(), RUBRIC, options=ReportOptions(resamples=0, min_shared_items=1)
    )
    table = annotator_table(report, "factual")
    column = table.columns.index("Peer agreement vs others on the same items")
    careless = next(row for row in table.rows if row[0] == "careless")
    assert careless[column].split(" (")[0].endswith("vs 100.0%")
    assert "pp [" in careless[column]
