"""``iaa-connector --version`` and ``--help`` import no heavy module (issue 10: start-up ≤ 0.3 s).

The time itself is measured by ``benchmarks/bench_report_file.py`` (``cli_start_seconds``); this
test guards the cause: pandas, numpy, SQLAlchemy, pydantic and the platforms are imported only
by the commands that use them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "numpy", "sqlalchemy", "alembic", "pydantic", "httpx", "yaml", "scipy")


def _modules_after(argv: list[str]) -> tuple[str, set[str]]:
    script = (
        "import json, sys\n"
        f"sys.argv = ['iaa-connector', *{argv!r}]\n"
        "from connector.cli import main\n"
        "import io, contextlib\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(json.dumps([out.getvalue(), sorted(sys.modules)]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    printed, modules = json.loads(done.stdout.strip().splitlines()[-1])
    return printed, {m.split(".")[0] for m in modules}


@pytest.mark.parametrize("argv", [["--version"], ["--help"]])
def test_version_and_help_import_no_heavy_module(argv: list[str]) -> None:
    printed, roots = _modules_after(argv)
    assert printed.strip()
    assert sorted(roots & set(HEAVY)) == []


def test_version_line() -> None:
    printed, _ = _modules_after(["--version"])
    from connector import __version__

    assert printed.strip() == f"iaa-connector {__version__}"


def test_judgments_package_names_resolve_lazily() -> None:
    import connector.judgments as judgments

    for name in judgments.__all__:
        assert getattr(judgments, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = judgments.nope  # type: ignore[attr-defined]
