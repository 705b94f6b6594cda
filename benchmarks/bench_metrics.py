"""Time the full agreement report on N synthetic judgments, against the `krippendorff` package.

    python benchmarks/bench_metrics.py --judgments 1000000
    python benchmarks/bench_metrics.py --judgments 1000000 --ci-method percentile

Synthetic data: items judged by 5 annotators drawn from a pool of 500, one 3-value preference
dimension (a / b / tie) and one 5-point ordinal rating, 10% of judgments missing, 10% of items
gold. Annotators differ in skill so the figures are not degenerate.

The reference is ``krippendorff.alpha`` on the same data in the same process, including building
its (units × values) count input with ``numpy.bincount`` from the same integer codes our engine
starts from, so ``alpha_speedup`` compares like with like. The last output line is one JSON
object: judgments, ci_method, report_seconds, alpha_seconds, reference_alpha_seconds, alpha_speedup,
peak_rss_mb.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np
import pandas as pd

from connector.judgments import COLUMNS
from connector.metrics.bootstrap import DEFAULT_INTERVAL_METHOD, INTERVAL_METHODS
from connector.metrics.krippendorff import alpha_from_coincidences, coincidences
from connector.metrics.table import value_counts
from connector.metrics.weights import category_scores
from connector.report.build import ReportOptions, build_report
from connector.report.checks import check_input
from connector.rubric import Dimension, Rubric

ANNOTATORS_PER_ITEM = 5
POOL = 500
DIMENSIONS = (("overall", ("a", "b", "tie")), ("helpfulness", (1, 2, 3, 4, 5)))


def synthetic(n_judgments: int, seed: int = 0) -> pd.DataFrame:
    """About ``n_judgments`` canonical judgments (after 10% missing) over both dimensions."""
    rng = np.random.default_rng(seed)
    n_items = max(2, round(n_judgments / (ANNOTATORS_PER_ITEM * len(DIMENSIONS) * 0.9)))
    skill = rng.uniform(0.4, 0.95, POOL)
    frames = []
    gold_items = rng.random(n_items) < 0.10
    panel = distinct_panels(rng, n_items)
    item = np.repeat(np.arange(n_items), ANNOTATORS_PER_ITEM)
    annotator = panel.reshape(-1)
    for name, values in DIMENSIONS:
        q = len(values)
        truth = rng.integers(0, q, n_items)
        correct = rng.random(item.size) < skill[annotator]
        code = np.where(correct, truth[item], rng.integers(0, q, item.size))
        keep = rng.random(item.size) >= 0.10
        labels = np.asarray(values, dtype=object)
        gold = np.where(gold_items[item], labels[truth[item]], None)
        frames.append(
            pd.DataFrame(
                {
                    "item_id": item[keep],
                    "annotator": annotator[keep],
                    "dimension": name,
                    "value": labels[code[keep]],
                    "gold_value": gold[keep],
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    frame["item_id"] = "item-" + frame["item_id"].astype(str)
    frame["annotator"] = "ann-" + frame["annotator"].astype(str)
    for column in COLUMNS:
        if column not in frame:
            frame[column] = None
    frame["submitted_at"] = pd.NaT
    for column in ("lead_time_s", "length_a", "length_b"):
        frame[column] = np.nan
    return frame[list(COLUMNS)]


def distinct_panels(rng: np.random.Generator, n_items: int) -> np.ndarray:
    """ANNOTATORS_PER_ITEM distinct annotators per item, redrawing rows with a repeat."""
    panel = rng.integers(0, POOL, size=(n_items, ANNOTATORS_PER_ITEM))
    while True:
        ordered = np.sort(panel, axis=1)
        repeats = np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1))
        if repeats.size == 0:
            return panel
        panel[repeats] = rng.integers(0, POOL, size=(repeats.size, ANNOTATORS_PER_ITEM))


def rubric() -> Rubric:
    return Rubric(
        id="bench",
        version="1",
        changelog="synthetic",
        guidelines="",
        dimensions=(
            Dimension(
                name="overall",
                question="Which response is better?",
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


def best_of(runs: int, fn):  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--judgments", type=int, default=1_000_000)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3, help="alpha timings: best of this many")
    parser.add_argument(
        "--ci-method",
        choices=INTERVAL_METHODS,
        default=DEFAULT_INTERVAL_METHOD,
        help="the report's bootstrap intervals (BCa's jackknife is the difference)",
    )
    args = parser.parse_args()

    import krippendorff  # test/bench-only dependency

    start = time.perf_counter()
    frame = synthetic(args.judgments)
    print(f"built {len(frame):,} judgments in {time.perf_counter() - start:.2f} s", flush=True)

    # The input checks (exact duplicates, label variants, dimensions) alone; the report below
    # runs them too.
    checks_seconds, _ = best_of(args.runs, lambda: check_input(frame, rubric()))
    print(f"input checks: {checks_seconds:.3f} s", flush=True)

    start = time.perf_counter()
    report = build_report(
        frame,
        rubric(),
        options=ReportOptions(resamples=args.resamples, interval_method=args.ci_method),
    )
    report_seconds = time.perf_counter() - start
    overall = report["dimensions"]["overall"]
    print(
        f"report: {report_seconds:.2f} s — overall alpha "
        f"{overall['krippendorff_alpha']['value']:.4f} {overall['krippendorff_alpha']['ci95']}, "
        f"{len(report['annotators'])} annotators, "
        f"{sum(len(p) for p in report['annotator_pairs'].values()):,} annotator pairs",
        flush=True,
    )

    # Alpha alone, ours and the reference, from the same integer codes.
    sub = frame[frame["dimension"] == "helpfulness"]
    unit = pd.factorize(sub["item_id"])[0].astype(np.intp)
    code = (sub["value"].to_numpy(dtype=np.int64) - 1).astype(np.intp)
    n_units, q = int(unit.max()) + 1, 5
    scores = category_scores([1, 2, 3, 4, 5])

    def ours() -> float:
        counts = value_counts(unit, code, n_units=n_units, q=q)
        return float(alpha_from_coincidences(coincidences(counts), "ordinal", scores))

    def reference() -> float:
        counts = np.bincount(unit * q + code, minlength=n_units * q).reshape(n_units, q)
        return float(
            krippendorff.alpha(
                value_counts=counts, level_of_measurement="ordinal", value_domain=[1, 2, 3, 4, 5]
            )
        )

    alpha_seconds, our_alpha = best_of(args.runs, ours)
    reference_seconds, their_alpha = best_of(args.runs, reference)
    if abs(our_alpha - their_alpha) > 1e-9:
        raise SystemExit(f"alpha disagrees with the reference: {our_alpha} vs {their_alpha}")
    print(
        f"ordinal alpha on {len(sub):,} judgments: ours {alpha_seconds * 1000:.1f} ms, "
        f"krippendorff {reference_seconds * 1000:.1f} ms (both {our_alpha:.6f})",
        flush=True,
    )
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "judgments": len(frame),
                "ci_method": args.ci_method,
                "report_seconds": round(report_seconds, 3),
                "input_checks_seconds": round(checks_seconds, 3),
                "alpha_seconds": round(alpha_seconds, 5),
                "reference_alpha_seconds": round(reference_seconds, 5),
                "alpha_speedup": round(reference_seconds / alpha_seconds, 2),
                "peak_rss_mb": round(peak_rss_mb, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
