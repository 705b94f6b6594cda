"""Line-aware YAML reading for rubric files.

PyYAML's ``safe_load`` forgets where each value came from and silently keeps the last of two
duplicate keys. Rubric errors must name file and line, so this module composes the node graph
(``yaml.SafeLoader``), rejects duplicate and non-string keys, and returns a small tree of
:class:`YamlScalar`, :class:`YamlSequence` and :class:`YamlMapping`, each carrying its 1-based
line. :class:`YamlSection` reads one mapping of that tree with typed accessors that raise
:class:`~connector.errors.RubricError` naming the offending key.

Syntax errors (``yaml.YAMLError``) are translated here, once, into ``RubricError`` with the line
PyYAML reports.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import TypeVar

import yaml

from connector.errors import RubricError

__all__ = [
    "YamlMapping",
    "YamlNode",
    "YamlScalar",
    "YamlSection",
    "YamlSequence",
    "compose_yaml",
    "describe",
    "did_you_mean",
]

_STR_TAG = "tag:yaml.org,2002:str"
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True, kw_only=True)
class YamlScalar:
    """A scalar as PyYAML's safe constructor reads it (str, int, float, bool, None, date...)."""

    value: object
    line: int


@dataclass(frozen=True, slots=True, kw_only=True)
class YamlSequence:
    """A YAML list; ``line`` is where it starts."""

    items: tuple[YamlNode, ...]
    line: int


@dataclass(frozen=True, slots=True, kw_only=True)
class YamlEntry:
    """One ``key: value`` pair of a mapping, with the line of the key."""

    key: str
    key_line: int
    value: YamlNode


@dataclass(frozen=True, slots=True, kw_only=True)
class YamlMapping:
    """A YAML mapping with string keys, in file order; ``line`` is where it starts."""

    entries: dict[str, YamlEntry]
    line: int


YamlNode = YamlScalar | YamlSequence | YamlMapping


def compose_yaml(text: str, *, path: str | None) -> YamlNode | None:
    """Parse one YAML document into a line-annotated tree; ``None`` for an empty document.

    Raises:
        RubricError: YAML syntax error, unknown tag, duplicate key or non-string key.
    """
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        return _convert(root, loader, path=path)
    except yaml.MarkedYAMLError as exc:
        raise RubricError(_syntax_message(exc), path=path, line=_line_of(exc)) from exc
    except yaml.YAMLError as exc:
        raise RubricError(f"invalid YAML: {exc}", path=path) from exc
    finally:
        loader.dispose()


def _line_of(exc: yaml.MarkedYAMLError) -> int | None:
    mark = exc.problem_mark or exc.context_mark
    return mark.line + 1 if mark is not None else None


def _syntax_message(exc: yaml.MarkedYAMLError) -> str:
    """PyYAML's problem, with its context (``while parsing ... at line N``) when it has one."""
    message = f"invalid YAML: {exc.problem or exc.context or 'unreadable document'}"
    if exc.problem and exc.context:
        where = exc.context_mark
        at = (
            f" at line {where.line + 1}"
            if where is not None
            and exc.problem_mark is not None
            and where.line != exc.problem_mark.line
            else ""
        )
        message += f" ({exc.context}{at})"
    return message


def _convert(node: yaml.Node, loader: yaml.SafeLoader, *, path: str | None) -> YamlNode:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        entries: dict[str, YamlEntry] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise RubricError(
                    "a key must be a plain string, got a list or mapping",
                    path=path,
                    line=key_line,
                )
            if key_node.tag != _STR_TAG:
                raise RubricError(
                    f"key {key_node.value} is not a plain string; quote it "
                    "('<<' merge keys are not supported)",
                    path=path,
                    line=key_line,
                )
            key = str(key_node.value)
            if key in entries:
                first = entries[key].key_line
                raise RubricError(
                    f"duplicate key '{key}' (first defined at line {first}); keep only one",
                    path=path,
                    line=key_line,
                )
            value = _convert(value_node, loader, path=path)
            entries[key] = YamlEntry(key=key, key_line=key_line, value=value)
        return YamlMapping(entries=entries, line=line)
    if isinstance(node, yaml.SequenceNode):
        items = tuple(_convert(item, loader, path=path) for item in node.value)
        return YamlSequence(items=items, line=line)
    return YamlScalar(value=loader.construct_object(node, deep=True), line=line)


def describe(node: YamlNode) -> str:
    """Say what a node is, for 'must be X, got Y' messages."""
    if isinstance(node, YamlMapping):
        return "a mapping"
    if isinstance(node, YamlSequence):
        return "a list"
    value = node.value
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    return f"a {type(value).__name__} ({value})"


