"""Re-tests (intra-annotator consistency): Cohen's kappa of an annotator's first and second
judgment of the same item, its bootstrap interval, and the share of re-test copies that reached
the annotator who judged the original (copies reach whoever picks them)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import cohen_kappa_score
from test_sync import GOOD, LEAD, RUBRIC, World, _items, _push

from connector.judgments import normalise
from connector.metrics.consistency import retest_consistency, retest_kappa_interval
from connector.metrics.weights import agreement_weights
from connector.report.build import ReportOptions, build_report
from connector.report.console import print_summary
from connector.report.html import render_html
from connector.report.markdown import render_markdown
from connector.report.retests import retest_reach
from connector.rubric import Dimension, Rubric

PREFERENCE = Dimension(
    name="overall",
    question="Which is better?",
    kind="preference",
    values=("a", "b", "tie"),
    level="nominal",
    non_decisive=("tie",),
)
SIMPLE = Rubric(id="t", version="1", changelog="", guidelines="", dimensions=(PREFERENCE,))
OTHER = "other@x"


def _wikipedia_pairs() -> tuple[np.ndarray, np.ndarray]:
    """Wikipedia, "Cohen's kappa", simple example: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no;
    kappa = 0.4 (p_o 0.7, p_e 0.5)."""
    cells = [(0, 0)] * 20 + [(0, 1)] * 5 + [(1, 0)] * 10 + [(1, 1)] * 15
    first, second = (np.array(side, dtype=np.intp) for side in zip(*cells, strict=True))
    return first, second


def test_intra_kappa_is_the_published_value_per_annotator_and_pooled() -> None:
    first, second = _wikipedia_pairs()
    # the same 50 pairs by annotator 0, and once more by annotator 1
    both = retest_consistency(
        np.concatenate([first, first]),
        np.concatenate([second, second]),
        np.repeat(np.array([0, 1], dtype=np.intp), 50),
        n_annotators=3,
        w=np.eye(2),
    )
    assert both.kappa == pytest.approx(0.4)
    assert both.annotator_kappa[:2] == pytest.approx([0.4, 0.4])
    assert both.annotator_agreement[:2] == pytest.approx([0.7, 0.7])
    assert both.annotator_n_pairs.tolist() == [50, 50, 0]
    assert np.isnan(both.annotator_kappa[2])  # no re-test pair: undefined, not 0
    assert np.isnan(both.annotator_kappa_ci).all()  # resamples=0 asks for no interval


def test_intra_kappa_matches_scikit_learn_weighted_on_random_pairs() -> None:
    rng = np.random.default_rng(7)
    first = rng.integers(0, 5, 300).astype(np.intp)
    second = np.clip(first + rng.integers(-1, 2, 300), 0, 4).astype(np.intp)
    annotator = rng.integers(0, 3, 300).astype(np.intp)
    w = agreement_weights("linear", [1, 2, 3, 4, 5])
    found = retest_consistency(first, second, annotator, n_annotators=3, w=w)
    for a in range(3):
        mine = annotator == a
        expected = cohen_kappa_score(first[mine], second[mine], weights="linear")
        assert found.annotator_kappa[a] == pytest.approx(expected, abs=1e-12)


def test_the_interval_agrees_with_scipy_bca_on_the_pairs() -> None:
    """An independent BCa: scipy.stats.bootstrap over the pairs with scikit-learn's kappa."""
    first, second = _wikipedia_pairs()
    table = np.zeros((2, 2))
    np.add.at(table, (first, second), 1)
    low, high = retest_kappa_interval(table, np.eye(2), resamples=4000, seed=3)
    scipy_ci = stats.bootstrap(
        (first, second),
        lambda x, y: cohen_kappa_score(x, y),
        paired=True,
        vectorized=False,
        n_resamples=4000,
        method="BCa",
        random_state=3,
    ).confidence_interval
    assert low < 0.4 < high
    assert low == pytest.approx(scipy_ci.low, abs=0.03)
    assert high == pytest.approx(scipy_ci.high, abs=0.03)


