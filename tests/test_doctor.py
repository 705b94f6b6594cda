"""``iaa-connector doctor``: one test per finding, what it says and the exit status.

Platform findings run against a real Label Studio (marked ``labelstudio``); unreachable is a
closed local port; store findings use real SQLite stores at each migration state.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import requests
from labelstudio_server import LabelStudioServer
from sqlalchemy import text
from typer.testing import CliRunner

from connector.cli import app
from connector.doctor import Finding, diagnose, exit_status, render
from connector.platforms.label_studio.labelconfig import generate_label_config
from connector.rubric import load_rubric
from connector.store import Store
from connector.store import migrate as migrations

REPO = Path(__file__).resolve().parents[1]
V1 = REPO / "rubrics" / "rlhf-pairwise" / "v1.yaml"
V2 = REPO / "rubrics" / "rlhf-pairwise" / "v2.yaml"
SECRET = "doctor-test-value-never-shown-7f3a"
HEAD = migrations.head_revision()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(
    tmp_path: Path,
    *,
    url: str = "http://127.0.0.1:9",
    project_id: int | str = 1,
    rubric: Path = V1,
    store: str = "sqlite:///state/iaa.db",
    reports: str = "reports",
    extra_project: str = "",
    public_url: str = "http://127.0.0.1:8765",
) -> Path:
    path = tmp_path / "iaa.toml"
    path.write_text(
        f"""
