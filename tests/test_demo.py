"""The shortened demo (``scripts/demo.py --short``) from a clean clone, against a real Label
Studio, and the project page it leaves behind, checked in headless Chromium.

The repository's committed HEAD is cloned into a fresh directory and the demo runs from there
(its own ``connector`` package first on the path), so nothing uncommitted or generated in this
checkout can make it pass. Every planted fault must be reported found from the connector's own
outputs; the project page must show the agreement section of the description and the agreement
column. With ``IAA_DEMO_SCREENSHOTS=DIR`` the same run saves the docs' screenshots into DIR.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from chromium import Chromium, chromium_binary
from labelstudio_server import LabelStudioServer, ensure_label_studio

pytestmark = pytest.mark.labelstudio

REPO = Path(__file__).resolve().parents[1]
ADMIN_EMAIL, PASSWORD = "admin@iaa.local", "iaa-ls-password"  # deploy/label-studio/start.sh
DEMO_TIMEOUT_S = 900


@dataclass(frozen=True, slots=True)
class DemoRun:
    output: str
    returncode: int
    server: LabelStudioServer
    project_id: int


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    root = tmp_path_factory.mktemp("demo")
    clone = root / "clone"
    head = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(REPO), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", head], check=True)
    server = ensure_label_studio(annotators=8)
    try:
        env_file = root / "server.env"
        env_file.write_text(
            f"LS_URL={server.url}\nLS_ADMIN_TOKEN={server.admin_token}\n"
            f"LS_ANNOTATOR_TOKENS={','.join(server.annotator_tokens)}\n"
        )
        run = subprocess.run(
            [
                *(sys.executable, "scripts/demo.py", "--short"),
                *("--env", str(env_file), "--workdir", str(root / "work")),
            ],
            cwd=clone,
            env={**os.environ, "PYTHONPATH": str(clone)},
            capture_output=True,
            text=True,
            timeout=DEMO_TIMEOUT_S,
            check=False,
        )
        output = run.stdout + run.stderr
        (root / "demo.log").write_text(output)
        found = re.search(r"/projects/(\d+)/data", run.stdout)
        assert found, f"the demo printed no project link:\n{output}"
        yield DemoRun(
            output=run.stdout,
            returncode=run.returncode,
            server=server,
            project_id=int(found.group(1)),
        )
    finally:
        server.stop()


def verdict(run: DemoRun, fault: str) -> str:
    lines = [
        line for line in run.output.splitlines() if line.startswith(f"planted fault {fault!r}")
    ]
    assert len(lines) == 1, f"no single verdict line for {fault!r}:\n{run.output}"
    return lines[0]


@pytest.mark.parametrize("fault", ["left", "random", "drift", "tie"])
def test_planted_fault_is_found(demo: DemoRun, fault: str) -> None:
    line = verdict(demo, fault)
    assert ": FOUND: " in line, line


def test_a_fault_not_found_fails_the_demo(demo: DemoRun) -> None:
    """The exit status says whether every fault (and the webhook step) was found."""
    missed = [f for f in ("left", "random", "drift", "tie") if "NOT FOUND" in verdict(demo, f)]
    assert (demo.returncode != 0) == bool(missed), demo.output
    if missed:
        assert f"demo FAILED: not found: {', '.join(missed)}" in demo.output


def test_the_whole_loop_ran(demo: DemoRun) -> None:
    """Calibration batch, retraining batches answered (one annotator requalified, others
    suspended), the drift alarm, and a webhook-triggered sync by ``iaa-connector serve``."""
    out = demo.output
    assert "pushed calibration batch" in out
    assert re.search(r"annotator6@iaa\.local: retraining → qualified: passed retraining batch", out)
    assert re.search(r"annotator7@iaa\.local: retraining → suspended: failed retraining batch", out)
    assert re.search(r"annotator5@iaa\.local: qualified → probation: gold drift alarm", out)
    assert "webhook loop: FOUND the new annotation" in out
    found = re.search(
        r"webhook: the service's sync stored the report .*judgments (\d+) → (\d+)", out
    )
    assert found, out
    assert int(found.group(2)) == int(found.group(1)) + 1


def _logged_in_session(url: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{url}/user/login/", timeout=30).raise_for_status()
    answer = session.post(
        f"{url}/user/login/",
        data={
            "email": ADMIN_EMAIL,
            "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""),
        },
        headers={"Referer": f"{url}/user/login/"},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, answer.text[:300]
    assert "sessionid" in session.cookies
    return session


def test_project_page_in_chromium(demo: DemoRun) -> None:
    if chromium_binary() is None:
        message = "chromium is not installed (.ci/run installs it: apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    url = demo.server.url
    session = _logged_in_session(url)
    shots = os.environ.get("IAA_DEMO_SCREENSHOTS")
    with Chromium() as browser:
        browser.set_cookies(url, session.cookies)
        data = browser.open(
            f"{url}/projects/{demo.project_id}/data",
            wait_for=("iaa_agreement_overall", "iaa-connector demo"),
        )
        # the column holds the per-task figures: some cell shows a number between 0 and 1
        assert re.search(r"^(0(\.\d+)?|1(\.0+)?)$", data, re.MULTILINE), data[:1000]
        if shots:
            browser.scroll_right()  # the agreement column is the table's last
            browser.screenshot(Path(shots) / "label-studio-data-manager.png")
        settings = browser.open(
            f"{url}/projects/{demo.project_id}/settings",
            wait_for=("――― agreement (iaa-connector) ―――", "overall: alpha"),
        )
        assert "Inter-annotator agreement — iaa-connector, rubric rlhf-pairwise@v1" in settings
        section = settings.split("――― agreement (iaa-connector) ―――")[1]
        section = section.split("――― end of agreement ―――")[0]
        assert not re.search(r"annotator\d|@iaa\.local", section), (
            f"the section names an annotator: {section}"
        )
        if shots:
            browser.screenshot(Path(shots) / "label-studio-description.png")


def test_the_training_set_leaves_out_the_suspended_annotators(demo: DemoRun) -> None:
    """The demo's last step exports the synced project (``iaa-connector export``): pairs, and a
    card saying the suspended annotators' votes were left out."""
    found = re.search(
        r"training set: (\d+) pairs in (\S+) \(left out (\d+) judgments: flagged annotators' "
        r"votes\); card (\S+)",
        demo.output,
    )
    assert found, demo.output
    n_pairs, pairs, n_left_out, card = found.groups()
    assert int(n_pairs) > 0
    assert int(n_left_out) > 0
    rows = [json.loads(line) for line in Path(pairs).read_text().splitlines()]
    assert len(rows) == int(n_pairs)
    assert all(r["chosen"] != r["rejected"] and r["rubric_id"] == "rlhf-pairwise" for r in rows)
    assert re.search(r"^\| suspended \| \d+ \| no \|$", Path(card).read_text(), re.MULTILINE)
