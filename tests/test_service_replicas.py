"""Two replicas of ``iaa-connector serve`` against one PostgreSQL never sync a project at once.

Both run the scheduler every 0.6 s on the same real Label Studio project; the PostgreSQL
advisory lock per project lets one sync while the other skips. The stored sync runs prove it:
no two runs of the project overlap in time.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from labelstudio_server import LabelStudioServer
from localhost import free_port
from sqlalchemy import text
from test_labelstudio_loop import Loop, _choice, _items

from connector.store import Store

pytestmark = [pytest.mark.labelstudio, pytest.mark.postgres]


def test_two_replicas_never_sync_the_same_project_at_once(
    label_studio: LabelStudioServer, postgres_url: str, tmp_path: Path
) -> None:
    loop = Loop(label_studio, tmp_path)  # a project with a few judgments to sync
    loop.push(_items("x", 3))
    for task in loop.tasks():
        loop.annotate(label_studio.annotator_tokens[0], str(task["id"]), _choice("left"))
    loop.store.close()
    key = f"replica-{tmp_path.name[-12:]}"
    config = tmp_path / "replicas.toml"
    config.write_text(
        loop.config.path.read_text()
        .replace(f'url = "sqlite:///{tmp_path / "iaa.db"}"', f'url = "{postgres_url}"')
        .replace('key = "p"', f'key = "{key}"')
        + "sync_interval_minutes = 0.01\n"
    )
    replicas = []
    ports = [free_port(), free_port()]
    locked = synced = 0.0
    try:
        for port in ports:
            replicas.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "connector.cli",
                        "serve",
                        "-c",
                        str(config),
                        "--port",
                        str(port),
                        "--log-level",
                        "warning",
                    ],
                    env={**os.environ, "IAA_API_TOKEN": "iaa-replicas-api-token"},
                )
            )
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                        break
                except requests.RequestException:
                    time.sleep(0.2)
        time.sleep(20)  # first runs after 5 s, then every 0.6 s on both
        for port in ports:
            for line in requests.get(
                f"http://127.0.0.1:{port}/metrics",
                headers={"Authorization": "Bearer iaa-replicas-api-token"},
                timeout=5,
            ).text.splitlines():
                if line.startswith("iaa_sync_runs_total{") and f'project="{key}"' in line:
                    value = float(line.rsplit(" ", 1)[1])
                    if 'outcome="locked"' in line:
                        locked += value
                    elif 'outcome="synced"' in line:
                        synced += value
    finally:
        for replica in replicas:
            replica.send_signal(signal.SIGTERM)
        for replica in replicas:
            replica.wait(timeout=30)
    with Store.open(postgres_url) as store, store.engine.connect() as connection:
        runs = connection.execute(
            text(
                "SELECT started_at, finished_at FROM sync_runs WHERE project_key = :key "
                "AND finished_at IS NOT NULL ORDER BY started_at"
            ),
            {"key": key},
        ).all()
        judgments = connection.execute(
            text("SELECT count(*) FROM judgments WHERE project_key = :key AND deleted_at IS NULL"),
            {"key": key},
        ).scalar_one()
    assert len(runs) >= 4, f"expected several scheduled syncs, got {len(runs)}"
    assert locked >= 1, "the replicas never contended: the test proves nothing"
    assert synced >= 1  # (more may finish between the scrape and the shutdown)
    for earlier, later in itertools.pairwise(runs):
        assert later.started_at >= earlier.finished_at, "two syncs of the project overlapped"
    assert judgments == 3  # applied once, whichever replica synced
