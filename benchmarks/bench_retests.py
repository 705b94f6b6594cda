"""Time the re-test figures: intra-annotator kappa per annotator with and without its
bootstrap interval (1,000 resamples of the pairs, BCa), on synthetic re-test pairs.

    python benchmarks/bench_retests.py --pairs 50000 --annotators 500

Pairs of a 1-5 rating (the second judgment within one point of the first), spread evenly over
the annotators, one dimension; the weights are the ordinal level's (linear over ranks). CPU
seconds, best of ``--runs``. The last output line is one JSON object: pairs, annotators,
resamples, kappa_cpu_seconds (no interval), interval_cpu_seconds (pooled and per-annotator
intervals included), per_annotator_ms.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import numpy as np

from connector.metrics.consistency import retest_consistency
from connector.metrics.weights import agreement_weights


def _cpu(run: Callable[[], object], runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=50_000)
    parser.add_argument("--annotators", type=int, default=500)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3, help="best of this many")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    first = rng.integers(0, 5, args.pairs).astype(np.intp)
    second = np.clip(first + rng.integers(-1, 2, args.pairs), 0, 4).astype(np.intp)
    annotator = rng.integers(0, args.annotators, args.pairs).astype(np.intp)
    w = agreement_weights("linear", [1, 2, 3, 4, 5])

    def figures(resamples: int) -> object:
        return retest_consistency(
            first, second, annotator, n_annotators=args.annotators, w=w, resamples=resamples
        )

    plain = _cpu(lambda: figures(0), args.runs)
    with_interval = _cpu(lambda: figures(args.resamples), args.runs)
    print(
        json.dumps(
            {
                "pairs": args.pairs,
                "annotators": args.annotators,
                "resamples": args.resamples,
                "kappa_cpu_seconds": round(plain, 4),
                "interval_cpu_seconds": round(with_interval, 3),
                "per_annotator_ms": round(1000 * (with_interval - plain) / args.annotators, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
