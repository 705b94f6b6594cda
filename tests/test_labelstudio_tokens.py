"""Personal Access Tokens against a real Label Studio 1.23.2 with legacy tokens disabled.

A server of its own (module scope): the organization's legacy tokens are turned off through the
real API (``POST /api/jwt/settings`` as the admin), the way an administrator does in the
organization settings, and on again at the end. The PATs are those ``start.sh`` made for each
user with ``POST /api/token/``; one test rotates one (``POST /api/token/rotate/``), so on a server
of your own (``IAA_LS_URL``) annotator 2's PAT in ``IAA_LS_ANNOTATOR_PATS`` is replaced.

Measured there: an access token lives 300 s; the server answers an expired access token and one
with a wrong signature with the same 401, so the tests force a 401 with a token whose signature
is wrong and an expiry by moving the adapter's clock past the token's lifetime.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from labelstudio_server import LabelStudioServer, ensure_label_studio

from connector.platforms.base import NewTask, PlatformError, TaskAgreement
from connector.platforms.label_studio.adapter import LabelStudio
from connector.platforms.label_studio.auth import LabelStudioAuth, TokenKind
from connector.platforms.label_studio.labelconfig import generate_label_config
from connector.rubric import load_rubric

pytestmark = pytest.mark.labelstudio

REPO = Path(__file__).resolve().parents[1]
RUBRIC = load_rubric(REPO / "rubrics" / "rlhf-pairwise" / "v1.yaml")
ACCESS_LIFETIME_S = 300.0  # simplejwt's default, which Label Studio 1.23.2 keeps (measured)


def _access(url: str, pat: str) -> str:
    """An access token for ``pat``, straight from the server (not through the connector)."""
    answer = requests.post(f"{url}/api/token/refresh/", json={"refresh": pat}, timeout=10)
    assert answer.status_code == 200, answer.status_code
    return str(answer.json()["access"])


def _bearer(url: str, pat: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {_access(url, pat)}"}


def _jwt_settings(url: str, pat: str, **values: bool) -> dict[str, Any]:
    """The organization's token settings, changed by ``values`` (as the admin, by PAT)."""
    if values:
        answer = requests.post(
            f"{url}/api/jwt/settings", json=values, headers=_bearer(url, pat), timeout=10
        )
    else:
        answer = requests.get(f"{url}/api/jwt/settings", headers=_bearer(url, pat), timeout=10)
    assert answer.status_code == 200, answer.status_code
    settings: dict[str, Any] = answer.json()
    return settings


def _auth(platform: LabelStudio) -> LabelStudioAuth:
    auth = platform.client.auth
    assert isinstance(auth, LabelStudioAuth)
    return auth


def _secrets(server: LabelStudioServer) -> list[str]:
    return [server.admin_token, *server.annotator_tokens, server.admin_pat, *server.annotator_pats]


@pytest.fixture(scope="module")
def server() -> Iterator[LabelStudioServer]:
    """A Label Studio of this module's own, with PATs, legacy tokens disabled while it runs."""
    server = ensure_label_studio(annotators=2)
    try:
        if not server.admin_pat or len(server.annotator_pats) < 2:
            pytest.fail(
                "this server has no Personal Access Tokens: set IAA_LS_ADMIN_PAT and "
                "IAA_LS_ANNOTATOR_PATS (two annotators), or unset IAA_LS_URL"
            )
        before = _jwt_settings(server.url, server.admin_pat)
        _jwt_settings(server.url, server.admin_pat, legacy_api_tokens_enabled=False)
        try:
            yield server
        finally:
            _jwt_settings(
                server.url,
                server.admin_pat,
                api_tokens_enabled=True,
                legacy_api_tokens_enabled=bool(before["legacy_api_tokens_enabled"]),
            )
    finally:
        server.stop()


@pytest.fixture(scope="module")
def project(server: LabelStudioServer) -> Iterator[str]:
    """A project whose form matches the rubric, made by the admin through the API."""
    headers = _bearer(server.url, server.admin_pat)
    created = requests.post(
        f"{server.url}/api/projects/",
        json={"title": "PAT test", "label_config": generate_label_config(RUBRIC)},
        headers=headers,
        timeout=30,
    )
    assert created.status_code == 201, created.status_code
    project_id = str(created.json()["id"])
    try:
        yield project_id
    finally:
        requests.delete(
            f"{server.url}/api/projects/{project_id}/",
            headers=_bearer(server.url, server.admin_pat),
            timeout=30,
        )


