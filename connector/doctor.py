"""``iaa-connector doctor``: check a deployment and say what to fix.

:func:`diagnose` reads the configuration and checks, in order: every environment variable the
configuration names for a secret (set or not; values are never read into a message), each
platform (reachable, its token accepted, and which kind of token it is), each project (it exists
on its platform and its form matches the rubric: the adapter's ``check_project``), each
project's webhook where the platform lets it be listed, the store (schema revision against the
newest one this connector ships, pending migrations), the reports directory (writable) and the
API token that ``/metrics`` and ``/reports`` require.

Each check gives one :class:`Finding` per subject: ``ok``, ``warn`` (works, but something is
worth doing), ``FAIL`` (a problem; the message says what is wrong and what to do) or ``skip``
(not checked because a check it depends on failed).
:func:`exit_status` is 1 when any finding is ``FAIL`` (with ``strict``, also ``warn``).

Migrations: ``serve``, ``sync`` and every other command that opens the store open it with
:meth:`connector.store.Store.open`, which migrates to the newest revision by default, so
pending migrations are applied on the next start; doctor itself opens the store without
migrating and never writes to it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import requests
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from connector.config import Config, PlatformConfig, ProjectConfig, load_config
from connector.errors import ConnectorError
from connector.platforms.argilla.adapter import Argilla
from connector.platforms.base import PlatformError
from connector.platforms.label_studio.adapter import SECRET_HEADER, LabelStudio
from connector.platforms.label_studio.auth import TokenKind, token_kind
from connector.rubric import load_rubric
from connector.store import Store, StoreError
from connector.store import migrate as migrations

__all__ = ["Finding", "diagnose", "exit_status", "render"]

Status = Literal["ok", "warn", "FAIL", "skip"]
Adapter = LabelStudio | Argilla

#: unauthenticated paths that answer when the server is up (as in connector/service/health.py)
_HEALTH = {"label-studio": "/health", "argilla": "/api/v1/status"}
_MIGRATES = "serve and sync migrate the store on start"


@dataclass(frozen=True, slots=True)
class Finding:
    """One checked subject (``platform ls``, ``store``...) and what was found."""

    status: Status
    subject: str
    message: str

    @property
    def problem(self) -> bool:
        return self.status == "FAIL"


def render(findings: list[Finding]) -> str:
    """One line per finding, ``ok   store     sqlite:///… at revision 0002 (head)``, then a
    summary line."""
    width = max((len(f.subject) for f in findings), default=0)
    lines = [f"{f.status:<4} {f.subject:<{width}}  {f.message}" for f in findings]
    problems = sum(f.status == "FAIL" for f in findings)
    warnings = sum(f.status == "warn" for f in findings)
    lines.append(f"{problems} problem(s), {warnings} warning(s)")
    return "\n".join(lines)


def exit_status(findings: list[Finding], *, strict: bool = False) -> int:
    """1 when a finding is a problem (with ``strict``, also a warning), else 0."""
    bad = {"FAIL", "warn"} if strict else {"FAIL"}
    return int(any(f.status in bad for f in findings))


def diagnose(
    config_path: str | Path,
    *,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 5.0,
) -> list[Finding]:
    """Every finding for the deployment configured in ``config_path`` (see the module doc)."""
    environ = os.environ if env is None else env
    try:
        config = load_config(config_path)
    except ConnectorError as exc:
        return [
            Finding("FAIL", "config", f"{exc}; fix the file (iaa-connector init writes an example)")
        ]
    findings = [
        Finding(
            "ok",
            "config",
            f"{config.path}: {len(config.platforms)} platform(s), "
            f"{len(config.projects)} project(s)",
        )
    ]
    findings += _secrets(config, environ)
    adapters: dict[str, Adapter] = {}
    for platform in config.platforms:
        finding, adapter = _platform(platform, environ, timeout_s)
        findings.append(finding)
        if adapter is not None:
            adapters[platform.name] = adapter
    argilla_hook_checked: set[str] = set()
    for project in config.projects:
        adapter = adapters.get(project.platform)
        if adapter is None:
            findings.append(
                Finding(
                    "skip",
                    f"project {project.key}",
                    f"not checked (nor its webhook): platform {project.platform} failed above",
                )
            )
            continue
        project_findings = _project(config, project, adapter)
        findings += project_findings
        if any(f.problem for f in project_findings):
            continue
        if isinstance(adapter, LabelStudio):
            findings.append(_label_studio_webhook(config, project, adapter, environ))
        elif project.platform not in argilla_hook_checked:  # one server-wide webhook
            argilla_hook_checked.add(project.platform)
            findings.append(_argilla_webhook(config, project.platform, adapter, environ))
    findings.append(_store(config))
    findings.append(_reports(config.reports_dir))
    findings.append(_api_token(config, environ))
    return findings


# --- secrets ------------------------------------------------------------------------------------


def _secrets(config: Config, env: Mapping[str, str]) -> list[Finding]:
    """Each secret variable the configuration names (the API token has its own finding)."""
    wanted: list[tuple[str, str, Status]] = [
        (p.token_env, f"platform {p.name}'s API token", "FAIL") for p in config.platforms
    ]
    wanted += [
        (p.webhook_secret_env, f"project {p.key}'s webhook secret", "FAIL")
        for p in config.projects
        if p.webhook_secret_env
    ]
    if any(p.kind == "argilla" for p in config.platforms):
        # needed only once an Argilla webhook is registered (checked with the webhook)
        wanted.append(
            (config.argilla_webhook_secret_env, "the Argilla webhook's signing secret", "warn")
        )
    if config.alert_webhook_env:
        wanted.append((config.alert_webhook_env, "the alert webhook URL", "FAIL"))
    findings = []
    seen: set[str] = set()
    for name, role, severity in wanted:
        if name in seen:
            continue
        seen.add(name)
        if env.get(name, "").strip():
            findings.append(Finding("ok", f"env {name}", f"set ({role})"))
        else:
            findings.append(
                Finding(
                    severity,
                    f"env {name}",
                    f"not set ({role}); set it in the connector's environment (the systemd "
                    "unit's EnvironmentFile, the container's env_file); never in the config file",
                )
            )
    return findings


def _api_token(config: Config, env: Mapping[str, str]) -> Finding:
    name = config.api_token_env
    if env.get(name, "").strip():
        return Finding("ok", "api token", f"{name} is set (/metrics and /reports require it)")
    return Finding(
        "FAIL",
        "api token",
        f"{name} is not set: /metrics and /reports answer 401 to everyone; set it to a long "
        "random value (python -c 'import secrets; print(secrets.token_urlsafe(32))') in the "
        "service's environment and give the same value to Prometheus and report readers",
    )


# --- platforms ----------------------------------------------------------------------------------


def _unreachable(url: str, timeout_s: float) -> str | None:
    """Why ``GET url`` got no answer below 500, or None."""
    try:
        response = requests.get(url, timeout=timeout_s)
    except requests.Timeout:
        return f"no answer within {timeout_s:g} s"
    except requests.ConnectionError as exc:
        reason = exc.__context__ if isinstance(exc.__context__, OSError) else None
        if isinstance(reason, socket.gaierror):
            return "the host name does not resolve"
        return "connection refused or no route to the host"
    except requests.RequestException as exc:
        return type(exc).__name__
    if response.status_code >= 500:
        return f"HTTP {response.status_code}"
    return None


def _platform(
    platform: PlatformConfig, env: Mapping[str, str], timeout_s: float
) -> tuple[Finding, Adapter | None]:
    subject = f"platform {platform.name}"
    where = f"[[platforms]] url of {platform.name}"
    down = _unreachable(platform.url + _HEALTH[platform.kind], timeout_s)
    if down is not None:
        return (
            Finding(
                "FAIL",
                subject,
                f"{platform.url} is unreachable ({down}); start the server or correct the {where}",
            ),
            None,
        )
    token = env.get(platform.token_env, "").strip()
    if not token:
        return (
            Finding(
                "FAIL",
                subject,
                f"{platform.url} answers, but {platform.token_env} is not set, so the token "
                "was not checked",
            ),
            None,
        )
    if platform.kind == "label-studio":
        return _label_studio(platform, token, timeout_s)
    return _argilla(platform, token, timeout_s)


def _label_studio(
    platform: PlatformConfig, token: str, timeout_s: float
) -> tuple[Finding, Adapter | None]:
    subject = f"platform {platform.name}"
    kind = token_kind(token)
    given = f"the {kind.value} in {platform.token_env}"
    adapter = LabelStudio(platform.url, token, timeout_s=timeout_s, retries=0)
    try:
        me = adapter.client.request("GET", "/api/current-user/whoami")
    except PlatformError as exc:
        return Finding("FAIL", subject, f"{given} was refused: {exc}"), None
    who = me.get("email") or me.get("username") or f"user {me.get('id')}"
    if kind is TokenKind.ACCESS:
        return (
            Finding(
                "warn",
                subject,
                f"{platform.url}: {given} works now (as {who}) but expires within minutes and "
                "cannot be renewed; give the Personal Access Token (Account & Settings) instead",
            ),
            adapter,
        )
    return Finding("ok", subject, f"{platform.url}: {given} accepted (as {who})"), adapter


def _argilla(
    platform: PlatformConfig, token: str, timeout_s: float
) -> tuple[Finding, Adapter | None]:
    subject = f"platform {platform.name}"
    adapter = Argilla(platform.url, token, timeout_s=timeout_s, retries=0)
    try:
        me = adapter.client.request("GET", "/api/v1/me")
    except PlatformError as exc:
        fix = (
            "; copy the API key from the user's settings in Argilla (My settings)"
            if exc.status in (401, 403)
            else ""
        )
        return (
            Finding(
                "FAIL",
                subject,
                f"GET /api/v1/me with the API key in {platform.token_env} failed: {exc}{fix}",
            ),
            None,
        )
    return (
        Finding(
            "ok",
            subject,
            f"{platform.url}: the API key in {platform.token_env} accepted (as "
            f"{me.get('username')}, role {me.get('role')})",
        ),
        adapter,
    )


# --- projects and webhooks ----------------------------------------------------------------------


def _project(config: Config, project: ProjectConfig, adapter: Adapter) -> list[Finding]:
    subject = f"project {project.key}"
    noun = "project" if isinstance(adapter, LabelStudio) else "dataset"
    try:
        rubric = load_rubric(project.rubric, check_layout=False)
    except ConnectorError as exc:
        return [Finding("FAIL", subject, f"{exc}; fix the rubric (iaa-connector rubric validate)")]
    try:
        adapter.check_project(project.project_id, rubric)
    except PlatformError as exc:
        if exc.status == 404:
            message = (
                f"{noun} {project.project_id} does not exist on {project.platform} (HTTP 404); "
                f"set project_id of project {project.key} in {config.path} to an existing "
                f"{noun}'s id, or create it"
            )
        else:
            message = f"{noun} {project.project_id} could not be checked: {exc}"
        return [Finding("FAIL", subject, message)]
    except ConnectorError as exc:
        fix = (
            f"paste the labeling config from iaa-connector labelconfig {project.rubric} into the "
            "project's settings"
            if isinstance(adapter, LabelStudio)
            else "make the dataset's questions match the rubric"
        )
        return [Finding("FAIL", subject, f"{exc}; {fix}, or point rubric at the version it uses")]
    findings = [
        Finding(
            "ok",
            subject,
            f"{noun} {project.project_id} on {project.platform} matches rubric {rubric.ref}",
        )
    ]
    if isinstance(adapter, LabelStudio):
        settings = adapter.project(project.project_id)
        shown = [
            key
            for key in ("show_annotation_history", "show_collab_predictions")
            if settings.get(key)
        ]
        if shown:
            findings.append(
                Finding(
                    "warn",
                    subject,
                    f"{', '.join(shown)} on: the labeling screen shows annotators other "
                    "people's answers (and so gold answers); turn it off in the project's settings",
                )
            )
        if project.adjudication_project_id and (
            project.adjudication_platform in (None, project.platform)
        ):
            findings.append(
                Finding(
                    "warn",
                    subject,
                    f"adjudication project {project.adjudication_project_id} is on the same "
                    f"Label Studio server ({project.platform}): every user of a Community "
                    "server can read it, and the low-agreement tasks it lacks are the gold "
                    "ones; set adjudication_platform to a server only the seniors use "
                    "(docs/security.md)",
                )
            )
    return findings


def _label_studio_webhook(
    config: Config, project: ProjectConfig, adapter: LabelStudio, env: Mapping[str, str]
) -> Finding:
    subject = f"webhook {project.key}"
    path = f"/webhooks/label-studio/{project.key}"
    base = (config.public_url or "http://CONNECTOR:8765").rstrip("/")
    install = f"iaa-connector webhooks install {project.key} --url {base}{path} -c {config.path}"
    try:
        hooks = adapter.client.request(
            "GET", "/api/webhooks/", params={"project": project.project_id}
        )
    except PlatformError as exc:
        return Finding("warn", subject, f"webhooks could not be listed: {exc}")
    ours = [
        hook
        for hook in hooks or []
        if str(hook.get("project")) == project.project_id
        and urlsplit(str(hook.get("url", ""))).path.rstrip("/") == path
    ]
    if not ours:
        return Finding(
            "warn",
            subject,
            f"no webhook to this connector ({path}) on project {project.project_id}: changes "
            f"arrive only with the scheduled sync (every {project.sync_interval_minutes:g} min); "
            f"to have them at once: {install}",
        )
    hook = ours[0]
    url = str(hook.get("url"))
    if not hook.get("is_active", True):
        return Finding("warn", subject, f"the webhook to {url} is inactive; run {install}")
    secret = env.get(project.webhook_secret_env or "", "")
    headers = hook.get("headers") or {}
    if not project.webhook_secret_env or not secret:
        return Finding(
            "FAIL",
            subject,
            f"a webhook to {url} exists but the connector has no secret to check it against "
            "(webhook_secret_env unset or empty), so every event is refused with 401; set "
            f"webhook_secret_env and the variable, then run {install}",
        )
    if isinstance(headers, Mapping) and headers.get(SECRET_HEADER) != secret:
        return Finding(
            "FAIL",
            subject,
            f"the webhook to {url} sends a {SECRET_HEADER} that is not the value of "
            f"{project.webhook_secret_env}, so every event is refused with 401; run {install}",
        )
    if config.public_url and not url.startswith(config.public_url.rstrip("/")):
        return Finding(
            "warn",
            subject,
            f"the webhook goes to {url}, not under public_url {config.public_url}; if the "
            f"connector moved, run {install}",
        )
    return Finding("ok", subject, f"registered: {url}, active, secret matches")


def _argilla_webhook(
    config: Config, platform: str, adapter: Argilla, env: Mapping[str, str]
) -> Finding:
    subject = f"webhook {platform}"
    base = (config.public_url or "http://CONNECTOR:8765").rstrip("/")
    install = f"iaa-connector webhooks install PROJECT --url {base}/webhooks/argilla"
    try:
        listed: Any = adapter.client.request("GET", "/api/v1/webhooks")
    except PlatformError as exc:
        if exc.status == 403:
            return Finding(
                "warn",
                subject,
                "not checked: listing Argilla's webhooks needs an owner's API key",
            )
        return Finding("warn", subject, f"webhooks could not be listed: {exc}")
    hooks = [
        hook
        for hook in (listed.get("items", []) if isinstance(listed, Mapping) else [])
        if urlsplit(str(hook.get("url", ""))).path.rstrip("/") == "/webhooks/argilla"
    ]
    if not hooks:
        return Finding(
            "warn",
            subject,
            "no server webhook to this connector (/webhooks/argilla): changes arrive only with "
            f"the scheduled sync; to have them at once: {install}, and set "
            f"{config.argilla_webhook_secret_env} to the secret it prints",
        )
    hook = hooks[0]
    if not hook.get("enabled", True):
        return Finding(
            "warn", subject, f"the webhook to {hook.get('url')} is disabled; run {install}"
        )
    if not env.get(config.argilla_webhook_secret_env, "").strip():
        return Finding(
            "FAIL",
            subject,
            f"a webhook to {hook.get('url')} exists but {config.argilla_webhook_secret_env} is "
            "not set, so every event is refused with 401; set it to the webhook's secret "
            "(shown by Argilla when it was created; to get a new one, delete the webhook and "
            f"run {install})",
        )
    return Finding("ok", subject, f"registered: {hook.get('url')}, enabled")


# --- store and reports --------------------------------------------------------------------------


def _shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "(an invalid URL)"


def _sqlite_file(url: str) -> Path | None:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return None
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return None if database.startswith("file:") else Path(database).expanduser()


def _store(config: Config) -> Finding:
    shown = _shown(config.store_url)
    head = migrations.head_revision()
    file = _sqlite_file(config.store_url)
    if file is not None:
        problem = _not_writable(file.parent, what="the SQLite database's directory")
        if problem:
            return Finding("FAIL", "store", f"{shown}: {problem}")
        if not file.exists():
            return Finding(
                "ok",
                "store",
                f"{shown} does not exist yet; {_MIGRATES}, so the first start creates it at "
                f"revision {head} (head)",
            )
        if not os.access(file, os.R_OK | os.W_OK):
            return Finding(
                "FAIL",
                "store",
                f"{shown}: the file is not readable and writable by this user; chown it to the "
                "connector's user",
            )
    try:
        with Store.open(config.store_url, migrate=False) as store:
            current = store.schema_revision()
    except StoreError as exc:
        return Finding(
            "FAIL",
            "store",
            f"{exc}; check that the database is up and that [store] url in {config.path} names it",
        )
    if current == head:
        return Finding("ok", "store", f"{shown} at revision {current} (head); {_MIGRATES}")
    pending = _pending(current)
    if pending is None:
        return Finding(
            "FAIL",
            "store",
            f"{shown} is at revision {current}, which this connector does not know (it ships "
            f"up to {head}): a newer connector migrated it; install that version",
        )
    return Finding(
        "warn",
        "store",
        f"{shown} at revision {current or 'none (empty)'}; pending migrations: "
        f"{', '.join(pending)} (head {head}); {_MIGRATES} (Store.open migrates), so the next "
        "start applies them: back the database up first",
    )


def _pending(current: str | None) -> list[str] | None:
    """Revisions from ``current`` (exclusive) up to head, oldest first; None when ``current``
    is not a revision this connector ships."""
    from alembic.script import ScriptDirectory
    from alembic.script.revision import RevisionError
    from alembic.util.exc import CommandError

    script = ScriptDirectory.from_config(migrations.config())
    try:
        revisions = list(script.iterate_revisions("head", current or "base"))
    except (CommandError, RevisionError):
        return None
    return [r.revision for r in reversed(revisions) if r.revision != current]


def _not_writable(directory: Path, *, what: str) -> str | None:
    """Why files cannot be created in ``directory`` (or in the directory that would hold it),
    or None."""
    probe = directory
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        return f"{what} {directory} cannot be created: {probe} is not a directory"
    if not os.access(probe, os.W_OK | os.X_OK):
        verb = "is not writable" if probe == directory else f"cannot be created in {probe}"
        return (
            f"{what} {directory} {verb} by this user; create it and chown it to the "
            "connector's user"
        )
    return None


def _reports(directory: Path) -> Finding:
    problem = _not_writable(directory, what="the reports directory")
    if problem:
        return Finding("FAIL", "reports", f"{problem} ([reports] dir)")
    state = "writable" if directory.exists() else "will be created on the first sync"
    return Finding("ok", "reports", f"{directory} {state}")
