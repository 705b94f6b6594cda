"""The Label Studio demo: a real project, real crowd judgments, four planted faults, the whole loop.

    deploy/label-studio/start.sh            # once: a local Label Studio with 8 demo users
    python scripts/demo.py [--short]        # or simply: make demo

1. creates a Label Studio project whose labeling config is generated from
   rubrics/rlhf-pairwise/v1.yaml (``--short``: the same rubric with a 30 % gold share, so that
   fewer items still give every annotator the 20 gold judgments a decision needs);
2. pushes a calibration batch (UKPConvArg1 argument pairs plus gold; gold answers stay in the
   connector's store; display sides randomised); eight annotators answer it with their own API
   tokens (every gold task by all, other tasks by the rubric's annotators_per_item in rotation):
   four replay the real crowd votes, four carry planted faults (see scripts/demo_faults.py);
3. sync 1: pull, score against gold, decide statuses, push a retraining batch to each annotator
   sent to retraining, write the report back (project description, per-task agreement);
4. pushes a second production batch (answered the same way; the drifting annotator is careless
   now) and the retraining annotators answer the gold tasks of their batches; sync 2; the
   annotators who failed answer their new retraining batch; sync 3 (requalified or suspended);
5. starts ``iaa-connector serve``, registers the project's webhook, posts one new annotation and
   waits until the service's webhook-triggered sync has stored a report with it, then until that
   sync has written back (the task's agreement in Label Studio);
6. exports the training set (``iaa-connector export``: consensus pairs without the flagged
   annotators' votes, the non-decisive sidecar and the dataset card);
7. prints, for each planted fault, whether the connector found it; exit status 1 if one was not
   (or if the webhook step or the export failed).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from demo_faults import ANNOTATORS, answer, verdicts

from connector.calibration.batch import plan_batch
from connector.calibration.gold import load_gold
from connector.calibration.item import Item, load_items
from connector.calibration.push import push_batch, task_key_secret
from connector.config import Config, load_config
from connector.platforms.label_studio.adapter import LabelStudio
from connector.platforms.label_studio.labelconfig import generate_label_config
from connector.rubric import load_rubric
from connector.store import Store
from connector.sync import SyncResult, sync_project

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "label-studio-demo"
RUBRIC = REPO / "rubrics" / "rlhf-pairwise" / "v1.yaml"
DIMENSION = "overall"
CHOICE = {("a", "a"): "left", ("b", "a"): "right", ("a", "b"): "right", ("b", "b"): "left"}
POST_WORKERS = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class Scale:
    """How many items each production batch takes, and the gold share of the rubric used."""

    first: int
    second: int
    gold_share: float | None  # None: the rubric's own
    max_task_writes: int = 500  # the configuration's default


FULL = Scale(first=200, second=150, gold_share=None)
# CI: per-task agreement written for at most 80 tasks a sync (lowest agreement first; the rest
# on later syncs), as a project's max_task_writes allows: the write-back is most of a sync's time
SHORT = Scale(first=50, second=40, gold_share=0.3, max_task_writes=80)


def read_env(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def choice_for(value: str, display_left: str) -> str:
    """The Label Studio choice an annotator clicks for a canonical value."""
    return CHOICE.get((value, display_left), value)


def rubric_file(workdir: Path, scale: Scale) -> Path:
    """The rubric the demo runs under: v1, or for the short demo a copy with more gold."""
    if scale.gold_share is None:
        return RUBRIC
    text = RUBRIC.read_text(encoding="utf-8")
    copy = workdir / "rubrics" / "rlhf-pairwise" / RUBRIC.name
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_text(text.replace("gold_share: 0.10", f"gold_share: {scale.gold_share}"))
    guidelines = RUBRIC.parent / "guidelines-v1.md"
    shutil.copyfile(guidelines, copy.parent / guidelines.name)
    return copy


def write_config(workdir: Path, url: str, project_id: int, rubric: Path, scale: Scale) -> Path:
    config = workdir / "iaa.toml"
    config.write_text(
        f"""# Written by scripts/demo.py
[store]
url = "sqlite:///{workdir / "iaa-connector.db"}"

[reports]
dir = "{workdir / "reports"}"

[server]
webhook_min_interval_seconds = 5

[[platforms]]
name = "local-label-studio"
kind = "label-studio"
url = "{url}"
token_env = "LABEL_STUDIO_TOKEN"

