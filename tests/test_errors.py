"""The exception tree drawn in connector/errors.py is the package's real one.

Every exception class defined anywhere in ``connector/`` is a :class:`ConnectorError`, appears
in the tree of the ``connector.errors`` docstring under its nearest drawn ancestor, and says
which builtin it also subclasses; the one exception allowed outside is a private class that
never leaves its module (``INTERNAL``).
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

import connector
from connector import errors
from connector.errors import ConnectorError

PACKAGE = Path(connector.__file__).resolve().parent

#: private exceptions raised and caught inside one module, never seen by a caller
INTERNAL = {
    # a rejected webhook request; the receiver turns it into its HTTP answer in the same module
    "connector.service.app._RejectedError",
}

_BRANCH = re.compile(r"^(?P<indent>(?:│   |    )*)(?:├── |└── )(?P<name>\w+)(?P<text>.*)$")
_ALSO = re.compile(r"\(also an? (\w+)\)")


def package_modules() -> list[str]:
    """Every module of the package, by file (Alembic's migration scripts are not modules)."""
    names = []
    for file in sorted(PACKAGE.rglob("*.py")):
        parts = file.relative_to(PACKAGE.parent).with_suffix("").parts
        if "migrations" in parts:
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def package_exceptions() -> dict[str, type[BaseException]]:
    """Every exception class defined in the package, by qualified name."""
    found: dict[str, type[BaseException]] = {}
    for name in package_modules():
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == name
            ):
                found[f"{name}.{value.__qualname__}"] = value
    return found


def drawn_tree() -> dict[str, tuple[str | None, str]]:
    """The docstring's tree: class name → (parent name, the text after the name)."""
    doc = errors.__doc__ or ""
    lines = doc.split("::\n", 1)[1].splitlines()
    block = [line[4:] for line in lines[1 : lines.index("", 1)]]
    root = block[0].strip()
    tree: dict[str, tuple[str | None, str]] = {root: (None, "")}
    parents = [root]
    for line in block[1:]:
        match = _BRANCH.match(line)
        assert match is not None, f"not a tree line: {line!r}"
        depth = len(match["indent"]) // 4 + 1
        name = match["name"]
        assert name not in tree, f"{name} is drawn twice"
        tree[name] = (parents[depth - 1], match["text"].strip())
        parents[depth:] = [name]
    return tree


def test_package_modules_are_found() -> None:
    modules = package_modules()
    assert "connector.errors" in modules
    assert "connector.service.webhooks" in modules
    assert "connector.platforms.base" in modules
    assert not any("migrations" in name for name in modules)


def test_every_module_imports_without_the_optional_extras() -> None:
    # pytest imports every connector module to collect its doctests (pyproject.toml), and
    # test_errors imports them all: none may need an optional extra (argilla, label-studio,
    # postgres, parquet) at import time.
    blocked = ("argilla", "label_studio_sdk", "psycopg", "pyarrow")
    code = (
        "import importlib, sys\n"
        f"for name in {blocked!r}: sys.modules[name] = None\n"
        f"for module in {package_modules()!r}: importlib.import_module(module)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_tree_is_read_from_the_docstring() -> None:
    tree = drawn_tree()
    assert tree["ConnectorError"] == (None, "")
    assert tree["OptionError"][0] == "ConnectorError"
    assert tree["TokenError"][0] == "PlatformError"
    assert len(tree) >= 16


def test_every_exception_class_is_a_connector_error() -> None:
    outside = [
        name
        for name, cls in package_exceptions().items()
        if name not in INTERNAL and not issubclass(cls, ConnectorError)
    ]
    assert outside == [], f"subclass ConnectorError (connector/errors.py): {outside}"


def test_every_exception_class_is_drawn_in_the_tree() -> None:
    classes = {
        cls.__name__: name for name, cls in package_exceptions().items() if name not in INTERNAL
    }
    drawn = set(drawn_tree())
    assert sorted(set(classes) - drawn) == [], "draw them in connector/errors.py's docstring"
    assert sorted(drawn - set(classes)) == [], "drawn but not defined in connector/"


def test_every_exception_class_name_is_unique() -> None:
    names = [cls.__name__ for cls in package_exceptions().values()]
    assert sorted({n for n in names if names.count(n) > 1}) == []


@pytest.mark.parametrize(
    "qualified", sorted(set(package_exceptions()) - INTERNAL), ids=lambda q: q.split(".")[-1]
)
def test_the_tree_shows_the_real_parent_and_builtin(qualified: str) -> None:
    cls = package_exceptions()[qualified]
    tree = drawn_tree()
    parent, text = tree[cls.__name__]
    if cls is ConnectorError:
        assert parent is None
        return
    nearest = next(base.__name__ for base in cls.__mro__[1:] if base.__name__ in tree)
    assert parent == nearest
    own_builtins = sorted(
        base.__name__
        for base in cls.__bases__
        if base.__module__ == "builtins" and base is not Exception
    )
    assert sorted(_ALSO.findall(text)) == own_builtins
    for name in own_builtins:
        assert issubclass(cls, getattr(builtins, name))


def test_internal_exceptions_are_private_and_exist() -> None:
    found = package_exceptions()
    for name in INTERNAL:
        assert name in found
        assert name.rsplit(".", 1)[1].startswith("_")


def test_signature_error_is_a_connector_error_and_a_value_error() -> None:
    from connector.service.webhooks import SignatureError, decode_secret

    with pytest.raises(ConnectorError) as caught:
        decode_secret("not base64!")
    assert isinstance(caught.value, SignatureError)
    assert isinstance(caught.value, ValueError)
    assert caught.value.reason == "secret_invalid"
