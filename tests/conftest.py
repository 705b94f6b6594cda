"""Shared test setup: hypothesis profiles (CI runs derandomized, so a red build is repeatable)
and the session's real Label Studio and PostgreSQL servers (each started once, only if a test
asks for it)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings
from labelstudio_server import LabelStudioServer, ensure_label_studio
from postgres_server import ensure_postgres

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def label_studio() -> Iterator[LabelStudioServer]:
    """A real Label Studio (the user's, by IAA_LS_URL, or one started by start.sh)."""
    server = ensure_label_studio(annotators=3)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL database's SQLAlchemy URL (the user's, by IAA_TEST_POSTGRES_URL, or one
    started by deploy/postgres/start.sh on a free port and stopped after the session)."""
    server = ensure_postgres()
    try:
        yield server.url
    finally:
        server.stop()


# The Argilla server, appended after the Label Studio fixture (hence the late import).
from argilla_server import ArgillaServer, ensure_argilla  # noqa: E402


@pytest.fixture(scope="session")
def argilla() -> Iterator[ArgillaServer]:
    """A real Argilla (the user's, by IAA_ARGILLA_URL, or one started by start.sh)."""
    server = ensure_argilla(annotators=3)
    try:
        yield server
    finally:
        server.stop()