[[projects]]
key = "demo"
platform = "local-label-studio"
project_id = {project_id}
rubric = "{rubric}"
gold = "{DEMO / "gold.jsonl"}"
webhook_secret_env = "IAA_WEBHOOK_SECRET"
data_manager_column = true
max_task_writes = {scale.max_task_writes}
"""
    )
    return config


class TimedLabelStudio(LabelStudio):
    """The connector's adapter, timing each write-back (the demo reports its cost per task)."""

    writes: list[tuple[int, float]]

    def __init__(self, url: str, token: str) -> None:
        super().__init__(url, token)
        self.writes = []

    def write_report(self, project_id: str, **kwargs: Any) -> None:
        started = time.perf_counter()
        super().write_report(project_id, **kwargs)
        self.writes.append((len(kwargs["tasks"]), time.perf_counter() - started))


@dataclass(frozen=True, slots=True, kw_only=True)
class Task:
    """A pushed task as the demo's annotators see it (``kind``: the task's role in its batch,
    production, gold or retest, read from the connector's store to decide who answers it)."""

    task_id: str
    item_key: str
    display_left: str
    kind: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Post:
    task_id: str
    token: str
    choice: str
    lead_time: float


class Annotators:
    """The eight demo annotators: their tokens, names in the connector, and what they answer."""

    def __init__(self, url: str, tokens: Sequence[str], votes: Mapping[str, list[str]]) -> None:
        if len(tokens) < len(ANNOTATORS):
            raise SystemExit(
                f"the demo needs {len(ANNOTATORS)} annotator users, the server has {len(tokens)}: "
                f"restart it with IAA_LS_ANNOTATORS={len(ANNOTATORS)} deploy/label-studio/start.sh"
            )
        self.url = url
        self.tokens = dict(zip(ANNOTATORS, tokens, strict=False))
        self.names = {role: f"annotator{i + 1}@iaa.local" for i, role in enumerate(ANNOTATORS)}
        self.votes = votes
        self.rng = random.Random(7)
        self.posted = 0
        self.local = threading.local()

    def answer_tasks(self, jobs: Sequence[tuple[Task, Sequence[str]]], *, phase: int) -> int:
        """Post each role's answer to its task; return the number of annotations posted."""
        posts = []
        for task, roles in jobs:
            for role in roles:
                # each answer from its own seed (role, phase, item): the same whatever order the
                # tasks come in (task keys, hence the order, differ per installation)
                own = random.Random(f"{role}:{phase}:{task.item_key}")
                value = answer(role, phase, self.votes[task.item_key], task.display_left, own)
                posts.append(
                    Post(
                        task_id=task.task_id,
                        token=self.tokens[role],
                        choice=choice_for(value, task.display_left),
                        lead_time=self.rng.uniform(8, 60),
                    )
                )
        with ThreadPoolExecutor(max_workers=POST_WORKERS) as pool:
            list(pool.map(self.post, posts))
        self.posted += len(posts)
        return len(posts)

    def production(self, tasks: Sequence[Task], per_item: int) -> list[tuple[Task, list[str]]]:
        """Who answers a production batch: every annotator each gold task (each needs gold
        judgments to be decided), ``per_item`` annotators in rotation each other task."""
        jobs, turn = [], 0
        for task in tasks:
            if task.kind == "gold":
                jobs.append((task, list(ANNOTATORS)))
                continue
            jobs.append((task, [ANNOTATORS[(turn + k) % len(ANNOTATORS)] for k in range(per_item)]))
            turn += per_item
        return jobs

    def session(self) -> requests.Session:
        """One keep-alive session per posting thread."""
        session: requests.Session | None = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()
        return session

    def post(self, job: Post) -> None:
        result = [
            {
                "from_name": DIMENSION,
                "to_name": "prompt",
                "type": "choices",
                "value": {"choices": [job.choice]},
            }
        ]
        response = self.session().post(
            f"{self.url}/api/tasks/{job.task_id}/annotations/",
            json={"result": result, "ground_truth": False, "lead_time": job.lead_time},
            headers={"Authorization": f"Token {job.token}"},
            timeout=30,
        )
        response.raise_for_status()


