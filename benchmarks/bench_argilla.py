"""Sync against a real Argilla: 2,000 records × 3 submitted responses.

    python benchmarks/bench_argilla.py [--records 2000]

Uses the server named by IAA_ARGILLA_URL / IAA_ARGILLA_API_KEY / IAA_ARGILLA_ANNOTATOR_KEYS, or
starts one with deploy/argilla/start.sh (and stops it afterwards). Builds a dataset from
rubrics/rlhf-pairwise/v1.yaml and its records with three annotators' submitted responses (bulk
API), then times in one run, alternating them ``--rounds`` times (3) because the server's own
time for one read varies by ±30 % from read to read: the plain SDK iteration over the records
with responses (``argilla`` 2.8, ``for record in dataset.records``: its defaults, responses and
suggestions included) and the connector's full sync (pull into a fresh SQLite store, score,
report; no write-back). Then an incremental sync after 10 responses change. The last line is one
JSON object: records, responses, rounds, full_sync_seconds and sdk_read_seconds (medians),
incremental_sync_seconds, sync_to_sdk_ratio (of the medians).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import argilla as rg
import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from argilla_server import ensure_argilla  # noqa: E402

from connector.config import load_config  # noqa: E402
from connector.platforms.argilla.adapter import Argilla  # noqa: E402
from connector.rubric import load_rubric  # noqa: E402
from connector.store import Store  # noqa: E402
from connector.sync import sync_project  # noqa: E402

RUBRIC = REPO / "rubrics" / "rlhf-pairwise" / "v1.yaml"


def build(url: str, key: str, annotator_keys: tuple[str, ...], n: int) -> tuple[str, str, int]:
    headers = {"X-Argilla-Api-Key": key}
    workspace = next(
        w
        for w in requests.get(f"{url}/api/v1/me/workspaces", headers=headers, timeout=30).json()[
            "items"
        ]
        if w["name"] == "iaa"
    )
    users = [
        requests.get(f"{url}/api/v1/me", headers={"X-Argilla-Api-Key": k}, timeout=30).json()["id"]
        for k in annotator_keys[:3]
    ]
    name = f"bench-{uuid.uuid4().hex[:8]}"
    dataset_id = Argilla(url, key).create_dataset(
        name, workspace_id=str(workspace["id"]), rubric=load_rubric(RUBRIC)
    )
    rng = random.Random(0)
    for start in range(0, n, 500):
        items = [
            {
                "external_id": f"r-{i}",
                "fields": {
                    "prompt": f"prompt {i} " * 20,
                    "response_a": "A " * 200,
                    "response_b": "B " * 200,
                },
                "responses": [
                    {
                        "user_id": user,
                        "status": "submitted",
                        "values": {
                            "overall": {"value": rng.choice("ab") if rng.random() < 0.8 else "tie"}
                        },
                    }
                    for user in users
                ],
            }
            for i in range(start, min(n, start + 500))
        ]
        response = requests.post(
            f"{url}/api/v1/datasets/{dataset_id}/records/bulk",
            json={"items": items},
            headers=headers,
            timeout=600,
        )
        response.raise_for_status()
    return dataset_id, name, n * len(users)


def _config(folder: Path, url: str, dataset_id: str) -> Path:
    (folder / "iaa.toml").write_text(
        f'[store]\nurl = "sqlite:///{folder / "iaa.db"}"\n'
        f'[reports]\ndir = "{folder / "reports"}"\n'
        f'[[platforms]]\nname = "ar"\nkind = "argilla"\nurl = "{url}"\n'
        'token_env = "IAA_BENCH_ARGILLA_KEY"\n'
        f'[[projects]]\nkey = "bench"\nplatform = "ar"\nproject_id = "{dataset_id}"\n'
        f'rubric = "{RUBRIC}"\n'
        "write_task_meta = false\n"
    )
    return folder / "iaa.toml"


def _change_responses(url: str, key: str, dataset_id: str, n: int) -> None:
    """Flip the first annotator's answer on the first ``n`` records."""
    headers = {"X-Argilla-Api-Key": key}
    records = requests.get(
        f"{url}/api/v1/datasets/{dataset_id}/records",
        params={"include": "responses", "limit": n},
        headers=headers,
        timeout=30,
    ).json()["items"]
    for record in records:
        response = record["responses"][0]
        value = response["values"]["overall"]["value"]
        requests.put(
            f"{url}/api/v1/responses/{response['id']}",
            json={
                "values": {"overall": {"value": "tie" if value != "tie" else "a"}},
                "status": "submitted",
            },
            headers=headers,
            timeout=30,
        ).raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="SDK read and full sync, alternated this many times; medians are reported",
    )
    args = parser.parse_args()
    server = ensure_argilla()
    try:
        start = time.perf_counter()
        dataset_id, name, n_responses = build(
            server.url, server.owner_api_key, server.annotator_api_keys, args.records
        )
        print(
            f"built dataset {name}: {args.records:,} records, {n_responses:,} responses "
            f"in {time.perf_counter() - start:.1f} s",
            flush=True,
        )
        client = rg.Argilla(api_url=server.url, api_key=server.owner_api_key)
        dataset = client.datasets(name=name, workspace="iaa")
        os.environ["IAA_BENCH_ARGILLA_KEY"] = server.owner_api_key
        platform = Argilla(server.url, server.owner_api_key)
        sdk_runs: list[float] = []
        full_runs: list[float] = []
        with tempfile.TemporaryDirectory() as tmp:
            for round_ in range(1, args.rounds + 1):
                start = time.perf_counter()
                read = sum(len(record.responses) for record in dataset.records)
                sdk_runs.append(time.perf_counter() - start)
                folder = Path(tmp) / f"round-{round_}"
                folder.mkdir()
                config = load_config(_config(folder, server.url, dataset_id))
                with Store.open(config.store_url) as store:
                    start = time.perf_counter()
                    full = sync_project(
                        config, "bench", store=store, platform=platform, write_back=False
                    )
                    full_runs.append(time.perf_counter() - start)
                print(
                    f"round {round_}: plain SDK read {sdk_runs[-1]:.2f} s ({read:,} responses), "
                    f"full sync {full_runs[-1]:.2f} s ({full.created:,} judgments, "
                    f"alpha {full.alpha}), ratio {full_runs[-1] / sdk_runs[-1]:.2f}",
                    flush=True,
                )

            with Store.open(config.store_url) as store:
                time.sleep(config.project("bench").overlap_seconds + 2)
                _change_responses(server.url, server.owner_api_key, dataset_id, 10)
                start = time.perf_counter()
                incremental = sync_project(config, "bench", store=store, platform=platform)
                incremental_seconds = time.perf_counter() - start
            print(
                f"incremental sync after 10 changed responses: {incremental_seconds:.2f} s "
                f"({incremental.updated} judgments updated)",
                flush=True,
            )
    finally:
        server.stop()
    sdk_seconds, full_seconds = statistics.median(sdk_runs), statistics.median(full_runs)
    print(
        f"medians over {args.rounds} rounds: SDK read {sdk_seconds:.2f} s, "
        f"full sync {full_seconds:.2f} s, ratio {full_seconds / sdk_seconds:.2f} (target <= 1.2)"
    )
    print(
        json.dumps(
            {
                "records": args.records,
                "responses": n_responses,
                "rounds": args.rounds,
                "full_sync_seconds": round(full_seconds, 3),
                "incremental_sync_seconds": round(incremental_seconds, 3),
                "sdk_read_seconds": round(sdk_seconds, 3),
                "sync_to_sdk_ratio": round(full_seconds / sdk_seconds, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
