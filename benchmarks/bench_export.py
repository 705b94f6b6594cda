"""Time the reward-model export on N synthetic judgments.

    python benchmarks/bench_export.py --judgments 1000000

Synthetic data: the judgments of ``bench_metrics.py`` (items judged by 5 of 500 annotators of
unequal skill, a 3-value preference dimension and a 5-point rating, 10% missing, 10% of items
gold), each item given a short prompt and two responses. Stages, each timed once (one run: the
export is a batch job, not a loop): ``input_seconds`` the export's input (statuses from the gold
by the lifecycle, gold items), ``build_seconds`` :func:`build_export` (consensus by majority
vote, item agreement, filters, rows; margin from confidence), ``write_seconds`` the JSON Lines
rows, the sidecar and the dataset card (whose report, 1,000 bootstrap resamples, is most of
it). The last output line is one JSON object: judgments, items, pairs, non_decisive,
input_seconds, build_seconds, write_seconds, export_seconds (the three), peak_rss_mb.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import tempfile
import time
from pathlib import Path

from bench_metrics import rubric, synthetic

from connector.consensus.export import ExportOptions, build_export
from connector.consensus.export_files import write_export
from connector.consensus.export_source import export_input
from connector.consensus.texts import ItemText


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--judgments", type=int, default=1_000_000)
    args = parser.parse_args()

    frame = synthetic(args.judgments)
    chosen = rubric()
    items = frame["item_id"].unique().tolist()
    texts = {
        item: ItemText(prompt=f"Prompt of {item}?", response_a=f"A {item}", response_b=f"B {item}")
        for item in items
    }
    start = time.perf_counter()
    given = dataclasses.replace(export_input(frame, chosen), texts=texts)
    built = time.perf_counter()
    export = build_export(given, ExportOptions(margin="confidence"))
    written = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        write_export(export, Path(folder) / "pairs.jsonl")
        done = time.perf_counter()
    result = {
        "judgments": len(frame),
        "items": len(items),
        "pairs": export.pairs,
        "non_decisive": len(export.non_decisive),
        "input_seconds": round(built - start, 2),
        "build_seconds": round(written - built, 2),
        "write_seconds": round(done - written, 2),
        "export_seconds": round(done - start, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
