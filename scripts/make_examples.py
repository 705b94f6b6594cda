"""Write the bundled examples from the shared public datasets.

    python scripts/make_examples.py

writes ``examples/mt-bench/judgments.jsonl``: the MT-Bench human judgments (Zheng et al. 2023,
CC BY 4.0) converted by :func:`public_datasets.mt_bench` (scripts/public_datasets.py), one
canonical judgment per line,
sorted by question number, item and annotator, with the columns item_id, annotator, dimension,
value, category, display_left (columns empty throughout are left out). The output is
deterministic: running it twice gives the same bytes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from public_datasets import mt_bench  # noqa: E402

EXAMPLE_COLUMNS = ("item_id", "annotator", "dimension", "value", "category", "display_left")
SORT_KEY = ["question", "item_id", "annotator", "dimension", "display_left", "value"]


def write_mt_bench(target: Path) -> int:
    """Write the MT-Bench example to ``target``; return the number of judgments written."""
    frame = mt_bench()
    columns = [c for c in EXAMPLE_COLUMNS if frame[c].notna().any()]
    ordered = frame[columns].assign(question=frame["item_id"].str.split(":").str[0].astype(int))
    rows = ordered.sort_values(SORT_KEY, kind="stable").to_dict(orient="records")
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="\n") as out:
        for row in rows:
            record = {c: row[c] for c in columns if row[c] is not None}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return len(rows)


def main() -> None:
    target = REPO / "examples" / "mt-bench" / "judgments.jsonl"
    count = write_mt_bench(target)
    print(f"wrote {count} judgments to {target.relative_to(REPO)}")


if __name__ == "__main__":
    main()
