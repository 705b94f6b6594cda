"""The commands that work on the store and the platform (``sync``, ``serve``, ``annotators``):
one clear line and exit status 1 when the store cannot be opened, and ``sync`` under the same
per-project lock as ``serve``.

The platform is a closed port on 127.0.0.1: a sync that gets past the lock starts a run (the
store records it) and then fails to connect, which is all these tests need to tell "synced"
from "not synced".
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from localhost import free_port
from typer.testing import CliRunner

from connector.cli import app
from connector.service.lock import project_lock
from connector.store import Store
from connector.store.runs import ABANDONED_RUN_ERROR

ROOT = Path(__file__).resolve().parents[1]
RUBRIC = ROOT / "rubrics" / "rlhf-pairwise" / "v2.yaml"
ENV = {"IAA_TEST_LS_TOKEN": "ls-token-for-the-cli-tests", "COLUMNS": "200"}

runner = CliRunner()


def write_config(folder: Path, store_url: str) -> Path:
    config = folder / "iaa.toml"
    config.write_text(
        f'[store]\nurl = "{store_url}"\n[reports]\ndir = "{folder / "reports"}"\n'
        "[[platforms]]\n"
        'name = "ls"\nkind = "label-studio"\n'
        f'url = "http://127.0.0.1:{free_port()}"\ntoken_env = "IAA_TEST_LS_TOKEN"\n'
        "[[projects]]\n"
        f'key = "p"\nplatform = "ls"\nproject_id = 7\nrubric = "{RUBRIC}"\n'
        "[[projects]]\n"
        f'key = "q"\nplatform = "ls"\nproject_id = 8\nrubric = "{RUBRIC}"\n',
        encoding="utf-8",
    )
    return config


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path, f"sqlite:///{tmp_path / 'iaa.db'}")


@pytest.fixture
def store(tmp_path: Path, config: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'iaa.db'}") as opened:
        yield opened


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


# --- a store that cannot be opened ----------------------------------------------------------------


COMMANDS = {
    "sync": ["sync"],
    "annotators": ["annotators", "p"],
    "serve": ["serve", "--no-scheduler", "--port", "9"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("where", ["proc", "under_a_file"])
def test_a_store_directory_that_cannot_be_created_is_one_line_and_status_1(
    tmp_path: Path, command: str, where: str
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    directory = "/proc/nope" if where == "proc" else str(blocker)
    config = write_config(tmp_path, f"sqlite:///{directory}/x.db")
    result = runner.invoke(app, [*COMMANDS[command], "-c", str(config)], env=ENV)
    assert result.exit_code == 1, result.output
    (line,) = error_lines(result.output)
    assert "Traceback" not in result.output
    assert line.startswith("error: cannot create the directory")
    assert directory in line
    assert "create it" in line
    assert str(config) in line  # where the URL is set


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_unreachable_postgres_store_never_shows_its_password(
    tmp_path: Path, command: str
) -> None:
    pytest.importorskip("psycopg")
    url = f"postgresql+psycopg://iaa:s3cret-pw-42@127.0.0.1:{free_port()}/iaa"
    config = write_config(tmp_path, url)
    result = runner.invoke(app, [*COMMANDS[command], "-c", str(config)], env=ENV)
    assert result.exit_code == 1, result.output
    (line,) = error_lines(result.output)
    assert "s3cret-pw-42" not in result.output
    assert "postgresql+psycopg://iaa:***@127.0.0.1" in line
    assert "check that the database is up" in line


# --- sync takes the project lock ------------------------------------------------------------------


def test_sync_skips_a_project_another_process_is_syncing(config: Path, store: Store) -> None:
    with project_lock(store, "p") as held:
        assert held
        result = runner.invoke(app, ["sync", "p", "-c", str(config)], env=ENV)
    assert result.exit_code == 1
    assert "project p is being synced by another process" in " ".join(result.output.split())
    assert store.recent_runs("p") == []  # it did not sync


def test_sync_goes_on_with_the_other_projects(config: Path, store: Store) -> None:
    with project_lock(store, "p"):
        result = runner.invoke(app, ["sync", "-c", str(config)], env=ENV)
    assert result.exit_code == 1
    assert store.recent_runs("p") == []
    assert len(store.recent_runs("q")) == 1  # tried (the platform is down, but it ran)


def _hold(url: str, key: str, holding: Any, release: Any) -> None:
    with Store.open(url, migrate=False) as other, project_lock(other, key) as held:
        if held:
            holding.set()
            release.wait(60)


def test_sync_command_beside_a_process_holding_the_lock(
    tmp_path: Path, config: Path, store: Store
) -> None:
    """The real command line in its own process, while another process (as ``serve`` would)
    holds the project's lock file."""
    context = multiprocessing.get_context("spawn")
    holding, release = context.Event(), context.Event()
    holder = context.Process(
        target=_hold, args=(f"sqlite:///{tmp_path / 'iaa.db'}", "p", holding, release)
    )
    holder.start()
    try:
        assert holding.wait(60), "the other process never took the lock"
        result = subprocess.run(
            [sys.executable, "-m", "connector.cli", "sync", "p", "-c", str(config)],
            env={**os.environ, **ENV},
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        release.set()
        holder.join(30)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "project p is being synced by another process" in result.stderr
    assert "Traceback" not in result.stderr
    assert store.recent_runs("p") == []


def test_sync_wait_takes_the_lock_once_it_is_free(config: Path, store: Store) -> None:
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with project_lock(store, "p"):
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(10)
    threading.Timer(1.5, release.set).start()
    started = time.monotonic()
    result = runner.invoke(app, ["sync", "p", "--wait", "20", "-c", str(config)], env=ENV)
    thread.join()
    assert time.monotonic() - started >= 1.0  # it waited
    assert "being synced by another process" not in result.output
    assert len(store.recent_runs("p")) == 1  # then it synced (and the platform was down)


def test_sync_marks_runs_left_by_a_killed_process_abandoned(config: Path, store: Store) -> None:
    killed = store.start_run("ls", "p")  # a sync whose process was killed
    other = store.start_run("ls", "q")  # another project's: not touched
    runner.invoke(app, ["sync", "p", "-c", str(config)], env=ENV)
    closed = store.get_run(killed)
    assert closed is not None
    assert closed.finished_at is not None
    assert closed.error == ABANDONED_RUN_ERROR
    untouched = store.get_run(other)
    assert untouched is not None
    assert untouched.finished_at is None
    (newest, _) = store.recent_runs("p")
    assert newest.id != killed
    assert newest.error != ABANDONED_RUN_ERROR  # the new run ends with its own error


def test_sync_help_documents_the_lock() -> None:
    result = runner.invoke(app, ["sync", "--help"], env={"COLUMNS": "200"})
    text = " ".join(result.output.split())
    assert "being synced by another process" in text
    assert "--wait" in text
