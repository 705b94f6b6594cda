"""Time the validation gate of a rubric version on a store with N judgments under the previous
version.

    python benchmarks/bench_gate.py --items 100000

A SQLite store in a temporary directory: ``--items`` items judged under v1 (three annotators
of 30, a 3-value preference and a 5-point rating, 80 % of answers the item's true value) in
production batches of 1,000, then a 100-item validation batch under v2 (the first 100 items,
so they are the matched items of the comparison). Times ``evaluate_gate`` (the validation
judgments, both dimensions' BCa intervals, the comparison with its paired intervals; what
``rubric promote`` and ``GET /gate/{project}`` run) and ``production_push_refusal`` (what every
production push runs). The last output line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from connector.calibration.gate import evaluate_gate
from connector.calibration.promotion import previous_version, production_push_refusal
from connector.rubric import parse_rubric
from connector.store import BatchItemPlan, JudgmentRow, Store, TaskMapping

ANNOTATORS = 30


def _rubric(version: int) -> str:
    return (
        f"id: benchgate\nversion: {version}\nchangelog: v{version}\nguidelines: g{version}\n"
        "dimensions:\n"
        "  - name: overall\n    question: Which response is better\n    kind: preference\n"
        "    values: [a, b, tie]\n    non_decisive: [tie]\n    level: nominal\n"
        "  - name: helpfulness\n    question: How helpful is it\n    kind: rating\n"
        "    values: [1, 2, 3, 4, 5]\n    level: ordinal\n"
        "calibration:\n  gold_share: 0.0\n  retest_share: 0.0\n  annotators_per_item: 3\n"
        "  validation_batch_size: {min: 50, max: 100}\n"
    )


def _fill(store: Store, rubric_hash: str, kind: str, keys: list[str], label: str, seed: int) -> int:
    rng = np.random.default_rng(seed)
    rows: list[JudgmentRow] = []
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        batch_id = f"b-{label}-{start}"
        store.create_batch(
            batch_id=batch_id,
            project_key="p",
            kind=kind,
            rubric_hash=rubric_hash,
            plan=[
                BatchItemPlan(item_key=k, role=kind, position=i, payload_hash="x")
                for i, k in enumerate(chunk)
            ],
        )
        store.map_tasks(
            "p",
            [
                TaskMapping(
                    platform_task_id=f"t-{label}-{key}",
                    item_key=key,
                    kind=kind,
                    batch_id=batch_id,
                    rubric_hash=rubric_hash,
                )
                for key in chunk
            ],
        )
        for key in chunk:
            task = f"t-{label}-{key}"
            truth = (int(key[1:]) % 3, int(key[1:]) % 5 + 1)
            for annotator in rng.choice(ANNOTATORS, size=3, replace=False):
                right = rng.random(2) < 0.8
                overall = "abt"[truth[0] if right[0] else rng.integers(3)]
                rating = truth[1] if right[1] else int(rng.integers(1, 6))
                value = {"a": "a", "b": "b", "t": "tie"}[overall]
                for dimension, answer in (("overall", value), ("helpfulness", rating)):
                    rows.append(
                        JudgmentRow(
                            platform_annotation_id=f"{task}-{annotator}",
                            dimension=dimension,
                            item_key=key,
                            annotator=f"ann{annotator}",
                            value=answer,
                            platform_task_id=task,
                            rubric_hash=rubric_hash,
                        )
                    )
    store.apply_judgments("p", rows)
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="best of this many")
    args = parser.parse_args()
    v1, v2 = parse_rubric(_rubric(1)), parse_rubric(_rubric(2))
    with (
        tempfile.TemporaryDirectory() as directory,
        Store.open(f"sqlite:///{Path(directory) / 'iaa.db'}") as store,
    ):
        store.save_rubric(v1)
        store.save_rubric(v2)
        keys = [f"i{i}" for i in range(args.items)]
        started = time.perf_counter()
        old = _fill(store, v1.content_hash, "production", keys, "v1", 1)
        new = _fill(store, v2.content_hash, "validation", keys[:100], "v2", 2)
        print(f"filled {old + new} judgments in {time.perf_counter() - started:.1f} s")
        gate_times, refusal_times = [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            previous = previous_version(store, "p", v2)
            report = evaluate_gate(store, "p", v2, previous=previous)
            gate_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            refusal = production_push_refusal(store, "p", v2)
            refusal_times.append(time.perf_counter() - started)
        print("\n".join(report.lines()))
        print(
            json.dumps(
                {
                    "judgments_v1": old,
                    "judgments_v2": new,
                    "state": report.state,
                    "gate_seconds": round(min(gate_times), 3),
                    "production_push_check_seconds": round(min(refusal_times), 4),
                    "refused": refusal is not None,
                }
            )
        )


if __name__ == "__main__":
    main()
