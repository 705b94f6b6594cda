"""The validation gate's end-to-end flow, the same on both real platforms
(tests/test_gate_labelstudio.py, tests/test_gate_argilla.py), through the command line:
rubric v1 → v2, a v2 validation batch judged by three annotators with their own credentials,
``iaa-connector rubric promote`` refusing (batch incomplete, then agreement too low), then
accepting once the careless annotators revise their answers; production pushes refused before
and accepted after."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from test_gate import rubric_yaml, scatter, truth
from typer.testing import CliRunner

from connector.cli import app
from connector.config import Config, load_config
from connector.store import Store

N_ITEMS = 12

Answer = Callable[[int, str, str], str]  # (annotator index, task id, canonical value) -> answer id
Revise = Callable[[int, str, str, str], None]  # (annotator index, answer id, task id, value)


def rubric_file(tmp_path: Path, version: int) -> Path:
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


def run_gate_flow(
    tmp_path: Path,
    *,
    config: Config,
    store: Store,
    v1: Path,
    v2: Path,
    sync: Callable[[Config], Any],
    answer: Answer,
    revise: Revise,
) -> None:
    """Drive the flow; ``config`` names ``v1`` on entry."""
    runner = CliRunner()
    items = _items_file(tmp_path / "items.jsonl", "i")
    more = _items_file(tmp_path / "more.jsonl", "m")

    def cli(*args: str) -> Any:
        return runner.invoke(app, [*args, "-c", str(config.path)])

    def batch_tasks(output: str) -> dict[int, str]:
        """Item index → task id of the batch the push output names."""
        batch_id = output.split("batch ")[1].split(":")[0]
        return {
            int(m.item_key.removeprefix("i")): task_id
            for task_id, m in store.task_mappings("p").items()
            if m.batch_id == batch_id
        }

    # v1, the project's first version: production goes out without a gate
    first = cli("push", "p", "--items", str(items))
    assert first.exit_code == 0, first.output
    for i, task_id in batch_tasks(first.output).items():
        for k in range(3):
            answer(k, task_id, scatter(i, k))
    sync(config)

    # the configuration now names v2
    config.path.write_text(config.path.read_text().replace(str(v1), str(v2)))
    config = load_config(config.path)
    refused = cli("push", "p", "--items", str(more))
    assert refused.exit_code == 2
    assert "gatetest@v2 is a new version for project p" in " ".join(refused.output.split())
    validation = cli("push", "p", "--items", str(items), "--kind", "validation")
    assert validation.exit_code == 0, validation.output
    tasks = batch_tasks(validation.output)
    assert len(tasks) == N_ITEMS

    # two annotators answer (the second carelessly), the third not yet: incomplete
    answers: dict[tuple[int, int], str] = {}
    for i, task_id in tasks.items():
        answers[i, 0] = answer(0, task_id, truth(i))
        answers[i, 1] = answer(1, task_id, scatter(i, 1))
    sync(config)
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
        answers[i, 2] = answer(2, task_id, scatter(i, 2))
    sync(config)
    low = cli("rubric", "promote", "p", "2", "--by", "lead")
    assert low.exit_code == 1, low.output
    text = " ".join(low.output.split())
    assert "for project p: refused" in text
    assert "below the target 0.80" in text

    # after a guideline session the careless two revise their answers: accepted
    for i, task_id in tasks.items():
        for k in (1, 2):
            revise(k, answers[i, k], task_id, truth(i))
    sync(config)
    out = tmp_path / "gate.md"
    accepted = cli("rubric", "promote", "p", "2", "--by", "lead", "--out", str(out))
    assert accepted.exit_code == 0, accepted.output
    text = " ".join(accepted.output.split())
    assert "for project p: accepted" in text
    assert "gatetest@v2 against gatetest@v1 on matched items" in text
    assert f"overall: {N_ITEMS} matched items" in text
    assert "promoted gatetest@v2 for project p" in text
    assert "accepted" in out.read_text()
    [promotion] = store.promotions("p")
    assert (promotion.version, promotion.promoted_by) == ("2", "lead")
    production = cli("push", "p", "--items", str(more))
    assert production.exit_code == 0, production.output