def test_legacy_tokens_really_are_disabled(server: LabelStudioServer) -> None:
    """The premise of the other tests: the server refuses the legacy tokens that work elsewhere."""
    answer = requests.get(
        f"{server.url}/api/current-user/whoami",
        headers={"Authorization": f"Token {server.admin_token}"},
        timeout=10,
    )
    assert answer.status_code == 401
    assert "legacy token authentication has been disabled" in answer.json()["detail"]


def test_pat_runs_the_loop_with_legacy_tokens_disabled(
    server: LabelStudioServer, project: str
) -> None:
    """check_project, create_tasks, pull and write_report (4 threads) all work with a PAT."""
    platform = LabelStudio(server.url, server.admin_pat)
    assert _auth(platform).kind is TokenKind.PAT
    platform.check_project(project, RUBRIC)
    before = datetime.now(UTC) - timedelta(minutes=1)
    tasks = [
        NewTask(key=f"pat-{i}", prompt=f"Q{i}?", response_a="A", response_b="B", display_left="a")
        for i in range(8)
    ]
    ids = platform.create_tasks(project, tasks, created_after=before)
    assert sorted(ids) == sorted(t.key for t in tasks)
    pages = list(platform.pull(project, RUBRIC, since=None, display_left={}))
    assert sum(len(page.judgments) for page in pages) == 0
    platform.write_report(
        project,
        summary="written with a Personal Access Token",
        tasks=[
            TaskAgreement(task_id=i, agreement={"overall": 0.5}, n_judgments={"overall": 2})
            for i in ids.values()
        ],
        column=False,
    )
    description = platform.project(project, max_age_s=0)["description"]
    assert "written with a Personal Access Token" in description
    task = requests.get(
        f"{server.url}/api/tasks/{ids['pat-3']}/",
        headers=_bearer(server.url, server.admin_pat),
        timeout=10,
    ).json()
    assert task["meta"]["iaa"] == {"agreement": {"overall": 0.5}, "n_judgments": {"overall": 2}}
    assert _auth(platform).refreshes == 1  # one access token served every call above


@pytest.mark.parametrize(
    ("which", "reason"),
    [("admin", "legacy tokens are disabled on this server"), ("unknown", "knows no such")],
)
def test_legacy_token_gets_a_message_naming_the_token_kind(
    server: LabelStudioServer, project: str, which: str, reason: str
) -> None:
    token = server.admin_token if which == "admin" else "0123456789abcdef0123456789abcdef01234567"
    platform = LabelStudio(server.url, token, retries=0)
    with pytest.raises(PlatformError) as caught:
        platform.check_project(project, RUBRIC)
    message = str(caught.value)
    assert caught.value.status == 401
    assert not caught.value.transient
    assert "legacy API token" in message
    assert reason in message
    assert "Personal Access Token" in message
    assert token not in message
    # none of the server's own answer: its detail, its request id, its JSON
    assert "Invalid token" not in message
    assert "no longer valid" not in message
    assert "status_code" not in message
    assert "{" not in message


def test_access_token_is_renewed_before_it_expires(server: LabelStudioServer, project: str) -> None:
    platform = LabelStudio(server.url, server.annotator_pats[0])
    auth = _auth(platform)
    platform.project(project, max_age_s=0)
    first = auth.headers()["Authorization"]
    assert auth.refreshes == 1

    auth.clock = lambda: time.monotonic() + (ACCESS_LIFETIME_S - 60)
    platform.project(project, max_age_s=0)
    assert auth.refreshes == 1  # a minute before expiry: still the same token
    assert auth.headers()["Authorization"] == first

    auth.clock = lambda: time.monotonic() + (ACCESS_LIFETIME_S - 20)
    platform.project(project, max_age_s=0)
    assert auth.refreshes == 2  # within the 30 s margin: renewed before the request
    renewed = auth.headers()["Authorization"]
    assert renewed != first
    requests.get(
        f"{server.url}/api/current-user/whoami", headers={"Authorization": renewed}, timeout=10
    ).raise_for_status()


