"""Time ranking judgments through the report: the derived dimensions and Kendall's W.

    python benchmarks/bench_rankings.py --rankings 300000

Synthetic data: items whose four responses (a, b, c, d) are ranked by 3 annotators from a pool
of 50; each ranking is the item's true order with one adjacent swap half of the time, and ties
(``b>a=c>d``) in 15% of rankings. The last output line is one JSON object: rankings,
derived_rows, scoring_view_seconds (the ranking rows turned into per-option ranks and implied
pairs, with Kendall's W), report_seconds (the whole report, 200 bootstrap resamples) and
peak_rss_mb.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np
import pandas as pd

from connector.judgments import normalise
from connector.judgments.rankings import scoring_view
from connector.report.build import ReportOptions, build_report
from connector.rubric import Dimension, Rubric

OPTIONS = ("a", "b", "c", "d")
ANNOTATORS_PER_ITEM = 3
POOL = 50
RUBRIC = Rubric(
    id="bench-ranking",
    version="1",
    changelog="",
    guidelines="",
    dimensions=(
        Dimension(
            name="order",
            question="Rank the responses",
            kind="ranking",
            values=OPTIONS,
            level="ordinal",
        ),
    ),
)


def synthetic(n_rankings: int, seed: int = 0) -> pd.DataFrame:
    """About ``n_rankings`` canonical ranking judgments."""
    rng = np.random.default_rng(seed)
    n_items = max(2, n_rankings // ANNOTATORS_PER_ITEM)
    truth = np.argsort(rng.random((n_items, len(OPTIONS))), axis=1)
    order = np.repeat(truth, ANNOTATORS_PER_ITEM, axis=0)
    swap = rng.random(len(order)) < 0.5
    at = rng.integers(0, len(OPTIONS) - 1, len(order))
    rows = np.flatnonzero(swap)
    order[rows, at[rows]], order[rows, at[rows] + 1] = (
        order[rows, at[rows] + 1],
        order[rows, at[rows]],
    )
    names = np.asarray(OPTIONS, dtype=object)[order]
    tie = rng.random(len(order)) < 0.15
    joined = [
        (f"{r[0]}={r[1]}>{r[2]}>{r[3]}" if t else ">".join(r))
        for r, t in zip(names, tie, strict=True)
    ]
    item = np.repeat(np.arange(n_items), ANNOTATORS_PER_ITEM)
    annotator = np.concatenate(
        [rng.choice(POOL, ANNOTATORS_PER_ITEM, replace=False) for _ in range(n_items)]
    )
    frame = pd.DataFrame(
        {
            "item_id": [f"i{i}" for i in item],
            "annotator": [f"u{a}" for a in annotator],
            "dimension": "order",
            "value": joined,
        }
    )
    return normalise(frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rankings", type=int, default=300_000)
    args = parser.parse_args()
    frame = synthetic(args.rankings)
    start = time.perf_counter()
    view = scoring_view(frame, RUBRIC)
    scoring = time.perf_counter() - start
    start = time.perf_counter()
    report = build_report(frame, RUBRIC, options=ReportOptions(resamples=200))
    whole = time.perf_counter() - start
    w = report["rankings"]["order"]["kendall_w"]
    print(f"{len(frame):,} rankings -> {len(view.frame):,} derived rows; mean W {w['mean']:.3f}")
    print(
        json.dumps(
            {
                "rankings": len(frame),
                "derived_rows": len(view.frame),
                "scoring_view_seconds": round(scoring, 3),
                "report_seconds": round(whole, 3),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )


if __name__ == "__main__":
    main()
