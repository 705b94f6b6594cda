"""The validation gate end to end against the real Label Studio (the flow: tests/gate_flow.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from gate_flow import rubric_file, run_gate_flow
from labelstudio_server import LabelStudioServer
from test_labelstudio_loop import Loop, _choice, _headers, _left_for

from connector.config import Config
from connector.sync import sync_project

pytestmark = pytest.mark.labelstudio


def test_rubric_v1_to_v2_gate_refuses_then_accepts(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    v1, v2 = rubric_file(tmp_path, 1), rubric_file(tmp_path, 2)
    loop = Loop(label_studio, tmp_path, rubric_path=v1)
    tokens = label_studio.annotator_tokens[:3]

    def answer(k: int, task_id: str, value: str) -> str:
        return loop.annotate(tokens[k], task_id, _choice(_left_for(value, loop.side(task_id))))

    def revise(k: int, annotation_id: str, task_id: str, value: str) -> None:
        requests.patch(
            f"{label_studio.url}/api/annotations/{annotation_id}/",
            json={"result": _choice(_left_for(value, loop.side(task_id)))},
            headers=_headers(tokens[k]),
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
