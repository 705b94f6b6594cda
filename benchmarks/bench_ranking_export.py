"""Time a ranking's consensus and its export as implied pairs.

    python benchmarks/bench_ranking_export.py --rankings 300000

Synthetic data: the rankings of ``bench_rankings.py`` (four responses ranked by 3 annotators of
50, one adjacent swap half of the time, ties in 15%), each item given a prompt and four response
texts. Stages, each timed once: ``consensus_seconds`` :func:`consensus_table` by majority vote
(per-option ranks, implied pairs and the mean-rank ordering), ``export_seconds``
:func:`build_export` (the pairs' consensus, item agreement, filters, rows; no file written). The
last output line is one JSON object: rankings, items, consensus_rows, pairs, non_decisive,
consensus_seconds, export_seconds, peak_rss_mb.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

from bench_rankings import OPTIONS, RUBRIC, synthetic

from connector.consensus import consensus_table
from connector.consensus.export import ExportInput, ExportOptions, build_export
from connector.consensus.texts import ItemText


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rankings", type=int, default=300_000)
    args = parser.parse_args()
    frame = synthetic(args.rankings)
    items = frame["item_id"].unique().tolist()
    texts = {
        str(i): ItemText(
            prompt=f"Prompt {i}",
            response_a=f"Answer a of {i}",
            response_b=f"Answer b of {i}",
            responses=tuple((o, f"Answer {o} of {i}") for o in OPTIONS if o not in ("a", "b")),
        )
        for i in items
    }
    start = time.perf_counter()
    table = consensus_table(frame, RUBRIC, methods=["majority"])
    consensus_seconds = time.perf_counter() - start
    start = time.perf_counter()
    export = build_export(
        ExportInput(frame=frame, rubric=RUBRIC, texts=texts), ExportOptions(exclude_gold=False)
    )
    export_seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "rankings": len(frame),
                "items": len(items),
                "consensus_rows": len(table),
                "pairs": export.pairs,
                "non_decisive": len(export.non_decisive),
                "consensus_seconds": round(consensus_seconds, 3),
                "export_seconds": round(export_seconds, 3),
                "peak_rss_mb": round(peak, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