def did_you_mean(word: str, choices: Collection[str]) -> str:
    """``"; did you mean 'x'?"`` when a close match exists, else ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


@dataclass(frozen=True, slots=True, kw_only=True)
class YamlSection:
    """One mapping of a rubric file, read with typed accessors.

    ``context`` prefixes every message (``"dimension 'overall': "``, ``"thresholds: "``) so an
    error says which part of the rubric it is about. ``errors`` collects the problems found so
    far (shared by every section of one file), so that one reading reports all of them;
    accessors raise, :meth:`check_keys` and :meth:`attempt` collect.
    """

    mapping: YamlMapping
    path: str | None
    context: str = ""
    errors: list[RubricError] = field(default_factory=list)
    misspelt: dict[str, RubricError] = field(default_factory=dict)

    def within(self, mapping: YamlMapping, *, context: str) -> YamlSection:
        """A section for ``mapping`` sharing this one's file and error list."""
        return YamlSection(mapping=mapping, path=self.path, context=context, errors=self.errors)

    def attempt(self, read: Callable[[], _T], default: _T) -> _T:
        """``read()``, or ``default`` with its :class:`RubricError` collected in ``errors``."""
        try:
            return read()
        except RubricError as exc:
            self.errors.append(exc)
            return default

    def report(self, message: str, *, line: int | None) -> None:
        """Collect an error about this section (see :meth:`error`)."""
        self.errors.append(self.error(message, line=line))

    def error(self, message: str, *, line: int | None) -> RubricError:
        return RubricError(f"{self.context}{message}", path=self.path, line=line)

    def check_keys(self, *, allowed: Collection[str], required: Collection[str]) -> None:
        """Collect every unknown key (with a suggestion) and every missing required key."""
        for key, entry in self.mapping.entries.items():
            if key not in allowed:
                close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
                hint = did_you_mean(key, allowed) or f"; valid keys are {', '.join(allowed)}"
                error = self.error(f"unknown key '{key}'{hint}", line=entry.key_line)
                self.errors.append(error)
                if close and close[0] not in self.mapping.entries:
                    self.misspelt[close[0]] = error
        for key in required:
            if key not in self.mapping.entries and key not in self.misspelt:
                self.report(f"missing required key '{key}'", line=self.mapping.line)

    def node(self, key: str) -> YamlNode | None:
        entry = self.mapping.entries.get(key)
        return entry.value if entry is not None else None

    def key_line(self, key: str) -> int:
        entry = self.mapping.entries.get(key)
        return entry.key_line if entry is not None else self.mapping.line

    def has(self, key: str) -> bool:
        return key in self.mapping.entries

    def section(self, key: str, *, context: str) -> YamlSection | None:
        """The mapping under ``key``; ``None`` when the key is absent."""
        node = self.node(key)
        if node is None:
            return None
        if not isinstance(node, YamlMapping):
            raise self.error(f"'{key}' must be a mapping, got {describe(node)}", line=node.line)
        return self.within(node, context=context)

    def sequence(self, key: str) -> YamlSequence:
        node = self._required(key)
        if not isinstance(node, YamlSequence):
            raise self.error(f"'{key}' must be a list, got {describe(node)}", line=node.line)
        return node

    def string(self, key: str) -> str:
        """A non-empty string (surrounding whitespace removed)."""
        node = self._required(key)
        value = node.value if isinstance(node, YamlScalar) else None
        if not isinstance(value, str):
            raise self.error(f"'{key}' must be a string, got {describe(node)}", line=node.line)
        if not value.strip():
            raise self.error(f"'{key}' must not be empty", line=node.line)
        return value.strip()

    def number(
        self,
        key: str,
        default: float,
        *,
        low: float,
        high: float,
        low_open: bool = False,
        high_open: bool = False,
        why: str = "",
    ) -> float:
        """A number in ``[low, high]`` (``low_open``/``high_open`` leave an end out);
        ``default`` when the key is absent. ``why`` is added to the range message."""
        node = self.node(key)
        if node is None:
            return default
        value = node.value if isinstance(node, YamlScalar) else None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise self.error(f"'{key}' must be a number, got {describe(node)}", line=node.line)
        above = value > low if low_open else value >= low
        below = value < high if high_open else value <= high
        if not (above and below):
            if not (low_open or high_open):
                bounds = f"between {low:g} and {high:g}"
            else:
                bounds = (
                    f"{'above' if low_open else 'at least'} {low:g} and "
                    f"{'below' if high_open else 'at most'} {high:g}"
                )
            raise self.error(f"'{key}' must be {bounds}{why}, got {value:g}", line=node.line)
        return float(value)

    def integer(self, key: str, default: int, *, minimum: int, why: str = "") -> int:
        """An integer ``>= minimum``; ``default`` when the key is absent."""
        node = self.node(key)
        if node is None:
            return default
        value = node.value if isinstance(node, YamlScalar) else None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"'{key}' must be an integer, got {describe(node)}", line=node.line)
        if value < minimum:
            raise self.error(
                f"'{key}' must be at least {minimum}{why}, got {value}", line=node.line
            )
        return value

    def _required(self, key: str) -> YamlNode:
        node = self.node(key)
        if node is None:
            if key in self.misspelt:  # "unknown key 'x'; did you mean '<key>'?" says it all
                raise self.misspelt[key]
            raise self.error(f"missing required key '{key}'", line=self.mapping.line)
        return node
