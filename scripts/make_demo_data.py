"""Write the Label Studio demo's items and gold files from UKPConvArg1 (real crowd data).

    python scripts/make_demo_data.py

Source: Habernal & Gurevych (2016), "Which argument is more convincing?", ACL; UKPConvArg1,
CC BY 4.0 (../shared/data/ukpconvarg1). An item is a pair of arguments on one debate side;
the prompt asks which is more convincing; each item keeps its real crowd votes (``votes``, in
canonical a/b/tie) so the demo can replay them as annotators. Gold items are pairs on which all
five crowd workers and the authors' MACE estimate agree. Deterministic: the same bytes every run.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter, defaultdict
from pathlib import Path

from public_datasets import shared_data_dir

OUT = Path(__file__).resolve().parents[1] / "examples" / "label-studio-demo"
N_ITEMS, N_GOLD, MAX_CHARS = 350, 90, 600
SIDE = {"a1": "a", "a2": "b", "equal": "tie"}


def _lines(name: str) -> list[dict[str, object]]:
    with gzip.open(shared_data_dir() / "ukpconvarg1" / name, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def main() -> None:
    arguments = {str(a["id"]): str(a["text"]) for a in _lines("arguments.jsonl.gz")}
    votes: dict[str, list[str]] = defaultdict(list)
    for vote in _lines("votes.jsonl.gz"):
        votes[str(vote["pair_id"])].append(SIDE[str(vote["value"])])
    pairs = sorted(_lines("pairs.jsonl.gz"), key=lambda p: str(p["pair_id"]))
    short = [
        p
        for p in pairs
        if max(len(arguments[str(p["arg1"])]), len(arguments[str(p["arg2"])])) <= MAX_CHARS
    ]
    gold, items = [], []
    for pair in short:
        counts = Counter(votes[str(pair["pair_id"])])
        value, top = counts.most_common(1)[0]
        record = {
            "item_key": str(pair["pair_id"]),
            "category": str(pair["topic"]),
            "prompt": f"Debate: {pair['debate']}. Which argument is more convincing?",
            "response_a": arguments[str(pair["arg1"])],
            "response_b": arguments[str(pair["arg2"])],
            "votes": votes[str(pair["pair_id"])],
        }
        unanimous = top == counts.total() >= 5 and value != "tie"
        if unanimous and SIDE.get(str(pair["mace_gold"])) == value and len(gold) < N_GOLD:
            gold.append({**record, "answers": {"overall": value}})
        elif not unanimous and len(items) < N_ITEMS:
            items.append(record)
        if len(gold) >= N_GOLD and len(items) >= N_ITEMS:
            break
    for name, rows in (("items.jsonl", items), ("gold.jsonl", gold)):
        text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)
        (OUT / name).write_text(text, encoding="utf-8")
        print(f"wrote {len(rows)} rows to {OUT / name}")


if __name__ == "__main__":
    main()
