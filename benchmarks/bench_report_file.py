"""Time ``iaa-connector report`` on a judgments file, as a user runs it, against pandas reading
the same file.

    python benchmarks/bench_report_file.py --judgments 1000000 [--format csv|parquet|jsonl]

The file holds the synthetic judgments of ``bench_metrics.py`` (a / b / tie preference and a
1-5 rating, 5 annotators per item from a pool of 500, 10% gold) with the columns a real export
carries: ``category``, ``submitted_at`` (ISO 8601 with a UTC offset), ``lead_time_s``. The
command is run as a subprocess (``iaa-connector report FILE --json OUT``: start-up, reading,
validation, the report with 1,000 bootstrap resamples and writing the JSON), its wall time taken
from outside; its peak memory is ``ru_maxrss`` of the finished child
(``resource.getrusage(RUSAGE_CHILDREN)``). The yardstick is ``pandas.read_csv`` (or
``read_parquet``, ``read_json(lines=True)``) of the same file in this process, best of three.
``cli_start_seconds`` is ``iaa-connector --version``, best of five.

The last output line is one JSON object: judgments, format, file_mb, report_seconds,
read_csv_seconds, ratio_to_read_csv, peak_rss_mb, cli_start_seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_metrics import synthetic

CATEGORIES = np.array(["coding", "writing", "reasoning", "math", "roleplay", "extraction"])


def judgments_file(n_judgments: int, directory: Path, file_format: str) -> Path:
    """Write about ``n_judgments`` canonical judgments to ``directory`` and return the path."""
    frame = synthetic(n_judgments)
    rng = np.random.default_rng(1)
    items = frame["item_id"].str.slice(5).astype(np.int64).to_numpy()
    frame["category"] = CATEGORIES[items % CATEGORIES.size]
    start = np.datetime64("2024-03-01T00:00:00", "s")
    seconds = rng.integers(0, 90 * 86_400, len(frame))
    stamps = pd.Series(start + seconds.astype("timedelta64[s]")).dt.strftime("%Y-%m-%dT%H:%M:%S")
    frame["submitted_at"] = stamps + "+00:00"
    frame["lead_time_s"] = np.round(rng.gamma(2.0, 30.0, len(frame)), 1)
    frame = frame.drop(columns=["length_a", "length_b", "display_left", "rubric_version", "batch"])
    path = directory / f"judgments.{file_format}"
    if file_format == "csv":
        frame.to_csv(path, index=False)
    elif file_format == "parquet":
        frame.astype({"value": str, "gold_value": "string"}).to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True)
    return path


def read_with_pandas(path: Path, file_format: str) -> float:
    """Best of three: pandas' own reader on ``path``, default options."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        if file_format == "csv":
            pd.read_csv(path)
        elif file_format == "parquet":
            pd.read_parquet(path)
        else:
            pd.read_json(path, lines=True)
        best = min(best, time.perf_counter() - start)
    return best


def command() -> list[str]:
    found = shutil.which("iaa-connector", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "connector.cli"]


def cli_start_seconds() -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([*command(), "--version"], check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--judgments", type=int, default=1_000_000)
    parser.add_argument("--format", choices=("csv", "parquet", "jsonl"), default="csv")
    parser.add_argument("--keep", type=Path, help="write the file here and keep it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-report-file-") as tmp:
        directory = args.keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        path = judgments_file(args.judgments, directory, args.format)
        rows = sum(1 for _ in path.open("rb")) - 1 if args.format != "parquet" else None
        size_mb = path.stat().st_size / 2**20
        print(f"wrote {path} ({size_mb:.0f} MB) in {time.perf_counter() - start:.1f} s", flush=True)

        read_seconds = read_with_pandas(path, args.format)
        print(f"pandas read: {read_seconds:.2f} s", flush=True)

        out = Path(tmp) / "report.json"
        start = time.perf_counter()
        done = subprocess.run(
            [*command(), "report", str(path), "--json", str(out)],
            capture_output=True,
            text=True,
            env={**os.environ},
        )
        report_seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"iaa-connector report failed ({done.returncode}):\n{done.stderr}")
        peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        report = json.loads(out.read_text(encoding="utf-8"))
        judged = int(report["summary"]["n_judgments"])
        if rows is not None and judged != rows:
            raise SystemExit(f"the report counts {judged:,} judgments, the file has {rows:,}")
        print(f"iaa-connector report: {report_seconds:.2f} s, {judged:,} judgments", flush=True)
        start_seconds = cli_start_seconds()
    print(
        json.dumps(
            {
                "judgments": judged,
                "format": args.format,
                "file_mb": round(size_mb, 1),
                "report_seconds": round(report_seconds, 3),
                "read_csv_seconds": round(read_seconds, 3),
                "ratio_to_read_csv": round(report_seconds / read_seconds, 2),
                "peak_rss_mb": round(peak_rss_mb, 1),
                "cli_start_seconds": round(start_seconds, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
