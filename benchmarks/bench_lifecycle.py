"""Time the annotator lifecycle's decisions on N synthetic judgments (every dimension decides).

    python benchmarks/bench_lifecycle.py --judgments 1000000

The table is bench_metrics.py's (500 annotators, 5 per item, a preference and a 5-point rating,
10% of items gold). Times ``first_decisions`` (what the offline report runs) and ``decide_all``
from stored states (what a sync runs: everyone qualified since their 20th gold judgment, so the
per-dimension CUSUM charts run). The last output line is one JSON object: judgments,
gold_judgments, annotators, first_decisions_seconds, decide_all_seconds, transitions.
"""

from __future__ import annotations

import argparse
import json

from bench_metrics import best_of, rubric, synthetic

from connector.quality.lifecycle import StatusState, decide_all, first_decisions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--judgments", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="best of this many")
    args = parser.parse_args()

    frame = synthetic(args.judgments)
    rules = rubric()
    gold = int(frame["gold_value"].notna().sum())
    names = sorted(frame["annotator"].astype(str).unique())
    first_seconds, first = best_of(args.runs, lambda: first_decisions(frame, rules))
    print(f"first_decisions: {first_seconds:.3f} s, {len(first)} decisions", flush=True)
    qualified = {name: StatusState(annotator=name, status="qualified", since=20) for name in names}
    all_seconds, moved = best_of(args.runs, lambda: decide_all(frame, qualified, rules))
    print(f"decide_all (qualified): {all_seconds:.3f} s, {len(moved)} transitions", flush=True)
    print(
        json.dumps(
            {
                "judgments": len(frame),
                "gold_judgments": gold,
                "annotators": len(names),
                "first_decisions_seconds": round(first_seconds, 4),
                "decide_all_seconds": round(all_seconds, 4),
                "transitions": len(moved),
            }
        )
    )


if __name__ == "__main__":
    main()
