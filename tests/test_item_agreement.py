"""Per-item agreement (connector.metrics.item_agreement) and the per-item figures a sync writes
to the platform (connector.report.build.item_agreements)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.judgments import normalise
from connector.metrics.item_agreement import item_agreement
from connector.metrics.multirater import fleiss_kappa
from connector.report.build import item_agreements
from connector.rubric import load_rubric

# Fleiss' kappa worked example (10 subjects, 14 raters, 5 categories), Wikipedia "Fleiss'
# kappa" (https://en.wikipedia.org/wiki/Fleiss%27_kappa#Worked_example), after Fleiss (1971):
# P_i per subject and their mean P̄ = 0.378.
FLEISS_TABLE = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]
PUBLISHED_P_I = [1.000, 0.253, 0.308, 0.440, 0.330, 0.462, 0.242, 0.176, 0.286, 0.286]


def test_reproduces_the_published_per_subject_agreement() -> None:
    p_i = item_agreement(FLEISS_TABLE, np.eye(5))
    assert p_i.round(3).tolist() == PUBLISHED_P_I
    assert p_i.mean() == pytest.approx(0.378, abs=5e-4)


def _brute_force(counts: list[int], w: np.ndarray) -> float:
    """Average agreement weight over ordered pairs of distinct judgments, enumerated."""
    judgments = [k for k, n in enumerate(counts) for _ in range(n)]
    pairs = list(itertools.permutations(range(len(judgments)), 2))
    if not pairs:
        return float("nan")
    return float(np.mean([w[judgments[a], judgments[b]] for a, b in pairs]))


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[list[int]], np.ndarray]:
    q = draw(st.integers(2, 5))
    rows = draw(st.lists(st.lists(st.integers(0, 4), min_size=q, max_size=q), min_size=1,
                         max_size=8))  # fmt: skip
    upper = draw(st.lists(st.floats(0, 1), min_size=q * q, max_size=q * q))
    w = np.array(upper).reshape(q, q)
    w = (w + w.T) / 2
    np.fill_diagonal(w, 1.0)
    return rows, w


@settings(max_examples=200, deadline=None)
@given(tables())
def test_equals_pairs_enumerated_by_hand(table: tuple[list[list[int]], np.ndarray]) -> None:
    rows, w = table
    ours = item_agreement(rows, w)
    expected = [_brute_force(r, w) for r in rows]
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)


def test_its_mean_is_the_p_a_of_fleiss_kappa() -> None:
    """Fleiss' kappa = (P̄ − P_e)/(1 − P_e) with P̄ the mean of the per-item figures."""
    table = np.array(FLEISS_TABLE, dtype=float)
    p_bar = item_agreement(table, np.eye(5)).mean()
    p_j = table.sum(axis=0) / table.sum()
    p_e = (p_j**2).sum()
    ratings = [[k for k, n in enumerate(row) for _ in range(n)] for row in FLEISS_TABLE]
    assert fleiss_kappa(ratings) == pytest.approx((p_bar - p_e) / (1 - p_e), abs=1e-12)


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match=r"counts must have shape \(n_items, q\)"):
        item_agreement([[1, 2]], np.eye(3))
    with pytest.raises(ValueError, match="must not be negative"):
        item_agreement([[1, -2]], np.eye(2))


def _frame(rows: list[tuple[str, str, str, object]]) -> pd.DataFrame:
    return normalise(pd.DataFrame(rows, columns=["item_id", "annotator", "dimension", "value"]))


def test_a_rating_of_4_and_5_agrees_three_quarters_on_every_dimension() -> None:
    """The old per-task figure was an exact match on the first dimension only: 4 and 5 gave 0,
    and the other dimensions were never written."""
    rubric = load_rubric("rubrics/response-quality/v1.yaml")
    frame = _frame(
        [
            ("i1", "a", "helpfulness", 4),
            ("i1", "b", "helpfulness", 5),
            ("i1", "a", "safety", 5),
            ("i1", "b", "safety", 5),
            ("i1", "c", "safety", 1),
            ("i2", "a", "helpfulness", 3),
        ]
    )
    found = item_agreements(frame, rubric)
    assert set(found) == {"helpfulness", "safety"}
    assert found["helpfulness"]["i1"].agreement == 0.75  # linear weights on 1..5
    assert found["helpfulness"]["i1"].n_judgments == 2
    assert found["helpfulness"]["i2"].agreement is None  # one judgment: undefined
    # safety: pairs (5,5) 1, (5,1) 0 and (5,1) 0, each both ways: 2/6
    assert found["safety"]["i1"].agreement == pytest.approx(1 / 3, abs=1e-4)