def test_the_interval_is_undefined_where_kappa_is() -> None:
    one = np.array([[1.0, 0.0], [0.0, 0.0]])
    assert np.isnan(retest_kappa_interval(one, np.eye(2), resamples=200)).all()  # one pair
    same = np.array([[9.0, 0.0], [0.0, 0.0]])  # one value throughout: chance agreement 1
    assert np.isnan(retest_kappa_interval(same, np.eye(2), resamples=200)).all()
    table = np.array([[5.0, 1.0], [1.0, 5.0]])
    assert np.isnan(retest_kappa_interval(table, np.eye(2), resamples=0)).all()


def _rows(t0: datetime) -> pd.DataFrame:
    """Four items judged a/b alternately by x, y, z; x judges i0..i2 again three days later
    (a, b, a against a first a, b, a: all three agree)."""
    rows = [
        {"item_id": f"i{i}", "annotator": who, "dimension": "overall",
         "value": "ab"[i % 2], "submitted_at": t0, "batch": "b1"}
        for i in range(4)
        for who in ("x", "y", "z")
    ]  # fmt: skip
    later = pd.Timestamp(t0) + pd.Timedelta(days=3)
    rows += [
        {"item_id": f"i{i}", "annotator": "x", "dimension": "overall",
         "value": "ab"[i % 2], "submitted_at": later, "batch": "b2"}
        for i in range(3)
    ]  # fmt: skip
    rows.append(
        {"item_id": "i3", "annotator": "w", "dimension": "overall", "value": "b",
         "submitted_at": later, "batch": "b2"}
    )  # fmt: skip
    return normalise(pd.DataFrame(rows))


def test_copies_reaching_the_annotator_of_the_original_are_counted() -> None:
    frame = _rows(datetime(2025, 1, 1, tzinfo=UTC))
    copies = {("b2", f"i{i}") for i in range(4)}
    reach = retest_reach(frame, copies)
    assert (reach.n_judged, reach.n_same_annotator) == (4, 3)
    assert reach.share_same_annotator == pytest.approx(0.75)
    assert reach.annotator_judged == {"x": 3, "w": 1}
    assert reach.annotator_same == {"x": 3, "w": 0}


def test_the_report_gives_intra_kappa_with_interval_and_copy_reach() -> None:
    frame = _rows(datetime(2025, 1, 1, tzinfo=UTC))
    copies = {("b2", f"i{i}") for i in range(4)}
    options = ReportOptions(resamples=200, min_shared_items=1)
    report = build_report(frame, SIMPLE, options=options, retest_copies=copies)
    section = report["dimensions"]["overall"]
    assert section["intra_annotator"]["n_pairs"] == 3
    assert section["intra_annotator"]["cohen_kappa"] == pytest.approx(1.0)
    # every defined resample of three agreeing pairs has kappa 1 (the others are undefined)
    assert section["intra_annotator"]["ci95"] == [1.0, 1.0]
    assert report["retest_copies"] == {
        "n_copies": 4, "n_judged": 4, "n_same_annotator": 3, "share_same_annotator": 0.75,
    }  # fmt: skip
    people = {a["annotator"]: a for a in report["annotators"]}
    assert people["x"]["retest_copies"] == {"n_judged": 3, "n_same_annotator": 3}
    assert people["w"]["retest_copies"] == {"n_judged": 1, "n_same_annotator": 0}
    assert people["y"]["retest_copies"] is None
    # w's copy is w's first judgment of i3: it counts for inter-annotator agreement
    assert section["n_judgments"] == 13
    plain = build_report(frame, SIMPLE, options=options)
    assert plain["retest_copies"] is None  # a judgments file: copies unknown
    assert "retest_copies" not in plain["annotators"][0]


def test_inter_annotator_figures_use_each_annotators_first_judgment() -> None:
    """A second judgment that disagrees, listed first in the table and submitted later,
    changes no inter-annotator figure (the first by submitted_at counts)."""
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    frame = _rows(t0)
    flipped = frame.copy()
    later = flipped["batch"] == "b2"
    flipped.loc[later & (flipped["annotator"] == "x"), "value"] = "tie"
    flipped = pd.concat([flipped[later], flipped[~later]], ignore_index=True)
    options = ReportOptions(resamples=0, min_shared_items=1)
    base = build_report(frame, SIMPLE, options=options)["dimensions"]["overall"]
    got = build_report(flipped, SIMPLE, options=options)["dimensions"]["overall"]
    assert got["krippendorff_alpha"] == base["krippendorff_alpha"]
    assert got["percent_agreement"] == base["percent_agreement"]
    assert got["intra_annotator"]["percent_agreement"] == pytest.approx(0.0)


