"""Shared test setup: hypothesis profiles (CI runs derandomized, so a red build is repeatable)
and the session's real Label Studio server (started once, only if a test asks for it)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings
from labelstudio_server import LabelStudioServer, ensure_label_studio

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
