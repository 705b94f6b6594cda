"""The validation gate end to end against the real Argilla (the flow: tests/gate_flow.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from argilla_server import ArgillaServer
from gate_flow import rubric_file, run_gate_flow
from test_argilla_loop import Loop, _headers

from connector.config import Config
from connector.sync import sync_project

pytestmark = pytest.mark.argilla


def test_rubric_v1_to_v2_gate_refuses_then_accepts(argilla: ArgillaServer, tmp_path: Path) -> None:
    v1, v2 = rubric_file(tmp_path, 1), rubric_file(tmp_path, 2)
    loop = Loop(argilla, tmp_path, rubric_path=v1)
    keys = argilla.annotator_api_keys[:3]

    def answer(k: int, record_id: str, value: str) -> str:
        return loop.respond(keys[k], record_id, {"overall": loop.shown_for(value, record_id)})

    def revise(k: int, response_id: str, record_id: str, value: str) -> None:
        requests.put(
            f"{argilla.url}/api/v1/responses/{response_id}",
            json={
                "values": {"overall": {"value": loop.shown_for(value, record_id)}},
                "status": "submitted",
            },
            headers=_headers(keys[k]),
            timeout=30,
        ).raise_for_status()

    def sync(config: Config) -> Any:
        return sync_project(config, "p", store=loop.store, platform=loop.platform, full=True)

    try:
        run_gate_flow(
            tmp_path,
            config=loop.config,
            store=loop.store,
            v1=v1,
            v2=v2,
            sync=sync,
            answer=answer,
            revise=revise,
        )
    finally:
        loop.store.close()
