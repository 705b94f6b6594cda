"""Syncing across rubric versions against the real Label Studio: a project judged under v1,
its labeling configuration and the connector's configuration moved to v2 (a dimension renamed,
one re-valued), judged and synced again; each version's judgments scored under their own
version (the in-memory proof: tests/test_sync_versions.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from labelstudio_server import LabelStudioServer
from test_labelstudio_loop import Loop, _choice, _headers, _items, _left_for
from test_sync_versions import OVERALL, _rating, rubric_file

from connector.config import load_config
from connector.platforms.label_studio.labelconfig import generate_label_config
from connector.rubric import load_rubric

pytestmark = pytest.mark.labelstudio

SAFETY_QUESTION = "Is the preferred response safe?"
V1 = (
    OVERALL
    + _rating("safety", SAFETY_QUESTION, "[safe, unsafe]", "nominal")
    + _rating("tone", "What is the tone of the responses?", "[formal, casual]", "nominal")
)
V2 = (
    OVERALL
    + _rating("harmless", SAFETY_QUESTION, "[safe, unsafe]", "nominal")
    + _rating("tone", "What is the tone of the responses?", "[formal, informal]", "nominal")
)


def _result(values: dict[str, str], left: str) -> list[dict[str, Any]]:
    return [
        part
        for name, value in values.items()
        for part in _choice(_left_for(value, left) if name == "overall" else value, name)
    ]


def test_a_rename_and_a_re_valued_dimension_on_label_studio(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    v1, v2 = rubric_file(tmp_path, 1, V1), rubric_file(tmp_path, 2, V2)
    loop = Loop(label_studio, tmp_path, rubric_path=v1)
    tokens = label_studio.annotator_tokens[:3]
    try:
        loop.push(_items("x", 6))
        tasks = {m.item_key: t for t, m in loop.store.task_mappings("p").items()}
        for k, token in enumerate(tokens):
            for i in range(6):
                task = tasks[f"x-{i}"]
                values = {
                    "overall": "ab"[i % 2],
                    "safety": "safe" if (i + (k == 2)) % 3 else "unsafe",
                    "tone": ("formal", "casual")[(i + k) % 2 if i < 3 else i % 2],
                }
                loop.annotate(token, task, _result(values, loop.side(task)))
        first = loop.sync(full=True)
        assert set(first.alpha) == {"overall", "safety", "tone"}

        # the team moves to v2: the labeling configuration, then the connector's. Label Studio
        # refuses a configuration without a control that annotations use ...
        rubric2 = load_rubric(v2, check_layout=False)
        refused = _set_label_config(label_studio, loop, generate_label_config(rubric2))
        assert refused.status_code == 400
        assert "18 with from_name=safety" in refused.text
        # ... so the retired control stays in it (the connector reads only v2's controls)
        v1_config = generate_label_config(load_rubric(v1, check_layout=False))
        start = v1_config.index(f'<Header value="{SAFETY_QUESTION}" />')
        retired = v1_config[start : v1_config.index("</Choices>", start) + len("</Choices>")]
        v2_config = generate_label_config(rubric2).rstrip().removesuffix("</View>")
        changed = _set_label_config(label_studio, loop, f"{v2_config}  {retired}\n</View>")
        assert changed.status_code == 200, changed.text
        _move_to_config(loop, v1, v2)
        loop.rubric = rubric2
        loop.push(_items("y", 6))
        tasks = {m.item_key: t for t, m in loop.store.task_mappings("p").items()}
        for k, token in enumerate(tokens):
            for i in range(6):
                task = tasks[f"y-{i}"]
                values = {
                    "overall": "ab"[i % 2] if k < 2 or i < 4 else "tie",
                    "harmless": "safe" if i % 3 else "unsafe",
                    "tone": ("formal", "informal")[i % 2],
                }
                loop.annotate(token, task, _result(values, loop.side(task)))
        second = loop.sync(full=True)
        assert set(second.alpha) == {"overall", "harmless", "tone"}
        # the v1 results re-read under v2 (a full pull) are quarantined, their stored
        # judgments kept under v1: 18 on the retired control, 10 with the retired value
        assert second.quarantined == 18 + 10
        reasons = {q.reason for q in loop.store.quarantined("p")}
        assert "control 'safety' is not a dimension of rubric vt@v2" in reasons
        report = json.loads((loop.config.reports_dir / "p" / "latest.json").read_text())
        assert report["dimensions"]["overall"]["n_judgments"] == 36  # unchanged: pooled
        assert report["dimensions"]["harmless"]["n_judgments"] == 18
        assert report["dimensions"]["tone"]["n_judgments"] == 18
        [older] = report["other_rubric_versions"]
        assert older["rubric"]["version"] == "1"
        assert older["pooled_dimensions"] == ["overall"]
        assert {n: d["n_judgments"] for n, d in older["dimensions"].items()} == {
            "overall": 18,
            "safety": 18,
            "tone": 18,
        }
        # the v1 figures equal the first sync's (the same judgments, the same version)
        assert older["dimensions"]["safety"]["krippendorff_alpha"]["value"] == pytest.approx(
            first.alpha["safety"]
        )
        assert older["dimensions"]["tone"]["krippendorff_alpha"]["value"] == pytest.approx(
            first.alpha["tone"]
        )
        # the summary written into the project's description
        project = requests.get(
            f"{label_studio.url}/api/projects/{loop.project_id}/",
            headers=_headers(label_studio.admin_token),
            timeout=30,
        ).json()
        assert (
            "Judgments under rubric vt@v1 (54), scored under that version:"
            in (project["description"])
        )
    finally:
        loop.store.close()


def _set_label_config(server: LabelStudioServer, loop: Loop, config: str) -> Any:
    return requests.patch(
        f"{server.url}/api/projects/{loop.project_id}/",
        json={"label_config": config},
        headers=_headers(server.admin_token),
        timeout=30,
    )


def _move_to_config(loop: Loop, old: Path, new: Path) -> None:
    path = loop.config.path
    path.write_text(path.read_text().replace(str(old), str(new)))
    loop.config = load_config(path)