[store]
url = "{store}"
[reports]
dir = "{reports}"
[server]
public_url = "{public_url}"
[[platforms]]
name = "ls"
kind = "label-studio"
url = "{url}"
token_env = "IAA_DOCTOR_LS_TOKEN"
timeout_s = 5
[[projects]]
key = "pairwise"
platform = "ls"
project_id = {project_id}
rubric = "{rubric}"
{extra_project}
""",
        encoding="utf-8",
    )
    return path


def _only(findings: list[Finding], subject: str) -> list[Finding]:
    return [f for f in findings if f.subject == subject]


def _one(findings: list[Finding], subject: str) -> Finding:
    found = _only(findings, subject)
    assert len(found) == 1, render(findings)
    return found[0]


# --- configuration and secrets ------------------------------------------------------------------


def test_a_missing_configuration_is_the_only_finding_and_says_how_to_make_one(
    tmp_path: Path,
) -> None:
    findings = diagnose(tmp_path / "nope.toml", env={})
    assert [f.subject for f in findings] == ["config"]
    assert findings[0].status == "FAIL"
    assert "iaa-connector init" in findings[0].message
    assert exit_status(findings) == 1


def test_an_invalid_configuration_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "iaa.toml"
    path.write_text('[store]\nurl = "sqlite:///x.db"\nbogus = 1\n', encoding="utf-8")
    (finding,) = diagnose(path, env={})
    assert finding.status == "FAIL"
    assert "store.bogus" in finding.message


def test_each_secret_variable_is_reported_set_or_not_never_its_value(tmp_path: Path) -> None:
    path = _config(tmp_path, extra_project='webhook_secret_env = "IAA_DOCTOR_HOOK"')
    env = {"IAA_DOCTOR_LS_TOKEN": SECRET, "IAA_API_TOKEN": SECRET + "2"}
    findings = diagnose(path, env=env, timeout_s=1)
    assert _one(findings, "env IAA_DOCTOR_LS_TOKEN").status == "ok"
    hook = _one(findings, "env IAA_DOCTOR_HOOK")
    assert hook.status == "FAIL"
    assert "not set" in hook.message
    assert "EnvironmentFile" in hook.message
    assert SECRET not in render(findings)


def test_the_api_token_unset_is_a_problem_that_says_how_to_make_one(tmp_path: Path) -> None:
    findings = diagnose(_config(tmp_path), env={}, timeout_s=1)
    token = _one(findings, "api token")
    assert token.status == "FAIL"
    assert "IAA_API_TOKEN is not set" in token.message
    assert "secrets.token_urlsafe" in token.message
    findings = diagnose(_config(tmp_path), env={"IAA_API_TOKEN": SECRET}, timeout_s=1)
    assert _one(findings, "api token").status == "ok"
    assert SECRET not in render(findings)


# --- platforms: unreachable ---------------------------------------------------------------------


def test_an_unreachable_platform_fails_and_its_projects_are_skipped(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    findings = diagnose(_config(tmp_path, url=url), env={"IAA_DOCTOR_LS_TOKEN": "x"}, timeout_s=2)
    platform = _one(findings, "platform ls")
    assert platform.status == "FAIL"
    assert f"{url} is unreachable (connection refused" in platform.message
    assert "start the server or correct" in platform.message
    project = _one(findings, "project pairwise")
    assert project.status == "skip"
    assert exit_status(findings) == 1


# --- store --------------------------------------------------------------------------------------


def test_a_store_not_created_yet_is_fine_because_serve_and_sync_migrate(tmp_path: Path) -> None:
    findings = diagnose(_config(tmp_path), env={}, timeout_s=1)
    store = _one(findings, "store")
    assert store.status == "ok"
    assert "does not exist yet" in store.message
    assert "serve and sync migrate the store on start" in store.message
    assert not (tmp_path / "state" / "iaa.db").exists()  # doctor creates nothing


def test_a_migrated_store_is_at_head(tmp_path: Path) -> None:
    Store.open(f"sqlite:///{tmp_path / 'state' / 'iaa.db'}").close()
    store = _one(diagnose(_config(tmp_path), env={}, timeout_s=1), "store")
    assert store.status == "ok"
    assert f"at revision {HEAD} (head)" in store.message


def test_an_unmigrated_store_lists_its_pending_migrations(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state' / 'iaa.db'}"
    with Store.open(url, migrate=False) as empty:
        assert empty.schema_revision() is None
    store = _one(diagnose(_config(tmp_path), env={}, timeout_s=1), "store")
    assert store.status == "warn"
    assert (
        "at revision none (empty); pending migrations: 0001, 0002, 0003, 0004, 0005"
        in store.message
    )
    assert "the next start applies them" in store.message


def test_a_store_at_an_old_revision_lists_what_is_pending(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state' / 'iaa.db'}"
    with Store.open(url, migrate=False) as old:
        migrations.upgrade(old.engine, "0001")
    store = _one(diagnose(_config(tmp_path), env={}, timeout_s=1), "store")
    assert store.status == "warn"
    assert "at revision 0001; pending migrations: 0002, 0003, 0004, 0005" in store.message
    with Store.open(url, migrate=False) as check:
        assert check.schema_revision() == "0001"  # doctor migrated nothing


def test_a_store_from_a_newer_connector_is_a_problem(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state' / 'iaa.db'}"
    with Store.open(url) as store, store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finding = _one(diagnose(_config(tmp_path), env={}, timeout_s=1), "store")
    assert finding.status == "FAIL"
    assert "revision 9999, which this connector does not know" in finding.message


def test_an_unreachable_database_is_a_problem_without_its_password(tmp_path: Path) -> None:
    port = _closed_port()
    store = f"postgresql+psycopg://iaa:pw-{SECRET}@127.0.0.1:{port}/iaa"
    finding = _one(diagnose(_config(tmp_path, store=store), env={}, timeout_s=1), "store")
    assert finding.status == "FAIL"
    assert "check that the database is up" in finding.message
    assert SECRET not in finding.message


def test_a_store_directory_that_cannot_be_created_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file", encoding="utf-8")
    path = _config(tmp_path, store="sqlite:///blocker/iaa.db")
    finding = _one(diagnose(path, env={}, timeout_s=1), "store")
    assert finding.status == "FAIL"
    assert "is not a directory" in finding.message


# --- reports directory --------------------------------------------------------------------------


def test_the_reports_directory_writable_or_not(tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    assert _one(diagnose(_config(tmp_path), env={}, timeout_s=1), "reports").status == "ok"
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    findings = diagnose(_config(tmp_path, reports="afile/reports"), env={}, timeout_s=1)
    finding = _one(findings, "reports")
    assert finding.status == "FAIL"
    assert "cannot be created" in finding.message
    assert "[reports] dir" in finding.message


# --- output and exit status ---------------------------------------------------------------------


def test_render_aligns_subjects_and_counts_problems() -> None:
    findings = [
        Finding("ok", "store", "sqlite:///x at revision 0002 (head)"),
        Finding("FAIL", "platform ls", "refused"),
        Finding("warn", "webhook p", "missing"),
    ]
    lines = render(findings).splitlines()
    assert lines[0] == "ok   store        sqlite:///x at revision 0002 (head)"
    assert lines[1] == "FAIL platform ls  refused"
    assert lines[-1] == "1 problem(s), 1 warning(s)"
    assert exit_status(findings) == 1
    assert exit_status(findings[::2]) == 0
    assert exit_status(findings[::2], strict=True) == 1


def test_the_command_prints_the_findings_and_exits_1_on_a_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IAA_API_TOKEN", raising=False)
    path = _config(tmp_path, url=f"http://127.0.0.1:{_closed_port()}")
    result = CliRunner().invoke(app, ["doctor", "-c", str(path), "--timeout", "2"])
    assert result.exit_code == 1
    assert "FAIL platform ls" in result.output
    assert "FAIL api token" in result.output


# --- against a real Label Studio ----------------------------------------------------------------


def _project(server: LabelStudioServer, rubric: Path = V1, **settings: object) -> int:
    config = generate_label_config(load_rubric(rubric, check_layout=False))
    response = requests.post(
        f"{server.url}/api/projects/",
        headers=server.headers(server.admin_token),
        json={"title": "doctor", "label_config": config, **settings},
        timeout=30,
    )
    response.raise_for_status()
    return int(response.json()["id"])


def _ls_env(token: str, **more: str) -> dict[str, str]:
    return {"IAA_DOCTOR_LS_TOKEN": token, "IAA_API_TOKEN": "t" * 32, **more}


@pytest.mark.labelstudio
def test_a_legacy_token_accepted_is_ok_and_named_by_kind(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    project = _project(label_studio, show_collab_predictions=False)
    path = _config(tmp_path, url=label_studio.url, project_id=project)
    findings = diagnose(path, env=_ls_env(label_studio.admin_token))
    platform = _one(findings, "platform ls")
    assert platform.status == "ok", render(findings)
    assert "the legacy API token in IAA_DOCTOR_LS_TOKEN accepted" in platform.message
    assert label_studio.admin_token not in render(findings)
    (project_finding,) = _only(findings, "project pairwise")
    assert project_finding.status == "ok"
    assert "matches rubric rlhf-pairwise@v1" in project_finding.message


@pytest.mark.labelstudio
def test_a_personal_access_token_is_named_by_kind(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    if not label_studio.admin_pat:
        pytest.skip("this Label Studio gave no admin Personal Access Token (IAA_LS_ADMIN_PAT)")
    path = _config(tmp_path, url=label_studio.url, project_id=_project(label_studio))
    findings = diagnose(path, env=_ls_env(label_studio.admin_pat))
    platform = _one(findings, "platform ls")
    assert platform.status == "ok", render(findings)
    assert "the Personal Access Token in IAA_DOCTOR_LS_TOKEN accepted" in platform.message
    assert label_studio.admin_pat not in render(findings)


@pytest.mark.labelstudio
def test_a_refused_token_says_its_kind_and_what_to_do(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    path = _config(tmp_path, url=label_studio.url)
    findings = diagnose(path, env=_ls_env("not-a-token-of-this-server"))
    platform = _one(findings, "platform ls")
    assert platform.status == "FAIL"
    assert "the legacy API token in IAA_DOCTOR_LS_TOKEN was refused" in platform.message
    assert "401" in platform.message
    assert "Personal Access Token" in platform.message
    assert "not-a-token-of-this-server" not in render(findings)
    assert exit_status(findings) == 1


@pytest.mark.labelstudio
def test_a_project_that_does_not_exist(label_studio: LabelStudioServer, tmp_path: Path) -> None:
    path = _config(tmp_path, url=label_studio.url, project_id=987654)
    finding = _one(diagnose(path, env=_ls_env(label_studio.admin_token)), "project pairwise")
    assert finding.status == "FAIL"
    assert "project 987654 does not exist on ls (HTTP 404)" in finding.message
    assert "set project_id" in finding.message


@pytest.mark.labelstudio
def test_a_project_whose_form_does_not_match_the_rubric(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    project = _project(label_studio, rubric=V1)
    path = _config(tmp_path, url=label_studio.url, project_id=project, rubric=V2)
    findings = diagnose(path, env=_ls_env(label_studio.admin_token))
    (finding,) = _only(findings, "project pairwise")
    assert finding.status == "FAIL", render(findings)
    assert f"iaa-connector labelconfig {V2}" in finding.message
    assert _only(findings, "webhook pairwise") == []  # not checked on a broken project


@pytest.mark.labelstudio
def test_settings_that_show_other_answers_are_a_warning(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    project = _project(label_studio, show_annotation_history=True)
    path = _config(tmp_path, url=label_studio.url, project_id=project)
    findings = _only(diagnose(path, env=_ls_env(label_studio.admin_token)), "project pairwise")
    assert [f.status for f in findings] == ["ok", "warn"]
    assert "show_annotation_history" in findings[1].message


@pytest.mark.labelstudio
def test_an_adjudication_project_on_the_annotators_server_is_a_warning(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    # Every user of a Label Studio Community server can read every project
    # (tests/test_gold_secrecy_program.py probes it): the queue, which never holds gold, tells
    # which low-agreement tasks are gold.
    project = _project(label_studio, show_collab_predictions=False)
    path = _config(
        tmp_path,
        url=label_studio.url,
        project_id=project,
        extra_project=f"adjudication_project_id = {project + 1000}",
    )
    findings = _only(diagnose(path, env=_ls_env(label_studio.admin_token)), "project pairwise")
    assert [f.status for f in findings] == ["ok", "warn"], render(findings)
    assert "set adjudication_platform" in findings[1].message
    assert f"adjudication project {project + 1000} is on the same" in findings[1].message


@pytest.mark.labelstudio
def test_webhook_missing_registered_and_with_a_wrong_secret(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    project = _project(label_studio)
    path = _config(
        tmp_path,
        url=label_studio.url,
        project_id=project,
        extra_project='webhook_secret_env = "IAA_DOCTOR_HOOK"',
    )
    env = _ls_env(label_studio.admin_token, IAA_DOCTOR_HOOK=SECRET)

    missing = _one(diagnose(path, env=env), "webhook pairwise")
    assert missing.status == "warn"
    assert "no webhook to this connector (/webhooks/label-studio/pairwise)" in missing.message
    install = "iaa-connector webhooks install pairwise --url http://127.0.0.1:8765/webhooks/"
    assert install in missing.message

    hook = {
        "project": project,
        "url": "http://127.0.0.1:8765/webhooks/label-studio/pairwise",
        "send_payload": True,
        "send_for_all_actions": False,
        "headers": {"X-IAA-Webhook-Secret": SECRET},
        "is_active": True,
        "actions": ["ANNOTATION_CREATED"],
    }
    headers = label_studio.headers(label_studio.admin_token)
    created = requests.post(f"{label_studio.url}/api/webhooks/", headers=headers, json=hook)
    created.raise_for_status()
    registered = _one(diagnose(path, env=env), "webhook pairwise")
    assert registered.status == "ok", registered
    assert "secret matches" in registered.message

    wrong = {**env, "IAA_DOCTOR_HOOK": "another-secret"}
    mismatch = _one(diagnose(path, env=wrong), "webhook pairwise")
    assert mismatch.status == "FAIL"
    assert "is not the value of IAA_DOCTOR_HOOK" in mismatch.message
    assert SECRET not in mismatch.message
    assert "another-secret" not in mismatch.message
