"""Flags for answering habits: a side preference and a non-decisive (tie) excess
(connector/report/sections.py side_preference, non_decisive_excess), on a report built from a
table with randomised display sides, four careful annotators, one who always picks the left
response and one who answers ``tie`` most of the time."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from connector.judgments import normalise
from connector.metrics.stats import binomial_test
from connector.report.build import ReportOptions, build_report
from connector.report.sections import (
    HABIT_MARGIN,
    flag_rules,
    flagged_annotators,
    non_decisive_excess,
    side_preference,
)
from connector.rubric import load_rubric

RUBRIC = load_rubric("rubrics/rlhf-pairwise/v1.yaml")
NO_BOOTSTRAP = ReportOptions(resamples=0)


def _table(n_items: int = 120, seed: int = 7) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    for i in range(n_items):
        truth = rng.choice("ab")
        left = rng.choice("ab")
        for who in ("c1", "c2", "c3", "c4"):
            value = truth if rng.random() < 0.85 else rng.choice(["a", "b", "tie"])
            rows.append((f"i{i}", who, value, left))
        rows.append((f"i{i}", "lefty", left, left))
        rows.append((f"i{i}", "tier", "tie" if rng.random() < 0.7 else truth, left))
    frame = pd.DataFrame(rows, columns=["item_id", "annotator", "value", "display_left"])
    frame["dimension"] = "overall"
    return normalise(frame)


@pytest.fixture(scope="module")
def reasons() -> dict[str, list[str]]:
    report = build_report(_table(), RUBRIC, options=NO_BOOTSTRAP)
    found: dict[str, list[str]] = {}
    for flag in flagged_annotators(report):
        found.setdefault(flag.annotator, []).extend(flag.reasons)
    return found


def test_an_annotator_who_always_picks_the_left_response_is_flagged_for_it(
    reasons: dict[str, list[str]],
) -> None:
    side = [r for r in reasons.get("lefty", []) if "shown on the left" in r]
    assert len(side) == 1, reasons
    assert side[0].startswith("chooses the response shown on the left in 100.0% of ")


def test_an_annotator_who_answers_tie_far_more_often_is_flagged_for_it(
    reasons: dict[str, list[str]],
) -> None:
    ties = [r for r in reasons.get("tier", []) if "non-decisive" in r]
    assert len(ties) == 1, reasons
    assert "for the others" in ties[0]


def test_careful_annotators_are_not_flagged_for_a_habit(reasons: dict[str, list[str]]) -> None:
    for who in ("c1", "c2", "c3", "c4"):
        habits = [r for r in reasons.get(who, []) if "shown on the" in r or "non-decisive" in r]
        assert habits == [], (who, habits)


def test_side_preference_needs_enough_judgments_a_margin_and_significance() -> None:
    def figures(n: int, share: float, p: float) -> dict[str, object]:
        return {"position_bias": {"n": n, "left_share": share, "p_value": p}}

    assert side_preference(figures(100, 0.8, 1e-9), 0.01) is not None
    assert side_preference(figures(19, 1.0, 1e-6), 0.01) is None  # too few judgments
    assert side_preference(figures(400, 0.5 + HABIT_MARGIN - 0.01, 1e-9), 0.01) is None
    assert side_preference(figures(100, 0.8, 0.02), 0.01) is None  # not significant
    right = side_preference(figures(100, 0.1, 1e-12), 0.01)
    assert right is not None
    assert "shown on the right in 90.0% of 100" in right
    assert side_preference({"position_bias": {"measurable": False}}, 0.01) is None


def test_non_decisive_excess_tests_the_count_against_the_others_rate() -> None:
    figures = {"non_decisive_rate": 0.5, "n_judgments": 40}
    # 20 of 40 against 0.2: exact two-sided binomial p (the same test as scipy's binomtest)
    p = binomial_test(20, 40, 0.2)
    assert p < 1e-4
    reason = non_decisive_excess(figures, 0.2, 1e-3)
    assert reason == (
        f"answers non-decisive values in 50.0% of 40 judgments against 20.0% for the others "
        f"(p = {p:.2g})"
    )
    assert non_decisive_excess(figures, 0.2, p / 2) is None  # not significant at that level
    assert non_decisive_excess(figures, 0.35, 1.0) is None  # below the margin
    assert non_decisive_excess({"non_decisive_rate": 1.0, "n_judgments": 10}, 0.0, 1.0) is None
    assert non_decisive_excess(figures, None, 1.0) is None  # nobody else to compare with


def test_the_rules_sentence_names_the_habits() -> None:
    text = flag_rules()
    for words in ("display side", "non-decisive", "binomial"):
        assert words in text
