"""The validation gate end to end against the real Label Studio, through the command line:
rubric v1 → v2, a v2 validation batch judged by three annotators with their own tokens,
``iaa-connector rubric promote`` refusing (batch incomplete, then agreement too low), then
accepting once the annotators' answers agree, and production pushes refused before and
accepted after."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from labelstudio_server import LabelStudioServer
from test_gate import rubric_yaml, scatter, truth
from test_labelstudio_loop import Loop, _choice, _headers, _left_for
from typer.testing import CliRunner

from connector.cli import app
from connector.config import load_config

pytestmark = pytest.mark.labelstudio

N_ITEMS = 12


def _rubric(tmp_path: Path, version: int) -> Path:
    path = tmp_path / "rubrics" / "gatetest" / f"v{version}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(rubric_yaml(version, size=(10, 30)))
    return path


def _items_file(path: Path, prefix: str) -> Path:
    path.write_text(
        "".join(
            json.dumps(
                {
                    "item_key": f"{prefix}{i}",
                    "prompt": f"Question {i}?",
                    "response_a": f"Answer A {i}.",
                    "response_b": f"Answer B {i}, longer.",
                }
            )
            + "\n"
            for i in range(N_ITEMS)
        )
    )
    return path


def test_rubric_v1_to_v2_gate_refuses_then_accepts(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    v1, v2 = _rubric(tmp_path, 1), _rubric(tmp_path, 2)
    loop = Loop(label_studio, tmp_path, rubric_path=v1)
    runner = CliRunner()
    config = loop.config.path
    items = _items_file(tmp_path / "items.jsonl", "i")
    more = _items_file(tmp_path / "more.jsonl", "m")
    tokens = label_studio.annotator_tokens[:3]

    def cli(*args: str) -> Any:
        return runner.invoke(app, [*args, "-c", str(config)])

    def batch_tasks(output: str) -> dict[int, str]:
        """Item index → task id of the batch the push output names."""
        batch_id = output.split("batch ")[1].split(":")[0]
        mappings = loop.store.task_mappings("p")
        return {
            int(m.item_key.removeprefix("i")): task_id
            for task_id, m in mappings.items()
            if m.batch_id == batch_id
        }

    def answer(token: str, task_id: str, value: str) -> str:
        return loop.annotate(token, task_id, _choice(_left_for(value, loop.side(task_id))))

    def revise(token: str, annotation_id: str, task_id: str, value: str) -> None:
        requests.patch(
            f"{label_studio.url}/api/annotations/{annotation_id}/",
            json={"result": _choice(_left_for(value, loop.side(task_id)))},
            headers=_headers(token),
            timeout=30,
        ).raise_for_status()

    try:
        # v1, the project's first version: production goes out without a gate
        first = cli("push", "p", "--items", str(items))
        assert first.exit_code == 0, first.output
        for i, task_id in batch_tasks(first.output).items():
            for k, token in enumerate(tokens):
                answer(token, task_id, scatter(i, k))
        loop.sync()

        # the configuration now names v2
        config.write_text(config.read_text().replace(str(v1), str(v2)))
        loop.config = load_config(config)
        refused = cli("push", "p", "--items", str(more))
        assert refused.exit_code == 2
        assert "gatetest@v2 is a new version for project p" in " ".join(refused.output.split())
        validation = cli("push", "p", "--items", str(items), "--kind", "validation")
        assert validation.exit_code == 0, validation.output
        tasks = batch_tasks(validation.output)
        assert len(tasks) == N_ITEMS

        # two annotators answer (the second carelessly), the third not yet: incomplete
        annotations: dict[tuple[int, int], str] = {}
        for i, task_id in tasks.items():
            annotations[i, 0] = answer(tokens[0], task_id, truth(i))
            annotations[i, 1] = answer(tokens[1], task_id, scatter(i, 1))
        loop.sync()
        incomplete = cli("rubric", "promote", "p", "2", "--by", "lead")
        assert incomplete.exit_code == 1, incomplete.output
        text = " ".join(incomplete.output.split())
        assert "validation gate of gatetest@v2 for project p: incomplete" in text
        assert f"{N_ITEMS} of {N_ITEMS} items have fewer than 3 annotators" in text
        assert f"{N_ITEMS} judgment(s) missing" in text
        unpromoted = cli("push", "p", "--items", str(more))
        assert unpromoted.exit_code == 2
        assert "iaa-connector rubric promote p 2" in " ".join(unpromoted.output.split())

        # the third answers carelessly too: complete, agreement too low
        for i, task_id in tasks.items():
            annotations[i, 2] = answer(tokens[2], task_id, scatter(i, 2))
        loop.sync(full=True)
        low = cli("rubric", "promote", "p", "2", "--by", "lead")
        assert low.exit_code == 1, low.output
        text = " ".join(low.output.split())
        assert "for project p: refused" in text
        assert "below the target 0.80" in text

        # after a guideline session the careless two revise their answers: accepted
        for i, task_id in tasks.items():
            for k in (1, 2):
                revise(tokens[k], annotations[i, k], task_id, truth(i))
        loop.sync(full=True)
        out = tmp_path / "gate.md"
        accepted = cli("rubric", "promote", "p", "2", "--by", "lead", "--out", str(out))
        assert accepted.exit_code == 0, accepted.output
        text = " ".join(accepted.output.split())
        assert "for project p: accepted" in text
        assert "gatetest@v2 against gatetest@v1 on matched items" in text
        assert f"overall: {N_ITEMS} matched items" in text
        assert "promoted gatetest@v2 for project p" in text
        assert "accepted" in out.read_text()
        [promotion] = loop.store.promotions("p")
        assert (promotion.version, promotion.promoted_by) == ("2", "lead")
        production = cli("push", "p", "--items", str(more))
        assert production.exit_code == 0, production.output
    finally:
        loop.store.close()
