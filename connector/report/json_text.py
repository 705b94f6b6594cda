"""The report as JSON text: indented where it is a structure, one line per record in long lists.

``json.dumps(indent=2)`` runs Python's pure-Python encoder, which on a 1M-judgment report (about
105,000 annotator pairs per dimension) takes seconds; without ``indent`` the C encoder runs.
So objects are indented two spaces per level as ``indent=2`` would, and a list whose elements
hold only scalars (an annotator pair, a row of the confusion matrix) is written one element per
line, each element by the C encoder. ``json.loads`` of the text gives what
``json.loads(json.dumps(jsonable(report)))`` gives: the same keys in the same order, the same
values, non-finite floats and numpy scalars replaced as :func:`~connector.report.build.jsonable`
replaces them.
"""

from __future__ import annotations

import json
from typing import Any

from connector.report.build import jsonable

__all__ = ["report_json"]

_SCALARS = frozenset((str, int, float, bool, type(None)))
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)


def _compact(value: Any) -> str:
    """``value`` on one line by the C encoder; through :func:`jsonable` first when it holds a
    non-finite float or a numpy scalar (the encoder refuses both)."""
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError):
        return _ENCODER.encode(jsonable(value))


def _flat(value: Any) -> bool:
    """A scalar, or a list or dict of scalars only (str, int, float, bool, None; a subclass
    such as a numpy float counts as not flat, which changes the layout, not the content)."""
    if isinstance(value, dict):
        return _SCALARS.issuperset(map(type, value.values()))
    if isinstance(value, list | tuple):
        return _SCALARS.issuperset(map(type, value))
    return True


def _write(value: Any, indent: str, out: list[str]) -> None:
    inner = indent + "  "
    if isinstance(value, dict) and value:
        out.append("{")
        last = len(value) - 1
        for n, (key, item) in enumerate(value.items()):
            out.append(f"\n{inner}{_ENCODER.encode(str(key))}: ")
            _write(item, inner, out)
            if n != last:
                out.append(",")
        out.append(f"\n{indent}}}")
    elif isinstance(value, list | tuple) and value and not _flat(value):
        out.append("[")
        lines = [_compact(v) if _flat(v) else "" for v in value]  # no encoding is empty
        if all(lines):
            out.append(f"\n{inner}" + f",\n{inner}".join(lines))
        else:
            last = len(value) - 1
            for n, item in enumerate(value):
                out.append(f"\n{inner}")
                _write(item, inner, out)
                if n != last:
                    out.append(",")
        out.append(f"\n{indent}]")
    else:
        out.append(_compact(value))


def report_json(report: Any) -> str:
    """The report (a :func:`~connector.report.build.build_report` dict) as JSON text, ending
    with a newline."""
    out: list[str] = []
    _write(report, "", out)
    out.append("\n")
    return "".join(out)
