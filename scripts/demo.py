"""The Label Studio demo: a real project, real crowd judgments, the connector's whole loop.

    deploy/label-studio/start.sh            # once: a local Label Studio with demo users
    python scripts/demo.py                  # or simply: make demo

1. creates a Label Studio project whose labeling config is generated from
   rubrics/rlhf-pairwise/v1.yaml;
2. pushes a calibration batch: 200 argument pairs from UKPConvArg1 plus gold items at the
   rubric's 10% (gold answers stay in the connector's store), display sides randomised;
3. replays the real crowd votes of each pair as the first annotators (their own API tokens),
   and lets the last one answer at random: the careless annotator the gold items should catch;
4. runs one sync: pull, score against gold, write the report into the project description and
   per-task agreement into task meta, and the full HTML report to disk.
"""

from __future__ import annotations

import argparse
import json
import os
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from connector.calibration.batch import plan_batch
from connector.calibration.gold import load_gold
from connector.calibration.item import load_items
from connector.calibration.push import push_batch, task_key_secret
from connector.config import load_config
from connector.platforms.label_studio.adapter import LabelStudio
from connector.platforms.label_studio.labelconfig import generate_label_config
from connector.rubric import load_rubric
from connector.store import Store
from connector.sync import sync_project

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "label-studio-demo"
RUBRIC = REPO / "rubrics" / "rlhf-pairwise" / "v1.yaml"
SIDE_TO_CHOICE = {("a", "a"): "left", ("b", "a"): "right", ("a", "b"): "right", ("b", "b"): "left"}


def read_env(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def choice_for(value: str, display_left: str) -> str:
    """The Label Studio choice an annotator clicks for a canonical value."""
    return SIDE_TO_CHOICE.get((value, display_left), value)


def write_config(workdir: Path, url: str, project_id: int) -> Path:
    config = workdir / "iaa.toml"
    config.write_text(
        f"""# Written by scripts/demo.py
[store]
url = "sqlite:///{workdir / "iaa-connector.db"}"

[reports]
dir = "{workdir / "reports"}"

[[platforms]]
name = "local-label-studio"
kind = "label-studio"
url = "{url}"
token_env = "LABEL_STUDIO_TOKEN"

[[projects]]
key = "demo"
platform = "local-label-studio"
project_id = {project_id}
rubric = "{RUBRIC}"
gold = "{DEMO / "gold.jsonl"}"
webhook_secret_env = "IAA_WEBHOOK_SECRET"
"""
    )
    return config


def annotate(url: str, tokens: list[str], tasks: list[tuple[str, str, list[str]]]) -> int:
    """Post each task's real crowd votes as the first annotators, and random answers as the last
    one (the careless annotator the gold items should catch)."""
    rng = random.Random(7)
    posts = []
    for task_id, display_left, votes in tasks:
        answers = [*votes[: len(tokens) - 1], rng.choice(["a", "b", "tie"])]
        for token, value in zip(tokens, answers, strict=False):
            choice = choice_for(value, display_left)
            posts.append((task_id, token, choice, rng.uniform(8, 60)))

    def post(job: tuple[str, str, str, float]) -> None:
        task_id, token, choice, lead_time = job
        result = [
            {
                "from_name": "overall",
                "to_name": "prompt",
                "type": "choices",
                "value": {"choices": [choice]},
            }
        ]
        response = requests.post(
            f"{url}/api/tasks/{task_id}/annotations/",
            json={"result": result, "ground_truth": False, "lead_time": lead_time},
            headers={"Authorization": f"Token {token}"},
            timeout=30,
        )
        response.raise_for_status()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(post, posts))
    return len(posts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    port = os.environ.get("IAA_LS_PORT", "8089")
    default_env = REPO / ".cache" / "label-studio" / f"server-{port}.env"
    parser.add_argument("--env", type=Path, default=default_env, help="start.sh's env file")
    parser.add_argument("--workdir", type=Path, default=REPO / "build" / "demo")
    args = parser.parse_args()
    env = read_env(args.env)
    url, admin = env["LS_URL"], env["LS_ADMIN_TOKEN"]
    annotators = env["LS_ANNOTATOR_TOKENS"].split(",")[:5]
    os.environ["LABEL_STUDIO_TOKEN"] = admin
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "iaa-connector.db").unlink(missing_ok=True)

    rubric = load_rubric(RUBRIC)
    created = requests.post(
        f"{url}/api/projects/",
        json={
            "title": "iaa-connector demo: convincing arguments",
            "description": "Argument pairs from UKPConvArg1 (Habernal & Gurevych 2016, CC BY 4.0).",
            "label_config": generate_label_config(rubric),
            "maximum_annotations": 5,
        },
        headers={"Authorization": f"Token {admin}"},
        timeout=30,
    )
    created.raise_for_status()
    project_id = int(created.json()["id"])
    config = load_config(write_config(workdir, url, project_id))
    project = config.project("demo")
    platform = LabelStudio(url, admin)
    votes = {
        record["item_key"]: record["votes"]
        for name in ("items.jsonl", "gold.jsonl")
        for record in map(json.loads, (DEMO / name).read_text().splitlines())
    }
    with Store.open(config.store_url) as store:
        plan = plan_batch(
            project_key="demo",
            rubric=rubric,
            kind="production",
            items=load_items(DEMO / "items.jsonl", rubric),
            gold=load_gold(DEMO / "gold.jsonl", rubric),
            key_secret=task_key_secret(store),
        )
        pushed = push_batch(plan, project, store=store, platform=platform)
        print(f"pushed batch {pushed.batch_id}: {pushed.n_tasks} tasks ({plan.count('gold')} gold)")
        tasks = [
            (item.platform_task_id, item_side, votes[item.item_key])
            for item, item_side in (
                (item, store.task_mappings("demo")[item.platform_task_id].display_left or "a")
                for item in store.batch_items(pushed.batch_id)
                if item.platform_task_id
            )
        ]
        print(
            f"posted {annotate(url, annotators, tasks)} annotations by {len(annotators)} annotators"
        )
        result = sync_project(config, "demo", store=store, platform=platform)
    alpha = ", ".join(f"{k} α={v:.3f}" for k, v in result.alpha.items() if v is not None)
    print(f"sync: {result.created} judgments, {alpha}, {result.seconds:.2f} s")
    for change in result.status_changes:
        print(f"  {change.describe()}")
    print(f"Label Studio project: {url}/projects/{project_id}/data")
    print(f"full report: {result.report_path}")
    print(f"configuration for further syncs: {workdir / 'iaa.toml'} (iaa-connector sync -c ...)")


if __name__ == "__main__":
    main()