def batch_tasks(store: Store, batch_id: str) -> list[Task]:
    """The tasks of a pushed batch, in the batch's order."""
    sides = store.task_mappings("demo")
    return [
        Task(
            task_id=item.platform_task_id,
            item_key=item.item_key,
            display_left=(sides[item.platform_task_id].display_left or "a"),
            kind=item.role,
        )
        for item in store.batch_items(batch_id)
        if item.platform_task_id
    ]


def retraining_batches(result: SyncResult, names: Mapping[str, str]) -> dict[str, str]:
    """Role → the retraining batch the sync pushed for it."""
    roles = {name: role for role, name in names.items()}
    found = {}
    for change in result.status_changes:
        if change.evidence.get("event") == "batch_assigned":
            state = change.evidence.get("state") or {}
            found[roles[change.annotator]] = str(state.get("batch_id"))
    return found


def show(label: str, result: SyncResult, platform: TimedLabelStudio) -> None:
    alpha = ", ".join(f"{k} α={v:.3f}" for k, v in result.alpha.items() if v is not None)
    n, seconds = platform.writes[-1] if platform.writes else (0, 0.0)
    per_task = f", {1000 * seconds / n:.0f} ms per task" if n else ""
    print(
        f"{label}: {result.created} new judgments, {alpha}; {result.seconds:.1f} s, of which "
        f"write-back {seconds:.1f} s for {n} tasks{per_task}"
    )
    for change in result.status_changes:
        reason = change.evidence.get("reason", "")
        print(f"  {change.describe()}" + ("" if "batch" in change.describe() else f": {reason}"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def service(config_path: Path, env: Mapping[str, str], port: int) -> Iterator[None]:
    """``iaa-connector serve`` (webhooks only, no scheduler) for the demo's last step."""
    command = [sys.executable, "-m", "connector.cli", "serve", "-c", str(config_path)]
    command += ["--port", str(port), "--no-scheduler", "--log-level", "warning"]
    log = (config_path.parent / "serve.log").open("w")
    process = subprocess.Popen(command, env={**os.environ, **env}, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"iaa-connector serve did not start; see {log.name}")
            time.sleep(0.2)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def task_agreement(url: str, admin: str, task_id: str) -> Any:
    task = requests.get(
        f"{url}/api/tasks/{task_id}/", headers={"Authorization": f"Token {admin}"}, timeout=30
    )
    task.raise_for_status()
    return ((task.json().get("meta") or {}).get("iaa") or {}).get("agreement")


def webhook_step(
    config: Config, annotators: Annotators, store: Store, batch_ids: Sequence[str], admin: str
) -> bool:
    """Serve, register the webhook, post one annotation, and wait until the service's sync has
    stored a report with it (found), then until that sync has written back; show the report's
    judgments and alpha and the task's agreement before and after."""
    url = annotators.url
    port = free_port()
    env = {"IAA_API_TOKEN": secrets.token_urlsafe(16)}
    # a gold task of a retraining batch whose agreement is below 1: a correct answer changes it
    tasks = [t for b in batch_ids for t in batch_tasks(store, b) if t.kind == "gold"]
    figures = {t.task_id: task_agreement(url, admin, t.task_id) for t in tasks[:40]}
    task = next(
        (t for t in tasks if (figures.get(t.task_id) or {}).get(DIMENSION, 1.0) < 1.0), tasks[0]
    )
    before = figures.get(task.task_id)
    runs = store.recent_runs("demo", limit=1)
    last_run = runs[0].id if runs else 0
    n_before, alpha_before = report_figures(store)
    with service(config.path, env, port):
        subprocess.run(
            [
                *(sys.executable, "-m", "connector.cli", "webhooks", "install", "demo"),
                *("--url", f"http://127.0.0.1:{port}/webhooks/label-studio/demo"),
                *("-c", str(config.path)),
            ],
            check=True,
        )
        annotators.answer_tasks([(task, ["crowd1"])], phase=2)
        print(f"webhook: crowd1 annotated task {task.task_id}; waiting for the service's sync")
        started = time.monotonic()
        # the report is stored before the per-task write-back, which may take minutes
        n_after, alpha_after = n_before, alpha_before
        while n_after == n_before and time.monotonic() - started < 120:
            time.sleep(0.5)
            n_after, alpha_after = report_figures(store)
        reported = time.monotonic() - started
        if n_after == n_before:
            print(f"webhook: FAILURE: no report with the new judgment within {reported:.0f} s")
            return False
        print(
            f"webhook: the service's sync stored the report {reported:.1f} s after the "
            f"annotation: judgments {n_before} → {n_after}, {DIMENSION} α "
            f"{alpha_before:.4f} → {alpha_after:.4f}; waiting for its per-task write-back"
        )
        synced = None
        while synced is None and time.monotonic() - started < 600:
            time.sleep(1.0)
            synced = next(
                (
                    run
                    for run in store.recent_runs("demo", limit=5)
                    if run.id > last_run and run.finished_at
                ),
                None,
            )
    after = task_agreement(url, admin, task.task_id)
    if synced is None:
        print("webhook: the service's sync did not finish its write-back within 600 s")
    else:
        seconds = ((synced.finished_at or synced.started_at) - synced.started_at).total_seconds()
        print(
            f"webhook: the sync (run {synced.id}, {synced.counts.created} new judgment) took "
            f"{seconds:.1f} s; task {task.task_id} agreement {before} → {after}"
        )
    return n_after == n_before + 1


def export_step(config_path: Path, workdir: Path) -> str | None:
    """``iaa-connector export`` of the synced project, as a user runs it: the consensus pairs
    without the flagged annotators' votes, the sidecar and the dataset card. A one-line summary,
    or ``None`` (after printing why) when it failed or wrote no pair."""
    out = workdir / "pairs.jsonl"
    command = [sys.executable, "-m", "connector.cli", "export", "demo", "-c", str(config_path)]
    done = subprocess.run(
        [*command, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = (done.stdout + done.stderr).splitlines()
    if done.returncode != 0 or not out.is_file() or not out.read_text().strip():
        print(f"iaa-connector export failed ({done.returncode}): {done.stderr or done.stdout}")
        return None
    flagged = next((ln.strip() for ln in lines if "flagged annotators" in ln), "")
    n_pairs = len(out.read_text().splitlines())
    return f"{n_pairs} pairs in {out} ({flagged}); card {out.with_name('pairs.card.md')}"


def report_figures(store: Store) -> tuple[int, float]:
    """Judgments and alpha of the project's latest stored report."""
    stored = store.latest_report("demo")
    if stored is None:
        return 0, float("nan")
    alpha = stored.body["dimensions"][DIMENSION]["krippendorff_alpha"]["value"]
    return int(stored.body["summary"]["n_judgments"]), float("nan" if alpha is None else alpha)


def gold_slices(gold: Sequence[Item], first: int, second: int) -> tuple[list[Item], list[Item]]:
    """Gold for the two production batches, from the end of the gold file, so that retraining
    batches (which take unseen gold from its start) never repeat a production batch's gold."""
    return list(gold[len(gold) - first :]), list(gold[len(gold) - first - second : -first])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    port = os.environ.get("IAA_LS_PORT", "8089")
    default_env = REPO / ".cache" / "label-studio" / f"server-{port}.env"
    parser.add_argument("--env", type=Path, default=default_env, help="start.sh's env file")
    parser.add_argument("--workdir", type=Path, default=REPO / "build" / "demo")
    parser.add_argument("--short", action="store_true", help="same steps, fewer items (CI)")
    args = parser.parse_args()
    started = time.perf_counter()
    scale = SHORT if args.short else FULL
    env = read_env(args.env)
    url, admin = env["LS_URL"], env["LS_ADMIN_TOKEN"]
    os.environ["LABEL_STUDIO_TOKEN"] = admin
    os.environ.setdefault("IAA_WEBHOOK_SECRET", secrets.token_urlsafe(24))
    workdir = args.workdir.resolve()
    if workdir.exists():
        shutil.rmtree(workdir)  # a rerun starts clean (a new project, a new store)
    workdir.mkdir(parents=True)

    rubric_path = rubric_file(workdir, scale)
    rubric = load_rubric(rubric_path)
    created = requests.post(
        f"{url}/api/projects/",
        json={
            "title": "iaa-connector demo: convincing arguments",
            "description": "Argument pairs from UKPConvArg1 (Habernal & Gurevych 2016, CC BY 4.0).",
            "label_config": generate_label_config(rubric),
            "maximum_annotations": len(ANNOTATORS),
        },
        headers={"Authorization": f"Token {admin}"},
        timeout=30,
    )
    created.raise_for_status()
    project_id = int(created.json()["id"])
    config = load_config(write_config(workdir, url, project_id, rubric_path, scale))
    project = config.project("demo")
    platform = TimedLabelStudio(url, admin)
    votes = {
        record["item_key"]: record["votes"]
        for name in ("items.jsonl", "gold.jsonl")
        for record in map(json.loads, (DEMO / name).read_text().splitlines())
    }
    annotators = Annotators(url, env["LS_ANNOTATOR_TOKENS"].split(","), votes)
    items = load_items(DEMO / "items.jsonl", rubric)
    gold = load_gold(DEMO / "gold.jsonl", rubric)
    first_gold, second_gold = gold_slices(gold, 30, 30)
    per_item = rubric.calibration.annotators_per_item

    with Store.open(config.store_url) as store:

        def push(batch: Sequence[Item], batch_gold: Sequence[Item], label: str) -> str:
            plan = plan_batch(
                project_key="demo",
                rubric=rubric,
                kind="production",
                items=batch,
                gold=batch_gold,
                label=label,
                key_secret=task_key_secret(store),
            )
            pushed = push_batch(plan, project, store=store, platform=platform)
            print(
                f"pushed {label} {pushed.batch_id}: {pushed.n_tasks} tasks "
                f"({plan.count('gold')} gold)"
            )
            return pushed.batch_id

        def sync(label: str) -> SyncResult:
            result = sync_project(config, "demo", store=store, platform=platform)
            show(label, result, platform)
            return result

        def retrain(batches: Mapping[str, str]) -> int:
            """Each retraining annotator answers the gold tasks of its batch (only those decide;
            the batch's re-test copies would cost a post each and change no decision)."""
            return annotators.answer_tasks(
                [
                    (task, [role])
                    for role, batch_id in sorted(batches.items())
                    for task in batch_tasks(store, batch_id)
                    if task.kind == "gold"
                ],
                phase=2,
            )

        calibration = push(items[: scale.first], first_gold, "calibration batch")
        n = annotators.answer_tasks(
            annotators.production(batch_tasks(store, calibration), per_item), phase=1
        )
        print(f"  {n} annotations by {len(ANNOTATORS)} annotators")
        result = sync("sync 1")
        pending = retraining_batches(result, annotators.names)

        second = push(items[scale.first : scale.first + scale.second], second_gold, "batch 2")
        n = annotators.answer_tasks(
            annotators.production(batch_tasks(store, second), per_item), phase=2
        )
        n += retrain(pending)
        print(
            f"  {n} annotations (batch 2, and retraining batches of {', '.join(sorted(pending))})"
        )
        result = sync("sync 2")
        retraining = list(pending.values())
        pending = retraining_batches(result, annotators.names)
        n = retrain(pending)
        print(f"  {n} annotations (second retraining batches of {', '.join(sorted(pending))})")
        sync("sync 3")

        webhook_ok = bool(retraining) and webhook_step(config, annotators, store, retraining, admin)
        stored = store.latest_report("demo")
        report = stored.body if stored else {}
        history = {
            name: store.status_history("demo", rubric.id, annotator=name)
            for name in annotators.names.values()
        }

    exported = export_step(config.path, workdir)
    print(f"Label Studio project: {url}/projects/{project_id}/data")
    print(f"full report: {config.reports_dir / 'demo' / 'latest.html'}")
    print(f"configuration for further syncs: {config.path} (iaa-connector sync -c ...)")
    writes = [(n, s) for n, s in platform.writes if n]
    if writes:
        tasks, seconds = sum(n for n, _ in writes), sum(s for _, s in writes)
        print(
            f"write-back: {tasks} task writes in {seconds:.1f} s "
            f"({1000 * seconds / tasks:.0f} ms per task)"
        )
    print(
        f"demo took {time.perf_counter() - started:.0f} s; {annotators.posted} annotations posted"
    )
    found = verdicts(report, history, annotators.names, DIMENSION)
    for verdict in found:
        print(verdict.line())
    print(f"webhook loop: {'FOUND the new annotation' if webhook_ok else 'FAILURE'}")
    print(f"training set: {exported or 'FAILURE'}")
    if not (webhook_ok and exported and all(v.found for v in found)):
        missing = [v.fault for v in found if not v.found] + ([] if webhook_ok else ["webhook"])
        missing += [] if exported else ["export"]
        print(f"demo FAILED: not found: {', '.join(missing)}")
        sys.exit(1)
    print("demo passed: every planted fault was found")


if __name__ == "__main__":
    main()
