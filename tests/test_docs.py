"""The documentation keeps up with the code.

- Every configuration key that ``connector/config.py`` accepts (the tuples passed to its
  ``check_keys`` calls, read from the source with :mod:`ast`, not listed here) appears in
  ``docs/configuration.md``.
- Every ``iaa-connector <command> [<subcommand>]`` written in README.md and docs/*.md exists:
  its ``--help`` exits with status 0 through Typer's test runner.
- Every relative link in README.md and docs/*.md points to an existing file.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from typer.testing import CliRunner

from connector.cli import app

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
CONFIG_SOURCE = REPO / "connector" / "config.py"


def _doc_files() -> list[Path]:
    return [REPO / "README.md", *sorted(DOCS.glob("*.md"))]


def _config_keys() -> dict[str, tuple[str, ...]]:
    """Every ``check_keys((...))`` call of connector/config.py: the table it checks (the
    receiver's name, or the function it is in) and the keys it allows."""
    tree = ast.parse(CONFIG_SOURCE.read_text(encoding="utf-8"))
    found: dict[str, tuple[str, ...]] = {}
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        for node in ast.walk(function):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "check_keys"
                and node.args
            ):
                continue
            receiver = node.func.value
            name = receiver.id if isinstance(receiver, ast.Name) else "?"
            if name == "section":  # _platform(section) / _project(section)
                name = function.name.lstrip("_")
            keys = ast.literal_eval(node.args[0])
            assert isinstance(keys, tuple)
            assert all(isinstance(k, str) for k in keys)
            found[name] = keys
    return found


def test_the_config_source_has_the_tables_we_expect() -> None:
    # a guard for the parser above: if config.py is restructured, this says so plainly
    tables = _config_keys()
    assert {"top", "store", "reports", "server", "alerts", "platform", "project"} <= set(tables)
    assert sum(len(keys) for keys in tables.values()) >= 30


def test_every_configuration_key_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    missing = [
        f"{table}.{key}"
        for table, keys in sorted(_config_keys().items())
        for key in keys
        if f"`{key}`" not in text
    ]
    assert not missing, f"docs/configuration.md does not mention: {', '.join(missing)}"


def test_every_table_has_its_section() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    for table in _config_keys()["top"]:
        heading = f"## `[[{table}]]`" if table in ("platforms", "projects") else f"## `[{table}]`"
        assert heading in text, f"docs/configuration.md has no section {heading}"


# --- commands ---------------------------------------------------------------------------------

_COMMAND = re.compile(r"iaa-connector((?:[ \t]+[a-z][a-z-]*)+)")
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"`([^`\n]+)`")


def _group_names() -> set[str]:
    return {group.name for group in app.registered_groups if group.name}


def _code_of(text: str) -> str:
    """The code in Markdown ``text``: fenced blocks and inline code spans (prose such as
    "iaa-connector measures it" is not a command)."""
    fenced = [m.group(0) for m in _FENCE.finditer(text)]
    inline = _INLINE_CODE.findall(_FENCE.sub("", text))
    return "\n".join([*fenced, *inline])


def _commands_in(text: str) -> set[tuple[str, ...]]:
    """``iaa-connector`` followed by one word (a command), or two when the first is a group,
    wherever the Markdown ``text`` shows code."""
    groups = _group_names()
    found: set[tuple[str, ...]] = set()
    for match in _COMMAND.finditer(_code_of(text)):
        words = match.group(1).split()
        found.add(tuple(words[:2]) if words[0] in groups and len(words) > 1 else (words[0],))
    return found


def _documented_commands() -> list[tuple[str, tuple[str, ...]]]:
    return sorted(
        (path.relative_to(REPO).as_posix(), command)
        for path in _doc_files()
        for command in _commands_in(path.read_text(encoding="utf-8"))
    )


def test_the_docs_name_commands() -> None:
    commands = {command for _, command in _documented_commands()}
    assert {("report",), ("sync",), ("serve",), ("doctor",), ("rubric", "validate")} <= commands


@pytest.mark.parametrize(
    ("where", "command"),
    _documented_commands(),
    ids=[f"{where}:{' '.join(command)}" for where, command in _documented_commands()],
)
def test_every_documented_command_exists(where: str, command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, (
        f"{where} names `iaa-connector {' '.join(command)}`, which does not exist: {result.output}"
    )


def test_a_made_up_command_is_caught() -> None:
    result = CliRunner().invoke(app, ["no-such-command", "--help"])
    assert result.exit_code != 0


# --- links ------------------------------------------------------------------------------------

_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def _relative_links() -> list[tuple[str, str]]:
    links = []
    for path in _doc_files():
        text = _FENCE.sub("", path.read_text(encoding="utf-8"))
        for target in _LINK.findall(text):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue  # http:, https:, mailto:, in-page anchors
            links.append((path.relative_to(REPO).as_posix(), target))
    return sorted(set(links))


def test_the_docs_have_links() -> None:
    assert len(_relative_links()) >= 10


@pytest.mark.parametrize(("where", "target"), _relative_links())
def test_every_relative_link_points_to_a_file(where: str, target: str) -> None:
    file = unquote(target.split("#", 1)[0])
    resolved = (REPO / where).parent / file
    assert resolved.exists(), f"{where} links to {target}, but {resolved} does not exist"
