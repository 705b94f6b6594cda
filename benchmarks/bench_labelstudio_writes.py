"""Per-task writes against a real Label Studio: what a bounded pool of writers gains.

    python benchmarks/bench_labelstudio_writes.py [--tasks 224] [--workers 1 2 4 8] [--rounds 2]

Uses the server named by IAA_LS_URL / IAA_LS_ADMIN_TOKEN / IAA_LS_ANNOTATOR_TOKENS, or starts
one with deploy/label-studio/start.sh (and stops it afterwards). Imports ``--tasks`` tasks into a
new project, then, for each pool size, writes per-task agreement into every task's meta with the
connector's own write-back (:meth:`LabelStudio.write_report`, pool size ``WRITE_WORKERS``; one
PATCH per task, the task's state known from a pull as in a sync) and posts one annotation per
task with the same number of concurrent clients (what the demo's annotators do). Pool sizes
alternate over ``--rounds`` rounds; each line is one JSON object: workers, round, tasks,
meta_write_seconds, meta_ms_per_task, annotation_seconds, annotation_ms_per_task.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from labelstudio_server import ensure_label_studio  # noqa: E402

import connector.platforms.label_studio.adapter as adapter  # noqa: E402
from connector.platforms.base import TaskAgreement  # noqa: E402
from connector.platforms.label_studio import parse  # noqa: E402
from connector.platforms.label_studio.adapter import LabelStudio  # noqa: E402
from connector.platforms.label_studio.labelconfig import generate_label_config  # noqa: E402
from connector.rubric import load_rubric  # noqa: E402

RUBRIC = REPO / "rubrics" / "rlhf-pairwise" / "v1.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=224)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    server = ensure_label_studio(annotators=1)
    try:
        admin = {"Authorization": f"Token {server.admin_token}"}
        annotator = {"Authorization": f"Token {server.annotator_tokens[0]}"}
        project = requests.post(
            f"{server.url}/api/projects/",
            json={
                "title": "bench: per-task writes",
                "label_config": generate_label_config(load_rubric(RUBRIC)),
                "maximum_annotations": 100,
            },
            headers=admin,
            timeout=30,
        ).json()["id"]
        tasks = [
            {
                "data": {
                    "prompt": f"p{i}",
                    "response_left": "a",
                    "response_right": "b",
                    "key": str(i),
                }
            }
            for i in range(args.tasks)
        ]
        requests.post(
            f"{server.url}/api/projects/{project}/import", json=tasks, headers=admin, timeout=120
        ).raise_for_status()
        listed = requests.get(
            f"{server.url}/api/tasks/",
            params={"project": project, "page_size": args.tasks, "fields": "all"},
            headers=admin,
            timeout=60,
        ).json()["tasks"]
        ids = [str(t["id"]) for t in listed]
        result = [{"from_name": "overall", "to_name": "prompt", "type": "choices"}]

        def annotate(task_id: str) -> None:
            body = {"result": [{**result[0], "value": {"choices": ["left"]}}], "lead_time": 5.0}
            requests.post(
                f"{server.url}/api/tasks/{task_id}/annotations/",
                json=body,
                headers=annotator,
                timeout=30,
            ).raise_for_status()

        for round_ in range(args.rounds):
            for workers in args.workers:
                platform = LabelStudio(server.url, server.admin_token)
                adapter.WRITE_WORKERS = workers
                for task in listed:  # as after a pull: the sync writes tasks it has just read
                    ident, meta, data = parse.task_state(task)
                    platform._seen[ident] = (meta, data)
                figure = 0.1 * (round_ + 1) + 0.01 * workers  # a new value: every write changes
                updates = [
                    TaskAgreement(
                        task_id=t, agreement={"overall": figure}, n_judgments={"overall": 2}
                    )
                    for t in ids
                ]
                started = time.perf_counter()
                platform.write_report(str(project), summary="bench", tasks=updates, column=True)
                meta = time.perf_counter() - started
                started = time.perf_counter()
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    list(pool.map(annotate, ids))
                posts = time.perf_counter() - started
                print(
                    json.dumps(
                        {
                            "workers": workers,
                            "round": round_,
                            "tasks": len(ids),
                            "meta_write_seconds": round(meta, 2),
                            "meta_ms_per_task": round(1000 * meta / len(ids), 1),
                            "annotation_seconds": round(posts, 2),
                            "annotation_ms_per_task": round(1000 * posts / len(ids), 1),
                        }
                    ),
                    flush=True,
                )
        requests.delete(f"{server.url}/api/projects/{project}/", headers=admin, timeout=60)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