def test_every_renderer_shows_the_retest_table(capsys: pytest.CaptureFixture[str]) -> None:
    frame = _rows(datetime(2025, 1, 1, tzinfo=UTC))
    report = json.loads(
        json.dumps(
            build_report(
                frame, SIMPLE, options=ReportOptions(resamples=0, min_shared_items=1),
                retest_copies={("b2", f"i{i}") for i in range(4)},
            )
        )
    )  # fmt: skip
    markdown = render_markdown(report)
    assert "## Re-tests (intra-annotator consistency)" in markdown
    assert "| x | overall | 3 | 100.0% | κ 1.000 | 3 | 3 |" in markdown
    assert "Re-test copies pushed: 4; judged: 4, of which 3 (75.0%) reached" in markdown
    html = render_html(report)
    assert '<section id="retests">' in html
    assert "Re-test copies judged" in html
    from rich.console import Console

    print_summary(report, Console(width=200, force_terminal=False))
    out = capsys.readouterr().out
    assert "Re-tests (intra-annotator consistency)" in out


def test_a_sync_counts_the_copies_that_reached_the_same_annotator(tmp_path: Any) -> None:
    """Through the in-memory platform: re-test copies of judged items, three taken by the
    annotator who judged the original, two by someone who never saw the item."""
    from connector.calibration.batch import plan_batch
    from connector.calibration.gold import load_gold
    from connector.calibration.push import push_batch, task_key_secret
    from connector.rubric import load_rubric

    world = World(tmp_path, gold_items=25)
    try:
        _push(world, _items("x", 20))
        mappings = world.store.task_mappings("p")
        for task, m in mappings.items():
            if m.item_key.startswith("x"):
                world.platform.annotate(task, m.item_key, annotator=GOOD, value="a")
                world.platform.annotate(task, m.item_key, annotator=LEAD, value="a")
        rubric = load_rubric(RUBRIC)
        plan = plan_batch(
            project_key="p", rubric=rubric, kind="production", items=_items("y", 85),
            gold=load_gold(world.gold_path, rubric), retest=_items("x", 20),
            key_secret=task_key_secret(world.store),
        )  # fmt: skip
        push_batch(plan, world.config.project("p"), store=world.store, platform=world.platform)
        copies = [
            (task, m.item_key)
            for task, m in world.store.task_mappings("p").items()
            if m.kind == "retest"
        ]
        assert len(copies) == 5  # 5 % of the batch's 100 tasks
        for n, (task, item) in enumerate(sorted(copies)):
            who, value = (GOOD, "a" if n else "b") if n < 3 else (OTHER, "a")
            world.platform.annotate(task, item, annotator=who, value=value)
        world.sync()
        report = json.loads((tmp_path / "reports" / "p" / "latest.json").read_text())
        assert report["retest_copies"] == {
            "n_copies": 5, "n_judged": 5, "n_same_annotator": 3, "share_same_annotator": 0.6,
        }  # fmt: skip
        people = {a["annotator"]: a for a in report["annotators"]}
        assert people[GOOD]["retest_copies"] == {"n_judged": 3, "n_same_annotator": 3}
        assert people[OTHER]["retest_copies"] == {"n_judged": 2, "n_same_annotator": 0}
        intra = people[GOOD]["dimensions"]["overall"]["intra"]
        assert intra["n_pairs"] == 3
        assert intra["percent_agreement"] == pytest.approx(2 / 3)
        assert "intra" not in (people[OTHER]["dimensions"]["overall"] or {}) or (
            people[OTHER]["dimensions"]["overall"]["intra"] is None
        )
        # the platform's summary carries no per-annotator re-test figure
        assert all(GOOD not in str(r) for r in world.platform.reports)
    finally:
        world.store.close()
