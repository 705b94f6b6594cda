"""Imports run one way (docs/layout.md): each package of connector/ may import only the
packages below it. Read from the source with ast, so a new import that breaks the layering
fails here instead of hiding in a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "connector"

#: package → the connector packages it may import (besides itself, errors and config-free leaves)
ALLOWED: dict[str, set[str]] = {
    "metrics": set(),
    "rubric": {"metrics"},
    "judgments": {"metrics", "rubric"},
    "store": {"rubric", "judgments"},
    "platforms": {"rubric", "judgments", "config"},
    "quality": {"metrics", "rubric", "judgments", "store"},
    # the validation gate reads the report's coding rule (report.build.first_judgments) too
    "calibration": {"rubric", "store", "platforms", "config", "metrics", "report"},
    "report": {"metrics", "rubric", "judgments", "quality"},
    # the report's coding rule (report.build.first_judgments) is the one consensus reads; the
    # export reads the lifecycle's statuses (quality) and a project's items, gold and tasks
    # (store), both below report already
    "consensus": {"metrics", "rubric", "judgments", "report", "quality", "store"},
}
LEAVES = {"errors", "groups", "__init__", "py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("connector"):
            parts = node.module.split(".")
            if len(parts) > 1:
                found.add(parts[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "connector" and len(parts) > 1:
                    found.add(parts[1])
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_packages_import_only_what_lies_below_them(package: str) -> None:
    offending = {
        f"{path.relative_to(ROOT.parent)} imports connector.{name}"
        for path in (ROOT / package).rglob("*.py")
        for name in _imports(path)
        if name not in ALLOWED[package] | {package} | LEAVES
    }
    assert not offending, sorted(offending)
