"""Sync against a real Label Studio: a 5,000-task × 3-annotation project.

    python benchmarks/bench_labelstudio.py [--tasks 5000]

Uses the server named by IAA_LS_URL / IAA_LS_ADMIN_TOKEN / IAA_LS_ANNOTATOR_TOKENS, or starts
one with deploy/label-studio/start.sh (and stops it afterwards). Builds the project with the
bulk import API (annotations by three annotator users, ``ground_truth: false``), then times, in
one run: the connector's full initial sync (pull into a fresh SQLite store, score, report; no
write-back), the server's own synchronous JSON export of the same project, and an incremental
sync after 10 tasks change (pull, store, score, report, summary written into the project
description). Per-task agreement written into task meta costs one PATCH per task (~0.1 s on
1.23.2, whatever the client does), so it is timed apart, on the 10 changed tasks. The last line
is one JSON object: tasks, annotations, initial_sync_seconds, export_seconds,
sync_to_export_ratio, incremental_sync_seconds, task_meta_write_seconds_per_task.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from labelstudio_server import ensure_label_studio  # noqa: E402

from connector.config import load_config  # noqa: E402
from connector.platforms.base import TaskAgreement  # noqa: E402
from connector.platforms.label_studio.adapter import LabelStudio  # noqa: E402
from connector.platforms.label_studio.labelconfig import generate_label_config  # noqa: E402
from connector.rubric import load_rubric  # noqa: E402
from connector.store import Store  # noqa: E402
from connector.sync import sync_project  # noqa: E402

RUBRIC = REPO / "rubrics" / "rlhf-pairwise" / "v1.yaml"
CHOICES = ("left", "right", "tie")


def result(choice: str) -> list[dict[str, object]]:
    return [
        {
            "from_name": "overall",
            "to_name": "prompt",
            "type": "choices",
            "value": {"choices": [choice]},
        }
    ]


def build_project(url: str, headers: dict[str, str], n_tasks: int) -> tuple[int, int]:
    rubric = load_rubric(RUBRIC)
    project = requests.post(
        f"{url}/api/projects/",
        json={
            "title": "bench",
            "label_config": generate_label_config(rubric),
            "maximum_annotations": 3,
        },
        headers=headers,
        timeout=60,
    ).json()
    users = requests.get(f"{url}/api/users/", headers=headers, timeout=60).json()
    annotators = [u["id"] for u in users if str(u["email"]).startswith("annotator")][:3]
    rng = random.Random(0)
    for start in range(0, n_tasks, 500):
        tasks = [
            {
                "data": {
                    "prompt": f"prompt {i} " * 20,
                    "response_left": "L " * 200,
                    "response_right": "R " * 200,
                },
                "annotations": [
                    {
                        "completed_by": user,
                        "ground_truth": False,
                        "lead_time": 12.0,
                        "result": result(rng.choice(CHOICES)),
                    }
                    for user in annotators
                ],
            }
            for i in range(start, min(n_tasks, start + 500))
        ]
        response = requests.post(
            f"{url}/api/projects/{project['id']}/import", json=tasks, headers=headers, timeout=600
        )
        response.raise_for_status()
    return int(project["id"]), n_tasks * len(annotators)


def write_config(folder: Path, url: str, project_id: int) -> Path:
    path = folder / "iaa.toml"
    path.write_text(
        f'[store]\nurl = "sqlite:///{folder / "iaa.db"}"\n[reports]\ndir = "{folder / "reports"}"\n'
        f'[[platforms]]\nname = "ls"\nkind = "label-studio"\nurl = "{url}"\n'
        'token_env = "IAA_BENCH_TOKEN"\n'
        f'[[projects]]\nkey = "bench"\nplatform = "ls"\nproject_id = {project_id}\n'
        f'rubric = "{RUBRIC}"\n'
        "write_task_meta = false\n"
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=5000)
    args = parser.parse_args()
    server = ensure_label_studio()
    try:
        headers = server.headers(server.admin_token)
        start = time.perf_counter()
        project_id, n_annotations = build_project(server.url, headers, args.tasks)
        built = time.monotonic()
        print(
            f"built project {project_id}: {args.tasks:,} tasks, {n_annotations:,} annotations "
            f"in {time.perf_counter() - start:.1f} s",
            flush=True,
        )

        start = time.perf_counter()
        exported = requests.get(
            f"{server.url}/api/projects/{project_id}/export",
            params={"exportType": "JSON"},
            headers=headers,
            timeout=600,
        ).json()
        export_seconds = time.perf_counter() - start
        print(f"server JSON export: {export_seconds:.2f} s ({len(exported):,} tasks)", flush=True)

        os.environ["IAA_BENCH_TOKEN"] = server.admin_token
        with tempfile.TemporaryDirectory() as tmp:
            config = load_config(write_config(Path(tmp), server.url, project_id))
            platform = LabelStudio(server.url, server.admin_token)
            overlap = config.project("bench").overlap_seconds
            # The incremental sync re-reads whatever changed within the overlap window before
            # the initial sync's cursor: let the build age past it, so that the incremental
            # figure is the cost of the 10 changes alone.
            time.sleep(max(0.0, overlap + 1 - (time.monotonic() - built)))
            with Store.open(config.store_url) as store:
                start = time.perf_counter()
                initial = sync_project(
                    config, "bench", store=store, platform=platform, write_back=False
                )
                initial_seconds = time.perf_counter() - start
                print(
                    f"initial sync: {initial_seconds:.2f} s, {initial.created:,} judgments, "
                    f"alpha {initial.alpha}",
                    flush=True,
                )

                time.sleep(overlap + 1)
                tasks = exported[:10]
                for task in tasks:
                    mine = next(
                        a
                        for a in task["annotations"]
                        if a["completed_by"] == task["annotations"][0]["completed_by"]
                    )
                    new = "tie" if mine["result"][0]["value"]["choices"][0] != "tie" else "left"
                    requests.patch(
                        f"{server.url}/api/annotations/{mine['id']}/",
                        json={"result": result(new)},
                        headers=headers,
                        timeout=60,
                    ).raise_for_status()
                start = time.perf_counter()
                incremental = sync_project(config, "bench", store=store, platform=platform)
                incremental_seconds = time.perf_counter() - start
                print(
                    f"incremental sync after 10 changed tasks: {incremental_seconds:.2f} s "
                    f"({incremental.tasks_seen} tasks read, {incremental.updated} updated)",
                    flush=True,
                )
                changed = [str(t["id"]) for t in tasks]
                start = time.perf_counter()
                platform.write_report(
                    str(project_id),
                    summary="benchmark",
                    tasks=[TaskAgreement(task_id=t, agreement=0.5, n_judgments=3) for t in changed],
                    column=False,
                )
                per_task = (time.perf_counter() - start) / len(changed)
                print(
                    f"per-task agreement write-back: {per_task * 1000:.0f} ms per task", flush=True
                )
    finally:
        server.stop()
    print(
        json.dumps(
            {
                "tasks": args.tasks,
                "annotations": n_annotations,
                "initial_sync_seconds": round(initial_seconds, 3),
                "export_seconds": round(export_seconds, 3),
                "sync_to_export_ratio": round(initial_seconds / export_seconds, 3),
                "incremental_sync_seconds": round(incremental_seconds, 3),
                "task_meta_write_seconds_per_task": round(per_task, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
