"""Write the slices of the public datasets that the tests read from a plain clone.

    python tests/data/public/make_slices.py [SHARED_DATA]

reads ``SHARED_DATA`` (default: ``$IAA_SHARED_DATA`` or ``../shared/data``, as
:func:`public_datasets.shared_data_dir`, scripts/public_datasets.py) and writes, beside this
script, in the same layout:

- ``mt-bench/human_judgments_turn1.jsonl``: the whole file, byte for byte (210 KB);
- ``ukpconvarg1/{arguments,pairs,votes}.jsonl.gz``: the debate ``Ban Plastic Water Bottles``
  (both sides): its pairs, their votes and their arguments, records unchanged, in file order;
- ``squality/human_eval_responses.jsonl``: every passage, question, response and review, without
  the summary texts (``response``) and the highlighted selections (``annotations``).

See tests/data/README.md for sources and licences. ``tests/test_datasets.py`` checks, when the
shared data is present, that these files are what this script makes of it.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
UKP_DEBATE = "Ban Plastic Water Bottles"
MT_BENCH = "mt-bench/human_judgments_turn1.jsonl"
UKP = "ukpconvarg1"
SQUALITY = "squality/human_eval_responses.jsonl"
SQUALITY_DROPPED = ("response", "annotations")

Record = dict[str, Any]


def read_lines(file: Path) -> list[Record]:
    """The JSON objects of a (gzipped) JSON lines file, in order."""
    opener = gzip.open if file.suffix == ".gz" else open
    with opener(file, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def ukpconvarg1_slice(source: Path) -> dict[str, list[Record]]:
    """File name → records of the UKPConvArg1 slice (one debate, both sides)."""
    pairs = [p for p in read_lines(source / UKP / "pairs.jsonl.gz") if p["debate"] == UKP_DEBATE]
    pair_ids = {p["pair_id"] for p in pairs}
    argument_ids = {p["arg1"] for p in pairs} | {p["arg2"] for p in pairs}
    return {
        "arguments.jsonl.gz": [
            a for a in read_lines(source / UKP / "arguments.jsonl.gz") if a["id"] in argument_ids
        ],
        "pairs.jsonl.gz": pairs,
        "votes.jsonl.gz": [
            v for v in read_lines(source / UKP / "votes.jsonl.gz") if v["pair_id"] in pair_ids
        ],
    }


def squality_slice(source: Path) -> list[Record]:
    """SQuALITY's human evaluation without summary texts and highlighted selections."""
    passages = read_lines(source / SQUALITY)
    for passage in passages:
        for responses in passage["questions"].values():
            for response in responses.values():
                response.pop("response", None)
                for review in response["reviews"]:
                    review.pop("annotations", None)
    return passages


def _json_lines(records: list[Record]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


def write(source: Path, target: Path = HERE) -> list[Path]:
    """Write every slice of ``source`` under ``target``; return the files written."""
    written = []
    mt_bench = target / MT_BENCH
    mt_bench.parent.mkdir(parents=True, exist_ok=True)
    mt_bench.write_bytes((source / MT_BENCH).read_bytes())
    written.append(mt_bench)
    (target / UKP).mkdir(parents=True, exist_ok=True)
    for name, records in ukpconvarg1_slice(source).items():
        file = target / UKP / name
        file.write_bytes(gzip.compress(_json_lines(records), mtime=0))
        written.append(file)
    squality = target / SQUALITY
    squality.parent.mkdir(parents=True, exist_ok=True)
    squality.write_bytes(_json_lines(squality_slice(source)))
    written.append(squality)
    return written


def main() -> None:
    sys.path.insert(0, str(HERE.parents[2] / "scripts"))
    from public_datasets import shared_data_dir

    source = Path(sys.argv[1]) if len(sys.argv) > 1 else shared_data_dir()
    for file in write(source):
        print(f"wrote {file.relative_to(HERE)} ({file.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
