"""The connector's configuration file (TOML): platforms, projects, store, secrets by env name.

Secrets never live in the file: a platform names the environment variable that holds its API
token (``token_env``), a project the one that holds its webhook secret. Errors name the file
and the key path (``iaa.toml: projects[1].rubric: ...``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from connector.errors import ConnectorError
from connector.groups import GroupsError, check_groups

__all__ = [
    "EXAMPLE",
    "Config",
    "ConfigError",
    "PlatformConfig",
    "ProjectConfig",
    "load_config",
]

PlatformKind = Literal["label-studio", "argilla"]
PLATFORM_KINDS: tuple[PlatformKind, ...] = ("label-studio", "argilla")


class ConfigError(ConnectorError, ValueError):
    """The configuration file is invalid; the message names the file and the key."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PlatformConfig:
    name: str
    kind: PlatformKind
    url: str
    token_env: str
    timeout_s: float = 30.0
    dataset_report_interval_minutes: float = 60.0  # Argilla only: see the adapter

    def token(self) -> str:
        """The API token from the environment; raises naming the variable (never the value)."""
        value = os.environ.get(self.token_env, "")
        if not value:
            raise ConfigError(
                f"platform {self.name!r}: environment variable {self.token_env} (its API token) "
                "is not set"
            )
        return value


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectConfig:
    key: str
    platform: str
    project_id: str
    rubric: Path
    gold: Path | None = None
    sync_interval_minutes: float = 5.0
    overlap_seconds: float = 10.0
    write_task_meta: bool = True
    data_manager_column: bool = False
    max_task_writes: int = 500
    webhook_secret_env: str | None = None
    # Platform users whose ground-truth annotations are taken as gold answers (emails on Label
    # Studio, user names on Argilla); anyone else's ground truth is a judgment, never gold.
    gold_authors: tuple[str, ...] = ()
    # A separate project (Label Studio) or dataset (Argilla) where items below
    # adjudication_below agreement are queued for a senior annotator's ruling; on the project's
    # platform, or on adjudication_platform (a configured platform whose only members are the
    # seniors: every member of a Label Studio Community organization reads all its projects).
    adjudication_project_id: str | None = None
    adjudication_platform: str | None = None
    adjudication_below: float = 0.5
    # Re-annotation (iaa-connector reannotate): items whose per-item agreement on a dimension is
    # below reannotate_below get a new task copy, while they have fewer than
    # reannotate_max_judgments judgments (see connector/calibration/reannotation.py).
    reannotate_below: float = 0.5
    reannotate_max_judgments: int = 5
    reannotate_on_sync: bool = False
    # Annotator groups (e.g. expert, crowd): the report compares everyone outside the expert
    # group with the expert consensus and gives agreement per category (connector/groups.py).
    groups: Mapping[str, tuple[str, ...]] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    path: Path
    store_url: str
    reports_dir: Path
    public_url: str | None
    platforms: tuple[PlatformConfig, ...]
    projects: tuple[ProjectConfig, ...]
    argilla_webhook_secret_env: str = "IAA_ARGILLA_WEBHOOK_SECRET"
    alert_webhook_env: str | None = None
    alert_min_interval_s: float = 60.0
    alert_after_failed_runs: int = 1
    # Bearer token (by environment variable) that every route showing reports, metrics or
    # per-annotator figures requires; unset or empty, those routes answer 401.
    api_token_env: str = "IAA_API_TOKEN"
    # A platform's webhook only triggers a sync, at most once per this many seconds per project
    # (Label Studio members can read its secret, so it is an untrusted trigger).
    webhook_min_interval_s: float = 30.0
    # Per-annotator gold figures in reports move only after this many new gold judgments of the
    # annotator, at most once per gold_release_hours; see connector/quality/gold_release.py.
    gold_release_every: int = 10
    gold_release_hours: float = 24.0

    def platform(self, name: str) -> PlatformConfig:
        for platform in self.platforms:
            if platform.name == name:
                return platform
        raise ConfigError(f"{self.path}: no platform named {name!r}")

    def project(self, key: str) -> ProjectConfig:
        for project in self.projects:
            if project.key == key:
                return project
        known = ", ".join(p.key for p in self.projects) or "none"
        raise ConfigError(f"{self.path}: no project named {key!r} (configured: {known})")


