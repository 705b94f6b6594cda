"""Bernoulli CUSUM: hand-computed paths, exact and simulated run lengths, streams from tables."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from connector.metrics.cusum import (
    average_run_length,
    cusum,
    decision_limit,
    design,
)
from connector.metrics.stats import wilson_interval
from connector.quality.streams import (
    consensus_design,
    consensus_streams,
    gold_design,
    gold_streams,
    pool_rate,
)
from connector.rubric import load_rubric

RUBRIC = load_rubric("rubrics/rlhf-pairwise/v2.yaml")  # qualify 0.85, retrain 0.80, min 20
LOG_1_5 = math.log(1.5)


def run_lengths(
    p: float, *, p0: float, p1: float, h: float, runs: int, steps: int, seed: int
) -> npt.NDArray[np.int64]:
    """Simulated run lengths of the chart at true success rate p (vectorised over runs)."""
    rng = np.random.default_rng(seed)
    a, b = math.log((1 - p1) / (1 - p0)), math.log(p0 / p1)
    found: list[npt.NDArray[np.int64]] = []
    for _ in range(runs // 500):
        w = np.where(rng.random((500, steps)) < p, -b, a)
        c = np.cumsum(w, axis=1)
        s = c - np.minimum.accumulate(np.minimum(c, 0.0), axis=1)
        alarm = s >= h
        if not alarm.any(axis=1).all():
            raise AssertionError("a simulated run did not alarm; lengthen the runs")
        found.append(alarm.argmax(axis=1).astype(np.int64) + 1)
    return np.concatenate(found)


def naive_cusum(x: list[int], p0: float, p1: float) -> list[float]:
    s, path = 0.0, []
    for value in x:
        s = max(0.0, s + (math.log(p1 / p0) if value else math.log((1 - p1) / (1 - p0))))
        path.append(s)
    return path


# --- the statistic -----------------------------------------------------------------------------


def test_hand_computed_symmetric_path() -> None:
    # p0 = 0.6, p1 = 0.4: a success takes log 1.5 away, a failure adds log 1.5.
    result = cusum([1, 0, 0, 1, 0, 0, 0], p0=0.6, p1=0.4, h=1.0)
    expected = np.array([0, 1, 2, 1, 2, 3, 4]) * LOG_1_5
    np.testing.assert_allclose(result.statistic, expected, atol=1e-12)
    assert result.alarm_at == 5  # 3 · 0.4055 = 1.2164 ≥ 1.0, the first crossing


def test_hand_computed_gold_path() -> None:
    # p0 = 0.85, p1 = 0.80: failure adds log(0.20/0.15) = 0.2876821, success takes
    # log(0.85/0.80) = 0.0606246 away.
    result = cusum([0, 1, 1, 0, 0, 1], p0=0.85, p1=0.80, h=0.7)
    expected = [0.2876821, 0.2270575, 0.1664329, 0.4541150, 0.7417971, 0.6811725]
    np.testing.assert_allclose(result.statistic, expected, atol=1e-6)
    assert result.alarm_at == 4


def test_statistic_restarts_at_zero() -> None:
    result = cusum([0, 1, 1, 1, 1, 1, 1, 0], p0=0.6, p1=0.4, h=5.0)
    np.testing.assert_allclose(result.statistic, np.array([1, 0, 0, 0, 0, 0, 0, 1]) * LOG_1_5)
    assert result.alarm_at is None
    assert result.last == pytest.approx(LOG_1_5)


def test_vectorised_equals_the_recursion() -> None:
    rng = np.random.default_rng(7)
    for p in (0.5, 0.8, 0.95):
        x = (rng.random(3000) < p).astype(int)
        result = cusum(x, p0=0.85, p1=0.8, h=1e9)
        np.testing.assert_allclose(result.statistic, naive_cusum(x.tolist(), 0.85, 0.8))
        assert (result.statistic >= 0).all()


def test_empty_stream() -> None:
    result = cusum(np.zeros(0, dtype=int), p0=0.85, p1=0.8, h=1.0)
    assert result.statistic.shape == (0,)
    assert result.alarm_at is None
    assert result.last == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"p0": 0.8, "p1": 0.85, "h": 1.0}, "needs 0 < p1 < p0 < 1; got p0=0.8, p1=0.85"),
        ({"p0": 1.0, "p1": 0.8, "h": 1.0}, "needs 0 < p1 < p0 < 1"),
        ({"p0": 0.85, "p1": 0.8, "h": 0.0}, "the decision limit h must be positive; got 0.0"),
    ],
)
def test_bad_design_is_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        cusum([1, 0], **kwargs)


def test_values_other_than_zero_and_one_are_refused() -> None:
    with pytest.raises(ValueError, match=r"successes must be 0 or 1; positions \[1\] hold \[2\]"):
        cusum([1, 2, 0], p0=0.85, p1=0.8, h=1.0)


# --- run lengths ---------------------------------------------------------------------------------


def closed_form_arl(p: float, n: int) -> float:
    """Expected steps of a ±1 walk (up with 1 - p), held at 0, to reach n from 0.

    With q = 1 - p and d_k = E_k - E_{k+1}: q d_0 = 1 and q d_k = 1 + p d_{k-1}, so
    d_k = (1/q) Σ_{j<=k} (p/q)^j and E_0 = Σ_{k<n} d_k.
    """
    q = 1 - p
    return sum(sum((p / q) ** j for j in range(k + 1)) / q for k in range(n))


def test_markov_chain_arl_equals_the_closed_form() -> None:
    # p0 = 0.6, p1 = 0.4 gives steps of ±log 1.5; h = 2.5 steps alarms on reaching 3 steps.
    h = 2.5 * LOG_1_5
    assert closed_form_arl(0.6, 3) == pytest.approx(20.625)  # d = 2.5, 6.25, 11.875
    assert average_run_length(0.6, p0=0.6, p1=0.4, h=h) == pytest.approx(20.625, rel=1e-9)
    assert average_run_length(0.4, p0=0.6, p1=0.4, h=h) == pytest.approx(
        closed_form_arl(0.4, 3), rel=1e-9
    )
    lengths = run_lengths(0.6, p0=0.6, p1=0.4, h=h, runs=4000, steps=600, seed=1)
    assert lengths.mean() == pytest.approx(20.625, rel=0.05)


def test_gold_design_parameters() -> None:
    chart = gold_design(RUBRIC)
    assert (chart.p0, chart.p1) == (0.85, 0.80)
    assert chart.h == pytest.approx(1.835, abs=0.01)
    assert 500 <= chart.arl0 <= 505  # the smallest limit reaching ARL0 = 500
    assert chart.arl1 == pytest.approx(123, rel=0.02)
    assert decision_limit(0.85, 0.80) == chart.h
    # a smaller limit would not reach the target
    assert average_run_length(0.85, p0=0.85, p1=0.80, h=chart.h - 0.01) < 500


def test_simulated_arl0_and_arl1_match_the_design() -> None:
    chart = gold_design(RUBRIC)
    for p, designed, steps in ((0.85, chart.arl0, 9000), (0.80, chart.arl1, 3000)):
        lengths = run_lengths(p, p0=0.85, p1=0.80, h=chart.h, runs=4000, steps=steps, seed=11)
        standard_error = lengths.std() / math.sqrt(len(lengths))
        assert abs(lengths.mean() - designed) < 4 * standard_error, (p, lengths.mean())
    big_drop = run_lengths(0.70, p0=0.85, p1=0.80, h=chart.h, runs=4000, steps=1000, seed=12)
    markov = average_run_length(0.70, p0=0.85, p1=0.80, h=chart.h)
    assert markov == pytest.approx(40, rel=0.03)
    assert big_drop.mean() == pytest.approx(markov, rel=0.05)


def test_better_annotators_rarely_alarm() -> None:
    chart = gold_design(RUBRIC)
    assert average_run_length(0.90, p0=0.85, p1=0.80, h=chart.h) > 5_000
    assert average_run_length(0.95, p0=0.85, p1=0.80, h=chart.h) > 1_000_000


def slide(seed: int) -> npt.NDArray[np.int64]:
    """Gold accuracy sliding from 0.95 to 0.70 over 200 judgments, then staying at 0.70."""
    accuracy = np.concatenate([np.linspace(0.95, 0.70, 200), np.full(400, 0.70)])
    rng = np.random.default_rng(seed)
    return (rng.random(accuracy.size) < accuracy).astype(np.int64)


def first_wilson_flag(x: npt.NDArray[np.int64], *, retrain: float, minimum: int) -> int | None:
    """First judgment at which the Wilson rule (upper bound of accuracy, one-sided 95%, over
    all gold judgments so far, at least `minimum` of them) falls below the retrain threshold."""
    correct = np.cumsum(x)
    for n in range(minimum, len(x) + 1):
        if wilson_interval(int(correct[n - 1]), n, z=1.6448536269514722)[1] < retrain:
            return n - 1
    return None


def first_point_flag(x: npt.NDArray[np.int64], *, retrain: float, minimum: int) -> int | None:
    """Same, on the point estimate alone (the rule of connector.quality)."""
    accuracy = np.cumsum(x) / np.arange(1, len(x) + 1)
    below = np.flatnonzero((accuracy < retrain) & (np.arange(1, len(x) + 1) >= minimum))
    return int(below[0]) if below.size else None


def test_alarm_comes_before_the_threshold_rules_on_a_slide() -> None:
    chart = gold_design(RUBRIC)
    x = slide(seed=2024)
    alarm = chart.run(x).alarm_at
    wilson = first_wilson_flag(x, retrain=0.80, minimum=20)
    point = first_point_flag(x, retrain=0.80, minimum=20)
    assert alarm is not None
    assert wilson is not None
    assert point is not None
    assert alarm < 200  # during the slide itself
    assert alarm < point < wilson
    # and not by luck of one seed: over 200 seeds the alarm is first in nearly every stream
    earlier = []
    for seed in range(200):
        x = slide(seed)
        alarm = chart.run(x).alarm_at
        wilson = first_wilson_flag(x, retrain=0.80, minimum=20) or len(x)
        earlier.append(alarm is not None and alarm < wilson)
    assert np.mean(earlier) >= 0.97


# --- streams from a judgments table ------------------------------------------------------------


def frame(rows: list[tuple[str, str, str, object, object, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": [r[0] for r in rows],
            "annotator": [r[1] for r in rows],
            "dimension": [r[2] for r in rows],
            "value": [r[3] for r in rows],
            "gold_value": [r[4] for r in rows],
            "submitted_at": pd.to_datetime([r[5] for r in rows], utc=True),
            "batch": ["b1"] * len(rows),
        }
    )


def test_gold_streams_in_time_order_first_judgment_only() -> None:
    table = frame(
        [
            ("i2", "ann", "overall", "a", "a", "2024-01-02"),
            ("i1", "ann", "overall", "b", "a", "2024-01-01"),
            ("i1", "ann", "overall", "a", "a", "2024-01-05"),  # re-test: not new gold evidence
            ("i3", "ann", "helpfulness", 4, "4", "2024-01-03"),  # 4 and "4" are the same
            ("i4", "ann", "overall", "a", None, "2024-01-04"),  # not gold
            ("i1", "other", "overall", "a", "a", "2024-01-01"),
        ]
    )
    streams = gold_streams(table)
    assert sorted(streams) == ["ann", "other"]
    ann = streams["ann"]
    assert ann.successes.tolist() == [0, 1, 1]
    assert ann.item_id.tolist() == ["i1", "i2", "i3"]
    assert ann.batch.tolist() == ["b1", "b1", "b1"]
    assert (len(ann), ann.correct) == (3, 2)


def test_consensus_streams_use_the_strict_majority_of_the_others() -> None:
    table = frame(
        [
            # i1: a, a, a, b → each "a" sees a majority of a (2 of 3): 1; "b" sees a: 0
            ("i1", "w", "overall", "a", None, "2024-01-01"),
            ("i1", "x", "overall", "a", None, "2024-01-01"),
            ("i1", "y", "overall", "a", None, "2024-01-01"),
            ("i1", "z", "overall", "b", None, "2024-01-01"),
            # i2: a, a, b, b → "a" sees {a, b, b}: majority b → 0; "b" sees {a, a, b}: 0
            ("i2", "w", "overall", "a", None, "2024-01-02"),
            ("i2", "x", "overall", "a", None, "2024-01-02"),
            ("i2", "y", "overall", "b", None, "2024-01-02"),
            ("i2", "z", "overall", "b", None, "2024-01-02"),
            # i3: a, b, tie → no strict majority among any two others: skipped
            ("i3", "w", "overall", "a", None, "2024-01-03"),
            ("i3", "x", "overall", "b", None, "2024-01-03"),
            ("i3", "y", "overall", "tie", None, "2024-01-03"),
            # i4: only two judgments → one other, below min_others: skipped
            ("i4", "w", "overall", "a", None, "2024-01-04"),
            ("i4", "x", "overall", "a", None, "2024-01-04"),
        ]
    )
    streams = consensus_streams(table)
    assert {k: s.successes.tolist() for k, s in streams.items()} == {
        "w": [1, 0],
        "x": [1, 0],
        "y": [1, 0],
        "z": [0, 0],
    }
    assert pool_rate(streams) == pytest.approx(3 / 8)
    assert consensus_streams(table, min_others=1)["w"].successes.tolist() == [1, 0, 1]


def test_consensus_design_follows_the_pool() -> None:
    chart = consensus_design(0.7349, RUBRIC)
    assert chart is not None
    assert chart.p0 == 0.73
    assert chart.p1 == pytest.approx(0.68)
    assert 500 <= chart.arl0 < 510
    assert consensus_design(0.04, RUBRIC) is None


def test_design_refuses_impossible_targets() -> None:
    with pytest.raises(ValueError, match=r"arl0 must be at least 1 judgment; got 0\.5"):
        design(0.85, 0.8, arl0=0.5)


def test_streams_of_an_empty_table() -> None:
    empty = frame([])
    assert gold_streams(empty) == {}
    assert consensus_streams(empty) == {}
    assert pool_rate({}) is None
    no_gold = frame([("i1", "ann", "overall", "a", None, "2024-01-01")])
    assert gold_streams(no_gold) == {}
    assert consensus_streams(no_gold) == {}
