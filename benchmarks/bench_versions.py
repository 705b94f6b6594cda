"""What scoring judgments of two rubric versions costs a sync's report: the split by version
(:func:`connector.report.versions.split_by_version`), the headline report of the current
version, and the other version's sections (:func:`~connector.report.versions.version_sections`,
the same bootstrap: 1,000 resamples).

    python benchmarks/bench_versions.py --items 20000

Synthetic judgments: ``--items`` items judged under v1 (four dimensions: a / b / tie
preference, a 1-5 rating, two nominal labels) and as many under v2 (the preference unchanged,
the rating renamed, a label removed, a label re-valued), three annotators each. The last
output line is one JSON object: judgments, split_seconds, headline_seconds, versions_seconds
and versions_share (the other version's sections over the headline).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from connector.judgments import COLUMNS, with_canonical_dtypes
from connector.report.build import ReportOptions, build_report
from connector.report.versions import split_by_version, version_sections
from connector.rubric import Rubric, load_rubric

ANNOTATORS = ("a1", "a2", "a3")
PREFERENCE = (
    "  - name: overall\n    question: Which response is better?\n    kind: preference\n"
    "    values: [a, b, tie]\n    non_decisive: [tie]\n    level: nominal\n"
)


def _label(name: str, question: str, values: str, level: str = "nominal") -> str:
    return (
        f"  - name: {name}\n    question: {question}\n    kind: rating\n"
        f"    values: {values}\n    level: {level}\n"
    )


VERSIONS = {
    1: PREFERENCE
    + _label("helpfulness", "How helpful?", "[1, 2, 3, 4, 5]", "ordinal")
    + _label("safety", "Is it safe?", "[safe, unsafe]")
    + _label("tone", "Which tone?", "[formal, casual]"),
    2: PREFERENCE
    + _label("helpful", "How helpful?", "[1, 2, 3, 4, 5]", "ordinal")
    + _label("tone", "Which tone?", "[formal, informal, mixed]"),
}


def _rubric(folder: Path, version: int) -> Rubric:
    path = folder / f"v{version}.yaml"
    path.write_text(
        f"id: bench\nversion: {version}\nchangelog: v{version}\nguidelines: g\n"
        f"dimensions:\n{VERSIONS[version]}thresholds:\n  target_alpha: 0.8\n"
        "calibration:\n  gold_share: 0.0\n  retest_share: 0.0\n  retest_delay_hours: 1\n"
        "  validation_batch_size: {min: 10, max: 30}\n  annotators_per_item: 3\n"
    )
    return load_rubric(path, check_layout=False)


def _judgments(rubric: Rubric, items: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    rows = []
    for dimension in rubric.dimensions:
        truth = rng.integers(0, len(dimension.values), size=items)
        for annotator in ANNOTATORS:
            noise = rng.random(items) < 0.3
            picked = np.where(noise, rng.integers(0, len(dimension.values), size=items), truth)
            rows += [
                {
                    "item_id": f"v{rubric.version}-{i}",
                    "annotator": annotator,
                    "dimension": dimension.name,
                    "value": dimension.values[int(code)],
                    "rubric_version": rubric.ref,
                }
                for i, code in enumerate(picked)
            ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        v1, v2 = _rubric(Path(folder), 1), _rubric(Path(folder), 2)
    rows = _judgments(v1, args.items, rng) + _judgments(v2, args.items, rng)
    frame = with_canonical_dtypes(
        pd.DataFrame.from_records([dict.fromkeys(COLUMNS) | r for r in rows], columns=COLUMNS)
    )
    options = ReportOptions()
    started = time.perf_counter()
    split = split_by_version(frame, v2, [v1, v2])
    split_seconds = time.perf_counter() - started
    started = time.perf_counter()
    build_report(split.current.reset_index(drop=True), v2, options=options)
    headline_seconds = time.perf_counter() - started
    started = time.perf_counter()
    version_sections(split, options=options)
    versions_seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "judgments": len(frame),
                "split_seconds": round(split_seconds, 3),
                "headline_seconds": round(headline_seconds, 3),
                "versions_seconds": round(versions_seconds, 3),
                "versions_share": round(versions_seconds / headline_seconds, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