class _Section:
    """Typed reads from one TOML table, with errors that name the file and the key path."""

    def __init__(self, path: Path, where: str, table: Mapping[str, Any]) -> None:
        self.path, self.where, self.table = path, where, table

    def fail(self, key: str, message: str) -> ConfigError:
        prefix = f"{self.where}.{key}" if self.where else key
        return ConfigError(f"{self.path}: {prefix}: {message}")

    def check_keys(self, allowed: tuple[str, ...]) -> None:
        for key in self.table:
            if key not in allowed:
                raise self.fail(key, f"unknown key; valid keys are {', '.join(allowed)}")

    def text(self, key: str, default: str | None = None) -> str:
        value = self.table.get(key, default)
        if value is None:
            raise self.fail(key, "is required")
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a non-empty string, not {value!r}")
        return value

    def optional_text(self, key: str) -> str | None:
        return self.text(key) if key in self.table else None

    def number(self, key: str, default: float) -> float:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self.fail(key, f"must be a positive number, not {value!r}")
        return float(value)

    def seconds(self, key: str, default: float) -> float:
        """A number of seconds of at least 0 (0 turns the limit off)."""
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise self.fail(key, f"must be a number of seconds of at least 0, not {value!r}")
        return float(value)

    def count(self, key: str, default: int) -> int:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(key, f"must be a whole number of at least 1, not {value!r}")
        return value

    def names(self, key: str) -> tuple[str, ...]:
        value = self.table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(key, f"must be a list of non-empty strings, not {value!r}")
        return tuple(dict.fromkeys(v.strip() for v in value))

    def flag(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, not {value!r}")
        return value

    def optional_file(self, key: str) -> Path | None:
        return self.file(key) if key in self.table else None

    def file(self, key: str) -> Path:
        path = Path(self.text(key))
        resolved = path if path.is_absolute() else self.path.parent / path
        if not resolved.is_file():
            raise self.fail(key, f"file {str(path)!r} does not exist (looked for {resolved})")
        return resolved


def _platform(section: _Section) -> PlatformConfig:
    section.check_keys(
        ("name", "kind", "url", "token_env", "timeout_s", "dataset_report_interval_minutes")
    )
    kind = section.text("kind")
    if kind not in PLATFORM_KINDS:
        raise section.fail("kind", f"{kind!r} is not one of {', '.join(PLATFORM_KINDS)}")
    if kind != "argilla" and "dataset_report_interval_minutes" in section.table:
        raise section.fail("dataset_report_interval_minutes", "applies to Argilla only")
    interval = section.table.get("dataset_report_interval_minutes", 60.0)
    if isinstance(interval, bool) or not isinstance(interval, int | float) or interval < 0:
        raise section.fail(
            "dataset_report_interval_minutes", f"must be a number of at least 0, not {interval!r}"
        )
    url = section.text("url").rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise section.fail("url", f"{url!r} must start with http:// or https://")
    return PlatformConfig(
        name=section.text("name"),
        kind=kind,
        url=url,
        token_env=section.text("token_env"),
        timeout_s=section.number("timeout_s", 30.0),
        dataset_report_interval_minutes=float(interval),
    )


def _project(section: _Section, platforms: set[str]) -> ProjectConfig:
    section.check_keys(
        (
            "key", "platform", "project_id", "rubric", "gold", "sync_interval_minutes",
            "overlap_seconds", "write_task_meta", "data_manager_column", "max_task_writes",
            "webhook_secret_env", "gold_authors", "adjudication_project_id",
            "adjudication_platform", "adjudication_below", "reannotate_below",
            "reannotate_max_judgments", "reannotate_on_sync", "groups",
        )
    )  # fmt: skip
    platform = section.text("platform")
    if platform not in platforms:
        raise section.fail(
            "platform", f"{platform!r} is not a configured platform {sorted(platforms)}"
        )
    project_id = section.table.get("project_id")
    if not isinstance(project_id, int | str) or isinstance(project_id, bool) or project_id == "":
        raise section.fail("project_id", f"must be the platform's project id, not {project_id!r}")
    adjudication = section.table.get("adjudication_project_id")
    if adjudication is not None and (
        not isinstance(adjudication, int | str)
        or isinstance(adjudication, bool)
        or adjudication == ""
    ):
        raise section.fail(
            "adjudication_project_id",
            f"must be the platform's id of a separate project or dataset, not {adjudication!r}",
        )
    desk = section.optional_text("adjudication_platform")
    if desk is not None and desk not in platforms:
        raise section.fail(
            "adjudication_platform", f"{desk!r} is not a configured platform {sorted(platforms)}"
        )
    same_platform = desk is None or desk == platform
    if adjudication is not None and same_platform and str(adjudication) == str(project_id):
        raise section.fail(
            "adjudication_project_id",
            f"is the project itself ({project_id!r}): rulings there would be read as "
            "judgments; name a separate project or dataset",
        )
    below = section.table.get("adjudication_below", 0.5)
    if isinstance(below, bool) or not isinstance(below, int | float) or not 0 < below <= 1:
        raise section.fail("adjudication_below", f"must be an agreement in (0, 1], not {below!r}")
    return ProjectConfig(
        key=section.text("key"),
        platform=platform,
        project_id=str(project_id),
        rubric=section.file("rubric"),
        gold=section.optional_file("gold"),
        sync_interval_minutes=section.number("sync_interval_minutes", 5.0),
        overlap_seconds=section.number("overlap_seconds", 10.0),
        write_task_meta=section.flag("write_task_meta", True),
        data_manager_column=section.flag("data_manager_column", False),
        max_task_writes=section.count("max_task_writes", 500),
        webhook_secret_env=section.optional_text("webhook_secret_env"),
        gold_authors=section.names("gold_authors"),
        adjudication_project_id=None if adjudication is None else str(adjudication),
        adjudication_platform=desk,
        adjudication_below=float(below),
        reannotate_below=_agreement(section, "reannotate_below", 0.5),
        reannotate_max_judgments=_at_least(section, "reannotate_max_judgments", 5, minimum=3),
        reannotate_on_sync=section.flag("reannotate_on_sync", False),
        groups=_groups(section),
    )


def _groups(section: _Section) -> dict[str, tuple[str, ...]] | None:
    """The project's annotator groups (``groups = {expert = [...], crowd = [...]}``)."""
    if "groups" not in section.table:
        return None
    raw = section.table["groups"]
    if not isinstance(raw, dict):
        raise section.fail(
            "groups",
            f'must be a table of lists, e.g. {{expert = ["a"], crowd = ["b"]}}, not {raw!r}',
        )
    try:
        return check_groups(raw, where=f"{section.path}: {section.where}.groups")
    except GroupsError as exc:
        raise ConfigError(str(exc)) from None


def _agreement(section: _Section, key: str, default: float) -> float:
    """A per-item agreement threshold in (0, 1]."""
    value = section.table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise section.fail(key, f"must be an agreement above 0 and at most 1, not {value!r}")
    return float(value)


def _at_least(section: _Section, key: str, default: int, *, minimum: int) -> int:
    value = section.count(key, default)
    if value < minimum:
        raise section.fail(key, f"must be a whole number of at least {minimum}, not {value!r}")
    return value


def load_config(path: str | Path) -> Config:
    """Read and validate the configuration file.

    Raises:
        ConfigError: unreadable TOML, unknown or missing keys, unknown platform, missing files.
    """
    file = Path(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{file}: no such configuration file (create one: iaa-connector init)"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: invalid TOML: {exc}") from exc
    top = _Section(file, "", raw)
    top.check_keys(("store", "reports", "server", "alerts", "platforms", "projects"))
    store = _Section(file, "store", raw.get("store", {}))
    store.check_keys(("url",))
    reports = _Section(file, "reports", raw.get("reports", {}))
    reports.check_keys(("dir", "gold_release_every", "gold_release_hours"))
    server = _Section(file, "server", raw.get("server", {}))
    server.check_keys(
        (
            "public_url",
            "argilla_webhook_secret_env",
            "api_token_env",
            "webhook_min_interval_seconds",
        )
    )
    alerts = _Section(file, "alerts", raw.get("alerts", {}))
    alerts.check_keys(("webhook_env", "min_interval_seconds", "failed_runs"))
    platforms = tuple(
        _platform(_Section(file, f"platforms[{i}]", table))
        for i, table in enumerate(raw.get("platforms", []))
    )
    names = [p.name for p in platforms]
    if len(set(names)) != len(names):
        raise ConfigError(f"{file}: platforms: names repeat: {names}")
    projects = tuple(
        _project(_Section(file, f"projects[{i}]", table), set(names))
        for i, table in enumerate(raw.get("projects", []))
    )
    keys = [p.key for p in projects]
    if len(set(keys)) != len(keys):
        raise ConfigError(f"{file}: projects: keys repeat: {keys}")
    annotated = {(p.platform, p.project_id): p.key for p in projects}
    for index, project in enumerate(projects):
        desk = project.adjudication_platform or project.platform
        other = annotated.get((desk, project.adjudication_project_id or ""))
        if other is not None:
            raise ConfigError(
                f"{file}: projects[{index}].adjudication_project_id: "
                f"{project.adjudication_project_id!r} is project {other!r}'s own project; "
                "rulings there would be read as judgments: name a separate project or dataset"
            )
    store_url = store.text("url", "sqlite:///iaa-connector.db")
    if store_url.startswith("sqlite:///") and not store_url.startswith("sqlite:////"):
        relative = store_url.removeprefix("sqlite:///")
        store_url = f"sqlite:///{(file.parent / relative).resolve()}"
    return Config(
        path=file,
        store_url=store_url,
        reports_dir=(file.parent / reports.text("dir", "reports")).resolve(),
        public_url=server.optional_text("public_url"),
        argilla_webhook_secret_env=server.text(
            "argilla_webhook_secret_env", "IAA_ARGILLA_WEBHOOK_SECRET"
        ),
        alert_webhook_env=alerts.optional_text("webhook_env"),
        alert_min_interval_s=alerts.seconds("min_interval_seconds", 60.0),
        alert_after_failed_runs=alerts.count("failed_runs", 1),
        api_token_env=server.text("api_token_env", "IAA_API_TOKEN"),
        webhook_min_interval_s=server.number("webhook_min_interval_seconds", 30.0),
        gold_release_every=reports.count("gold_release_every", 10),
        gold_release_hours=reports.number("gold_release_hours", 24.0),
        platforms=platforms,
        projects=projects,
    )


EXAMPLE = """\
# iaa-connector configuration. Secrets are never written here: name the environment variable
# that holds them (token_env, webhook_secret_env).

[store]
# SQLite file by default (relative to this file); PostgreSQL for several replicas:
#   url = "postgresql+psycopg://iaa@127.0.0.1:5432/iaa"
url = "sqlite:///iaa-connector.db"

[reports]
# Full JSON/HTML reports are written here; the platform gets a summary (no per-annotator figures).
dir = "reports"
# Per-annotator gold figures in reports are released at most once per gold_release_hours, and
# only after at least gold_release_every new gold judgments of that annotator: nobody can learn
# a gold answer by changing one answer and reloading the report.
gold_release_every = 10
gold_release_hours = 24

[server]
# Where people reach this connector (report links for leads; never written to the platform).
public_url = "http://127.0.0.1:8765"
# Environment variable holding the bearer token that /reports and /metrics require
# (Authorization: Bearer <token>); unset, those routes answer 401.
api_token_env = "IAA_API_TOKEN"
# A webhook only triggers a sync, at most once per this many seconds per project.
webhook_min_interval_seconds = 30
# Environment variable holding the signing secret Argilla generated for its webhook.
argilla_webhook_secret_env = "IAA_ARGILLA_WEBHOOK_SECRET"

[alerts]
# Environment variable holding a Slack-compatible incoming-webhook URL (it embeds a secret).
# webhook_env = "IAA_ALERT_WEBHOOK"
min_interval_seconds = 60          # at most one alert a minute after a burst of three (0: no limit)
failed_runs = 1                    # alert after this many failed runs in a row (each retries)

[[platforms]]
name = "local-label-studio"
kind = "label-studio"              # or "argilla"
url = "http://127.0.0.1:8089"
token_env = "LABEL_STUDIO_TOKEN"   # environment variable holding the API token
# Argilla only: rewrite the dataset's report at most this often (each dataset update makes
# Argilla recompute every record's status); per-record agreement is written on every sync.
# dataset_report_interval_minutes = 60

[[projects]]
key = "pairwise"                   # the connector's name for the project
platform = "local-label-studio"
project_id = 1                     # the platform's project id
rubric = "rubrics/rlhf-pairwise/v2.yaml"
# gold = "rubrics/rlhf-pairwise/gold.jsonl"  # gold answers: connector-side only
sync_interval_minutes = 5
overlap_seconds = 10               # re-read this much before the cursor on each pull
write_task_meta = true             # per-task agreement in task meta
data_manager_column = false        # also a sortable Data Manager column (task data)
max_task_writes = 500              # per-task writes per sync (lowest agreement first)
# webhook_secret_env = "IAA_WEBHOOK_SECRET"
# Users whose ground-truth annotations become gold (--import-ground-truth); anyone else's
# ground truth stays their ordinary judgment; it is refused as gold, logged and alerted.
# gold_authors = ["lead@example.com"]
# A separate, empty project (dataset on Argilla) where items below adjudication_below agreement
# are queued for a senior annotator's ruling (iaa-connector adjudication queue / pull / log).
# adjudication_project_id = 2
# adjudication_below = 0.5
# iaa-connector reannotate: items whose per-item agreement on a dimension is below this get a
# new task copy for more annotators, up to this many judgments per item.
reannotate_below = 0.5
reannotate_max_judgments = 5
reannotate_on_sync = false         # true: every sync (and serve's scheduler) does it too
# Annotator groups: the report compares everyone outside "expert" with the expert consensus.
# groups = {expert = ["lead@example.com"], crowd = ["ann1@example.com", "ann2@example.com"]}
"""