def test_stale_access_tokens_cause_one_refresh_across_threads(
    server: LabelStudioServer, project: str
) -> None:
    """Four threads (write-back's pool) find the token expired at once: one exchange."""
    platform = LabelStudio(server.url, server.annotator_pats[0])
    auth = _auth(platform)
    platform.project(project, max_age_s=0)
    auth.clock = lambda: time.monotonic() + ACCESS_LIFETIME_S
    barrier = threading.Barrier(4)

    def read(_: int) -> str:
        barrier.wait()
        return str(platform.client.request("GET", f"/api/projects/{project}/")["id"])

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(read, range(4))) == [project] * 4
    assert auth.refreshes == 2


def test_a_401_to_the_access_token_refreshes_once_and_retries(
    server: LabelStudioServer, project: str
) -> None:
    platform = LabelStudio(server.url, server.annotator_pats[0], retries=0)
    auth = _auth(platform)
    platform.project(project, max_age_s=0)
    assert auth.refreshes == 1
    # What the server says about an access token it no longer takes (expired early, revoked
    # signing key): 401, although our clock says it is valid. A wrong signature gets that 401.
    header, payload, _ = auth.headers()["Authorization"].removeprefix("Bearer ").split(".")
    auth._access = f"{header}.{payload}.{'A' * 43}"
    assert platform.project(project, max_age_s=0)["id"] == int(project)
    assert auth.refreshes == 2


def test_pat_on_a_server_with_pats_disabled_is_explained(
    server: LabelStudioServer, project: str
) -> None:
    """Refreshed once on the 401, then a message naming the kind; no endless refreshing."""
    _jwt_settings(
        server.url, server.admin_pat, api_tokens_enabled=False, legacy_api_tokens_enabled=True
    )
    try:
        platform = LabelStudio(server.url, server.annotator_pats[0], retries=0)
        with pytest.raises(PlatformError) as caught:
            platform.check_project(project, RUBRIC)
    finally:
        requests.post(
            f"{server.url}/api/jwt/settings",
            json={"api_tokens_enabled": True, "legacy_api_tokens_enabled": False},
            headers={"Authorization": f"Token {server.admin_token}"},
            timeout=10,
        ).raise_for_status()
    message = str(caught.value)
    assert caught.value.status == 401
    assert "Personal Access Token" in message
    assert "Personal Access Tokens are disabled on this server" in message
    assert "credentials were not provided" not in message
    assert server.annotator_pats[0] not in message
    assert _auth(platform).refreshes == 2


def test_revoked_pat_is_explained_and_its_successor_works(
    server: LabelStudioServer, project: str
) -> None:
    old = server.annotator_pats[1]
    rotated = requests.post(
        f"{server.url}/api/token/rotate/",
        json={"refresh": old},
        headers=_bearer(server.url, old),
        timeout=10,
    )
    assert rotated.status_code == 200, rotated.status_code
    new = str(rotated.json()["refresh"])

    with pytest.raises(PlatformError) as caught:
        LabelStudio(server.url, old, retries=0).check_project(project, RUBRIC)
    message = str(caught.value)
    assert caught.value.status == 401
    assert "Personal Access Token" in message
    assert "revoked" in message
    assert "blacklisted" not in message
    assert old not in message

    LabelStudio(server.url, new).check_project(project, RUBRIC)


def test_no_token_reaches_the_log(
    server: LabelStudioServer, project: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    platform = LabelStudio(server.url, server.admin_pat, retries=0)
    auth = _auth(platform)
    platform.check_project(project, RUBRIC)
    seen.append(auth.headers()["Authorization"].removeprefix("Bearer "))
    auth.clock = lambda: time.monotonic() + ACCESS_LIFETIME_S
    platform.check_project(project, RUBRIC)
    seen.append(auth.headers()["Authorization"].removeprefix("Bearer "))
    with pytest.raises(PlatformError):
        LabelStudio(server.url, server.admin_token, retries=0).check_project(project, RUBRIC)
    assert auth.refreshes == 2
    assert "obtained an access token" in caplog.text  # the refreshes were logged...
    assert "/api/token/refresh/" in caplog.text  # ...and so were the requests (urllib3)
    for secret in [*_secrets(server), *seen]:
        assert secret not in caplog.text  # ...without any token
        assert secret[-20:] not in caplog.text
