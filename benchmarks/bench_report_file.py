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
read_csv_seconds, ratio_to_read_csv, peak_rss_mb, cli_start_seconds, and the same in CPU
seconds (report_cpu_seconds: the child's user + system time; read_csv_cpu_seconds;
ratio_cpu), which a machine shared with other work moves less than wall time. ``--stages``
adds the CPU seconds of loading (load_cpu_seconds), building the report (build_cpu_seconds)
and writing its JSON (json_cpu_seconds), run in this process.
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


def read_with_pandas(path: Path, file_format: str) -> tuple[float, float]:
    """Best of three: pandas' own reader on ``path``, default options (wall and CPU seconds)."""
    best, best_cpu = float("inf"), float("inf")
    for _ in range(3):
        start, start_cpu = time.perf_counter(), time.process_time()
        if file_format == "csv":
            pd.read_csv(path, low_memory=False)
        elif file_format == "parquet":
            pd.read_parquet(path)
        else:
            pd.read_json(path, lines=True)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    return best, best_cpu


def stages(path: Path) -> dict[str, float]:
    """CPU seconds of the command's stages, run in this process as ``report`` runs them."""
    from connector.cli import _distinct
    from connector.judgments import load_judgments
    from connector.report.build import build_report
    from connector.report.json_text import report_json
    from connector.rubric import default_rubric_for

    seconds: dict[str, float] = {}
    start = time.process_time()
    frame = load_judgments(path).frame
    seconds["load_cpu_seconds"] = time.process_time() - start
    start = time.process_time()
    observed = {str(n): _distinct(g["value"]) for n, g in frame.groupby("dimension")}
    report = build_report(frame, default_rubric_for(observed))
    seconds["build_cpu_seconds"] = time.process_time() - start
    start = time.process_time()
    report_json(report)
    seconds["json_cpu_seconds"] = time.process_time() - start
    return {k: round(v, 3) for k, v in seconds.items()}


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
    parser.add_argument(
        "--stages", action="store_true", help="also time loading, report and JSON in-process"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-report-file-") as tmp:
        directory = args.keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        path = judgments_file(args.judgments, directory, args.format)
        rows = sum(1 for _ in path.open("rb")) - 1 if args.format != "parquet" else None
        size_mb = path.stat().st_size / 2**20
        print(f"wrote {path} ({size_mb:.0f} MB) in {time.perf_counter() - start:.1f} s", flush=True)

        read_seconds, read_cpu = read_with_pandas(path, args.format)
        print(f"pandas read: {read_seconds:.2f} s ({read_cpu:.2f} s CPU)", flush=True)

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
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_rss_mb = children.ru_maxrss / 1024
        report_cpu = children.ru_utime + children.ru_stime
        report = json.loads(out.read_text(encoding="utf-8"))
        judged = int(report["summary"]["n_judgments"])
        if rows is not None and judged != rows:
            raise SystemExit(f"the report counts {judged:,} judgments, the file has {rows:,}")
        print(
            f"iaa-connector report: {report_seconds:.2f} s ({report_cpu:.2f} s CPU), "
            f"{judged:,} judgments",
            flush=True,
        )
        start_seconds = cli_start_seconds()
        split = stages(path) if args.stages else {}
        if split:
            print(f"in-process stages (CPU s): {split}", flush=True)
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
                "report_cpu_seconds": round(report_cpu, 3),
                "read_csv_cpu_seconds": round(read_cpu, 3),
                "ratio_cpu": round(report_cpu / read_cpu, 2),
                **split,
            }
        )
    )


if __name__ == "__main__":
    main()
