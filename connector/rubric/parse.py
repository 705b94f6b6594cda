"""Reading rubric YAML: every key validated, errors as ``file:line: what``."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TypeVar

from connector.errors import RubricError
from connector.rubric.model import (
    _RESPONSES,
    KINDS,
    LEVELS,
    BatchSize,
    Calibration,
    Dimension,
    Kind,
    Level,
    Rubric,
    Thresholds,
    Value,
    _with_hash,
)
from connector.rubric.yaml_source import (
    YamlMapping,
    YamlNode,
    YamlScalar,
    YamlSection,
    YamlSequence,
    compose_yaml,
    describe,
    did_you_mean,
)

__all__ = [
    "find_rubrics",
    "load_rubric",
    "parse_rubric",
]

_RUBRIC_KEYS = (
    "id",
    "version",
    "changelog",
    "guidelines",
    "guidelines_file",
    "dimensions",
    "thresholds",
    "calibration",
)
_DIMENSION_KEYS = (
    "name",
    "question",
    "kind",
    "values",
    "level",
    "first",
    "second",
    "non_decisive",
    "target_alpha",
    "gating",
    "gating_reason",
    "signed",
)
_CODING_KEYS = ("first", "second")
_THRESHOLD_KEYS = (
    "qualify_gold_accuracy",
    "retrain_gold_accuracy",
    "target_alpha",
    "min_gold_judgments",
)
_CALIBRATION_KEYS = (
    "gold_share",
    "retest_share",
    "retest_delay_hours",
    "validation_batch_size",
    "annotators_per_item",
)
#: Gold-accuracy thresholds lie in [0.01, 0.99], retrain at least 0.01 below qualify. The gold
#: drift chart (connector.metrics.cusum.design: p0 = qualify, p1 = retrain) needs
#: 0 < p1 < p0 < 1, and
#: its Markov-chain lattice grows as p0 and p1 come together or near 0 or 1: at these limits a
#: design (and any consensus design, whose p0 is the pool's rate to 0.01 and p1 is p0 minus
#: the same gap) needs at most ~2,500 states, a few seconds; 0.001 apart would need ~10 times
#: as many, a dense matrix of gigabytes.
_ACCURACY_LOW, _ACCURACY_HIGH, _ACCURACY_GAP = 0.01, 0.99, 0.01
_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")
_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]*")
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_Word = TypeVar("_Word", bound=str)


# --- loading -------------------------------------------------------------------------------


def load_rubric(path: str | Path, *, check_layout: bool = True) -> Rubric:
    """Read and validate a rubric file.

    With ``check_layout`` the file must sit at ``<id>/v<version>.yaml``: its directory is named
    after the rubric ``id`` and its stem is ``v`` + ``version``.

    Raises:
        RubricError: the file is missing, unreadable or invalid. Every problem found is in
            :attr:`RubricError.problems`; the message is one ``path:line: what`` line each.
    """
    file = Path(path)
    shown = str(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise RubricError(
            "rubric file not found; check the path (rubrics usually live at "
            "rubrics/<id>/v<version>.yaml)",
            path=shown,
        ) from exc
    except UnicodeDecodeError as exc:
        raise RubricError("rubric file is not UTF-8 text", path=shown) from exc
    except OSError as exc:
        raise RubricError(f"cannot read rubric file: {exc.strerror}", path=shown) from exc
    return _parse(text, path=shown, base_dir=file.parent, layout=file if check_layout else None)


def parse_rubric(
    text: str, *, path: str | None = None, base_dir: str | Path | None = None
) -> Rubric:
    """Validate rubric YAML ``text``; ``path`` is used in messages and, with ``base_dir``
    (default: the directory of ``path``), to resolve ``guidelines_file``.

    Raises:
        RubricError: the text is not a valid rubric; every problem found is in
            :attr:`RubricError.problems` (message: one ``path:line: what`` line each).
    """
    return _parse(text, path=path, base_dir=base_dir, layout=None)


def find_rubrics(root: str | Path = "rubrics") -> list[Path]:
    """The rubric files ``<root>/<id>/v<version>.yaml``, sorted by id then version.

    Raises:
        RubricError: ``root`` is not a directory.
    """
    base = Path(root)
    if not base.is_dir():
        raise RubricError("rubric directory not found", path=str(root))
    files = [p for p in base.glob("*/v*.y*ml") if p.suffix in {".yaml", ".yml"} and p.is_file()]
    return sorted(files, key=lambda p: (p.parent.name, _version_order(p.stem[1:])))


def _version_order(version: str) -> tuple[int, int, str]:
    return (0, int(version), "") if version.isdigit() else (1, 0, version)


def _parse(
    text: str, *, path: str | None, base_dir: str | Path | None, layout: Path | None
) -> Rubric:
    """Read every part of the rubric, collecting the errors of all parts; raise them together.

    A YAML syntax error stops the reading there (the rest cannot be read reliably)."""
    root = compose_yaml(text, path=path)
    if root is None:
        raise RubricError(
            "the file is empty; a rubric needs id, version, changelog, guidelines and dimensions",
            path=path,
            line=1,
        )
    if not isinstance(root, YamlMapping):
        raise RubricError(
            f"a rubric must be a mapping of id, version, changelog, ...; got {describe(root)}",
            path=path,
            line=root.line,
        )
    top = YamlSection(mapping=root, path=path)
    top.check_keys(allowed=_RUBRIC_KEYS, required=("id", "version", "changelog"))
    rubric_id = top.attempt(lambda: _rubric_id(top), "")
    version = top.attempt(lambda: _version(top), "")
    changelog = top.attempt(lambda: top.string("changelog"), "")
    guidelines = top.attempt(lambda: _guidelines(top, path=path, base_dir=base_dir), "")
    no_dimensions: tuple[Dimension, ...] = ()
    dimensions = top.attempt(lambda: _dimensions(top), no_dimensions)
    thresholds = top.attempt(lambda: _thresholds(top), Thresholds())
    calibration = top.attempt(lambda: _calibration(top), Calibration())
    if layout is not None and rubric_id and version:
        _check_layout(top, layout, rubric_id=rubric_id, version=version)
    if top.errors:
        raise RubricError.collected(top.errors)
    rubric = Rubric(
        id=rubric_id,
        version=version,
        changelog=changelog,
        guidelines=guidelines,
        dimensions=dimensions,
        thresholds=thresholds,
        calibration=calibration,
        path=path,
    )
    return _with_hash(rubric)


def _rubric_id(top: YamlSection) -> str:
    rubric_id = top.string("id")
    if not _ID.fullmatch(rubric_id):
        raise top.error(
            f"id '{rubric_id}' must be a lowercase slug (a-z, 0-9, '-', '_', '.'), "
            "e.g. 'rlhf-pairwise'",
            line=top.key_line("id"),
        )
    return rubric_id


def _check_layout(top: YamlSection, file: Path, *, rubric_id: str, version: str) -> None:
    if file.parent.name != rubric_id:
        top.report(
            f"id '{rubric_id}' does not match its directory '{file.parent.name}'; "
            f"rubric files live at rubrics/<id>/v<version>.yaml",
            line=top.key_line("id"),
        )
    if file.stem != f"v{version}":
        top.report(
            f"version '{version}' does not match the file name '{file.name}'; "
            f"rename the file to v{version}{file.suffix} or fix the version",
            line=top.key_line("version"),
        )


def _version(top: YamlSection) -> str:
    node = top.node("version")
    if node is None:
        raise top.error("missing required key 'version'", line=top.mapping.line)
    value = node.value if isinstance(node, YamlScalar) else None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise top.error(
            f"'version' must be a string or an integer, got {describe(node)}; write e.g. "
            "version: 2",
            line=top.key_line("version"),
        )
    value = value.strip()
    if not _VERSION.fullmatch(value):
        raise top.error(
            f"version '{value}' must be letters, digits, '.', '_' or '-', e.g. version: 2",
            line=top.key_line("version"),
        )
    return value


def _guidelines(top: YamlSection, *, path: str | None, base_dir: str | Path | None) -> str:
    if top.has("guidelines") and top.has("guidelines_file"):
        raise top.error(
            "give either 'guidelines' (inline text) or 'guidelines_file', not both",
            line=max(top.key_line("guidelines"), top.key_line("guidelines_file")),
        )
    if top.has("guidelines"):
        return _normalise_text(top.string("guidelines"))
    if not top.has("guidelines_file"):
        raise top.error(
            "missing guidelines: add 'guidelines: |' with the Markdown text, "
            "or 'guidelines_file: guidelines-v1.md' next to the rubric file",
            line=top.mapping.line,
        )
    name = top.string("guidelines_file")
    line = top.key_line("guidelines_file")
    if Path(name).is_absolute():
        raise top.error(f"guidelines_file '{name}' must be relative to the rubric file", line=line)
    if base_dir is None and path is None:
        raise top.error(
            f"guidelines_file '{name}' needs a base directory: pass base_dir= or path=",
            line=line,
        )
    file = Path(base_dir if base_dir is not None else Path(str(path)).parent) / name
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise top.error(
            f"guidelines_file '{name}' not found (looked for {file}); create it or fix the name",
            line=line,
        ) from exc
    except UnicodeDecodeError as exc:
        raise top.error(f"guidelines_file '{name}' is not UTF-8 text", line=line) from exc
    except OSError as exc:
        raise top.error(f"cannot read guidelines_file '{name}': {exc.strerror}", line=line) from exc
    if not text.strip():
        raise top.error(f"guidelines_file '{name}' is empty", line=line)
    return _normalise_text(text)


def _normalise_text(text: str) -> str:
    return text.replace("\r\n", "\n").strip() + "\n"


# --- dimensions ----------------------------------------------------------------------------


def _dimensions(top: YamlSection) -> tuple[Dimension, ...]:
    sequence = top.sequence("dimensions")
    if not sequence.items:
        raise top.error("'dimensions' is empty; a rubric needs at least one", line=sequence.line)
    dimensions: list[Dimension] = []
    first_line: dict[str, int] = {}
    for index, node in enumerate(sequence.items, start=1):
        if not isinstance(node, YamlMapping):
            top.report(
                f"dimension #{index} must be a mapping with name, question, kind, values and "
                f"level; got {describe(node)}",
                line=node.line,
            )
            continue
        dimension = _dimension(top.within(node, context=""), index)
        if dimension is None:
            continue
        if dimension.name in first_line:
            top.report(
                f"dimension '{dimension.name}' is defined twice (first at line "
                f"{first_line[dimension.name]}); dimension names must be unique",
                line=node.line,
            )
            continue
        first_line[dimension.name] = node.line
        dimensions.append(dimension)
    # Only when every dimension read cleanly: a gating one with a mistake is reported as such.
    complete = len(dimensions) == len(sequence.items)
    if complete and dimensions and not any(d.gating for d in dimensions):
        top.report(
            "every dimension has 'gating: false', so no gold result could qualify anyone; "
            "let at least one dimension gate (remove its 'gating: false')",
            line=sequence.line,
        )
    return tuple(dimensions)


def _dimension(raw: YamlSection, index: int) -> Dimension | None:
    """The dimension, or ``None`` when it has errors (collected in ``raw.errors``)."""
    section = raw.within(raw.mapping, context=f"dimension #{index}: ")
    if section.has("name"):
        named = section.attempt(lambda: section.string("name"), "")
        if named:
            section = raw.within(raw.mapping, context=f"dimension '{named}': ")
    errors_before = len(section.errors)
    section.check_keys(
        allowed=_DIMENSION_KEYS, required=("name", "question", "kind", "values", "level")
    )
    name = section.attempt(lambda: _dimension_name(section), "")
    question = section.attempt(lambda: section.string("question"), "")
    kind: Kind | None = section.attempt(lambda: _choose(section, "kind", KINDS), None)
    level: Level | None = section.attempt(lambda: _choose(section, "level", LEVELS), None)
    read = section.attempt(lambda: _values(section), None)
    target_alpha = (
        section.attempt(lambda: _target_alpha(section, 0.0), None)
        if section.has("target_alpha")
        else None
    )
    no_reason: str | None = None
    gating, gating_reason = section.attempt(lambda: _gating(section), (True, no_reason))
    signed = section.attempt(lambda: _flag(section, "signed"), False)
    non_decisive: tuple[Value, ...] = ()
    first: Value | None = None
    second: Value | None = None
    if read is not None and kind is not None and len(section.errors) == errors_before:
        # Checks across keys run only on a dimension whose keys read cleanly, so that one
        # mistake (a misspelt 'non_decisive') is not reported again as its consequences.
        values, lines = read
        if signed:
            non_decisive = section.attempt(
                lambda: _signed_scale(section, kind=kind, level=level, values=values, lines=lines),
                (),
            )
        else:
            non_decisive = section.attempt(
                lambda: _non_decisive(section, kind=kind, values=values), ()
            )
        if kind == "ranking" and len(section.errors) == errors_before:
            section.attempt(
                lambda: _ranking_options(section, level=level, values=values, lines=lines), None
            )
        coded = None
        if not signed and len(section.errors) == errors_before:
            coded = section.attempt(
                lambda: _preference_coding(
                    section, kind=kind, values=values, lines=lines, non_decisive=non_decisive
                ),
                None,
            )
        if coded is not None:
            first, second = coded
        if level is not None:
            _check_level(section, level=level, values=values, lines=lines)
    if len(section.errors) > errors_before or read is None or kind is None or level is None:
        return None
    return Dimension(
        name=name,
        question=question,
        kind=kind,
        values=read[0],
        level=level,
        non_decisive=non_decisive,
        target_alpha=target_alpha,
        first=first,
        second=second,
        gating=gating,
        gating_reason=gating_reason,
        signed=signed,
    )


def _flag(section: YamlSection, key: str, *, default: bool = False) -> bool:
    """An optional true/false key (``default`` when absent)."""
    node = section.node(key)
    if node is None:
        return default
    value = node.value if isinstance(node, YamlScalar) else None
    if not isinstance(value, bool):
        raise section.error(
            f"'{key}' must be true or false, got {describe(node)}", line=section.key_line(key)
        )
    return value


def _signed_scale(
    section: YamlSection,
    *,
    kind: Kind,
    level: Level | None,
    values: tuple[Value, ...],
    lines: tuple[int, ...],
) -> tuple[Value, ...]:
    """Check a ``signed: true`` dimension; its non-decisive values (``0`` when listed)."""
    line = section.key_line("signed")
    if kind != "preference":
        raise section.error(
            f"'signed' applies only to preference dimensions (this one is kind '{kind}'); "
            "remove it",
            line=line,
        )
    for key in ("first", "second", "non_decisive"):
        if section.has(key):
            raise section.error(
                f"'{key}' does not apply to a signed scale: negative values prefer response_a, "
                "positive ones response_b and 0 neither; remove it",
                line=section.key_line(key),
            )
    for value, value_line in zip(values, lines, strict=True):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise section.error(
                f"a signed scale needs numbers (e.g. -3 … 3); {value!r} is not one",
                line=value_line,
            )
    if not any(float(v) < 0 for v in values) or not any(float(v) > 0 for v in values):
        raise section.error(
            "a signed scale needs negative values (response_a better) and positive values "
            f"(response_b better); got {', '.join(str(v) for v in values)}",
            line=section.sequence("values").line,
        )
    if level not in (None, "ordinal", "interval"):
        raise section.error(
            f"a signed scale is ordered: use level 'ordinal' or 'interval', not '{level}'",
            line=section.key_line("level"),
        )
    return tuple(v for v in values if float(v) == 0)


def _ranking_options(
    section: YamlSection,
    *,
    level: Level | None,
    values: tuple[Value, ...],
    lines: tuple[int, ...],
) -> None:
    """Check a ranking dimension: its values are the options ranked (at least two, none
    holding ``>`` or ``=``, which write a ranking: ``b>a=c``), its level ordinal."""
    for value, value_line in zip(values, lines, strict=True):
        if any(mark in str(value) for mark in (">", "=")):
            raise section.error(
                f"ranking option {value!r} holds '>' or '=', which write a ranking "
                "('b>a=c'); rename the option",
                line=value_line,
            )
    if len(values) < 2:
        raise section.error(
            "a ranking needs at least two options to rank", line=section.sequence("values").line
        )
    if level not in (None, "ordinal"):
        raise section.error(
            f"a ranking's options are scored by their ranks: use level 'ordinal', not '{level}'",
            line=section.key_line("level"),
        )


def _gating(section: YamlSection) -> tuple[bool, str | None]:
    """``gating`` (default true) and ``gating_reason``, required when ``gating`` is false."""
    gating = _flag(section, "gating", default=True)
    reason = section.string("gating_reason") if section.has("gating_reason") else None
    if not gating and reason is None:
        raise section.error(
            "'gating: false' needs a 'gating_reason' saying why this dimension's gold results "
            "must not decide annotator statuses (e.g. 'a strength scale: margins are judgement "
            "calls')",
            line=section.key_line("gating"),
        )
    if gating and reason is not None:
        raise section.error(
            "'gating_reason' applies only with 'gating: false'; remove it or set 'gating: false'",
            line=section.key_line("gating_reason"),
        )
    return gating, reason


def _dimension_name(section: YamlSection) -> str:
    name = section.string("name")
    if not _NAME.fullmatch(name):
        raise section.error(
            "name must start with a lowercase letter and use only a-z, 0-9 and '_', "
            "e.g. 'helpfulness'",
            line=section.key_line("name"),
        )
    return name


def _choose(section: YamlSection, key: str, options: tuple[_Word, ...]) -> _Word:
    word = section.string(key)
    for option in options:
        if word == option:
            return option
    raise section.error(
        f"{key} '{word}' is not one of {', '.join(options)}{did_you_mean(word, options)}",
        line=section.key_line(key),
    )


def _values(section: YamlSection) -> tuple[tuple[Value, ...], tuple[int, ...]]:
    """The dimension's values and the line of each."""
    sequence = section.sequence("values")
    if not sequence.items:
        raise section.error(
            "'values' is empty; list the values annotators choose from", line=sequence.line
        )
    values, lines = _scalar_list(section, sequence, key="values")
    kinds = {isinstance(v, str) for v in values}
    if len(kinds) > 1:
        raise section.error(
            "values mix strings and numbers; use only labels or only numbers",
            line=sequence.line,
        )
    if len(values) < len(sequence.items):
        # A bad item is collected already; raising it again stops this key (the dimension is
        # not built) and RubricError.collected lists it once.
        raise RubricError.collected(section.errors[-1:])
    return values, lines


def _scalar_list(
    section: YamlSection, sequence: YamlSequence, *, key: str
) -> tuple[tuple[Value, ...], tuple[int, ...]]:
    """The list's good values and their lines; each bad item is collected as an error."""
    values: list[Value] = []
    lines: list[int] = []
    for item in sequence.items:
        value = _scalar(section, item, key=key)
        if value is None:
            continue
        if value in values:
            first = lines[values.index(value)]
            section.report(
                f"value {value!r} is listed twice in '{key}' (first at line {first})",
                line=item.line,
            )
            continue
        values.append(value)
        lines.append(item.line)
    return tuple(values), tuple(lines)


def _scalar(section: YamlSection, item: YamlNode, *, key: str) -> Value | None:
    value = item.value if isinstance(item, YamlScalar) else None
    if isinstance(value, bool):
        section.report(
            f"'{key}' must hold strings or numbers, got {describe(item)} "
            "(YAML reads unquoted yes/no/on/off/true/false as booleans; quote it)",
            line=item.line,
        )
        return None
    if not isinstance(value, str | int | float) or (
        isinstance(value, float) and not math.isfinite(value)
    ):
        section.report(
            f"'{key}' must hold strings or numbers, got {describe(item)}", line=item.line
        )
        return None
    if isinstance(value, str) and not value.strip():
        section.report(f"'{key}' must not hold an empty string", line=item.line)
        return None
    return value


def _non_decisive(
    section: YamlSection, *, kind: Kind, values: tuple[Value, ...]
) -> tuple[Value, ...]:
    if not section.has("non_decisive"):
        return ()
    line = section.key_line("non_decisive")
    if kind != "preference":
        raise section.error(
            f"'non_decisive' applies only to preference dimensions (this one is kind '{kind}'); "
            "remove it",
            line=line,
        )
    sequence = section.sequence("non_decisive")
    chosen, lines = _scalar_list(section, sequence, key="non_decisive")
    kept: list[Value] = []
    for value, item_line in zip(chosen, lines, strict=True):
        if value not in values:
            shown = ", ".join(str(v) for v in values)
            section.report(
                f"non_decisive value {value!r} is not one of the values ({shown}); "
                "add it to 'values' or remove it",
                line=item_line,
            )
            continue
        kept.append(value)
    return tuple(kept)


def _response_value(section: YamlSection, key: str, values: tuple[Value, ...]) -> Value:
    node = section.node(key)
    if node is None:
        raise section.error(f"missing required key '{key}'", line=section.mapping.line)
    value = _scalar(section, node, key=key)
    if value is None:  # collected already; raised again to stop here, listed once
        raise RubricError.collected(section.errors[-1:])
    if value not in values:
        shown = ", ".join(repr(v) for v in values)
        hint = ""
        if str(value) in {str(v) for v in values}:
            hint = " (it matches a value written differently: quote both or neither)"
        raise section.error(
            f"'{key}' is {value!r}, which is not one of the values ({shown}){hint}",
            line=node.line,
        )
    return value


def _preference_coding(
    section: YamlSection,
    *,
    kind: Kind,
    values: tuple[Value, ...],
    lines: tuple[int, ...],
    non_decisive: tuple[Value, ...],
) -> tuple[Value | None, Value | None]:
    """The values naming response_a and response_b (``None, None`` for the default a/b)."""
    given = [key for key in _CODING_KEYS if section.has(key)]
    if kind != "preference":
        if given:
            raise section.error(
                f"'{given[0]}' applies only to preference dimensions (this one is kind "
                f"'{kind}'); remove it",
                line=section.key_line(given[0]),
            )
        return None, None
    if len(given) == 1:
        missing = "second" if given[0] == "first" else "first"
        raise section.error(
            f"'{given[0]}' is given without '{missing}'; name both the value meaning "
            "response_a (first) and the one meaning response_b (second)",
            line=section.key_line(given[0]),
        )
    if given:
        first = _response_value(section, "first", values)
        second = _response_value(section, "second", values)
        if first == second:
            raise section.error(
                f"'first' and 'second' are both {first!r}; they name two different responses",
                line=section.key_line("second"),
            )
    else:
        first, second = _RESPONSES
        for response in _RESPONSES:
            if response not in values:
                raise section.error(
                    f"a preference dimension needs the values 'a' and 'b' (response_a and "
                    f"response_b); '{response}' is missing. If other values name the two "
                    "responses, say which with 'first:' and 'second:' (e.g. first: 1, second: 2)",
                    line=section.sequence("values").line,
                )
    for value in (first, second):
        if value in non_decisive:
            raise section.error(
                f"{value!r} names response_{'a' if value == first else 'b'} and cannot be "
                "non-decisive",
                line=section.key_line("non_decisive"),
            )
    for value, line in zip(values, lines, strict=True):
        if value not in (first, second) and value not in non_decisive:
            raise section.error(
                f"value {value!r} of a preference dimension must be {first!r}, {second!r} "
                "(first and second) or listed in 'non_decisive'",
                line=line,
            )
    if (first, second) == _RESPONSES:
        return None, None
    return first, second


def _check_level(
    section: YamlSection, *, level: Level, values: tuple[Value, ...], lines: tuple[int, ...]
) -> None:
    if level not in ("interval", "ratio"):
        return
    for value, line in zip(values, lines, strict=True):
        if isinstance(value, str):
            section.report(
                f"level '{level}' needs numeric values; {value!r} is not a number "
                "(use level 'ordinal' for ordered labels)",
                line=line,
            )
            return
        if level == "ratio" and value <= 0:
            section.report(
                f"level 'ratio' needs positive values, got {value!r} "
                "(use level 'interval' for a scale with 0 or negative values)",
                line=line,
            )
            return


# --- thresholds and calibration ------------------------------------------------------------


def _thresholds(top: YamlSection) -> Thresholds:
    section = top.section("thresholds", context="thresholds: ")
    if section is None:
        return Thresholds()
    section.check_keys(allowed=_THRESHOLD_KEYS, required=())
    defaults = Thresholds()
    qualify = section.attempt(
        lambda: _accuracy(section, "qualify_gold_accuracy", defaults.qualify_gold_accuracy), None
    )
    retrain = section.attempt(
        lambda: _accuracy(section, "retrain_gold_accuracy", defaults.retrain_gold_accuracy), None
    )
    if qualify is not None and retrain is not None and qualify - retrain < _ACCURACY_GAP - 1e-9:
        key = (
            "retrain_gold_accuracy"
            if section.has("retrain_gold_accuracy")
            else "qualify_gold_accuracy"
        )
        section.report(
            f"retrain_gold_accuracy ({retrain:g}) must be at least {_ACCURACY_GAP:g} below "
            f"qualify_gold_accuracy ({qualify:g}); the gold drift chart watches for a drop "
            "from the one to the other",
            line=section.key_line(key),
        )
    target_alpha = section.attempt(lambda: _target_alpha(section, defaults.target_alpha), 0.0)
    min_gold = section.attempt(
        lambda: section.integer("min_gold_judgments", defaults.min_gold_judgments, minimum=1), 0
    )
    return Thresholds(
        qualify_gold_accuracy=defaults.qualify_gold_accuracy if qualify is None else qualify,
        retrain_gold_accuracy=defaults.retrain_gold_accuracy if retrain is None else retrain,
        target_alpha=target_alpha,
        min_gold_judgments=min_gold,
    )


def _accuracy(section: YamlSection, key: str, default: float) -> float:
    return section.number(
        key,
        default,
        low=_ACCURACY_LOW,
        high=_ACCURACY_HIGH,
        why=" (the gold drift chart cannot be designed for an accuracy of 0 or 1)",
    )


def _target_alpha(section: YamlSection, default: float) -> float:
    return section.number("target_alpha", default, low=0.0, high=1.0, low_open=True)


def _calibration(top: YamlSection) -> Calibration:
    section = top.section("calibration", context="calibration: ")
    if section is None:
        return Calibration()
    section.check_keys(allowed=_CALIBRATION_KEYS, required=())
    defaults = Calibration()
    gold = section.attempt(
        lambda: section.number(
            "gold_share", defaults.gold_share, low=0.0, high=1.0, high_open=True
        ),
        None,
    )
    retest = section.attempt(
        lambda: section.number(
            "retest_share", defaults.retest_share, low=0.0, high=1.0, high_open=True
        ),
        None,
    )
    if gold is not None and retest is not None and gold + retest >= 1:
        key = "retest_share" if section.has("retest_share") else "gold_share"
        section.report(
            f"gold_share + retest_share must be below 1, got {gold:g} + {retest:g}; "
            "a batch needs room for new items",
            line=section.key_line(key),
        )
    delay = section.attempt(
        lambda: section.integer("retest_delay_hours", defaults.retest_delay_hours, minimum=1),
        defaults.retest_delay_hours,
    )
    batch_size = section.attempt(lambda: _batch_size(section), BatchSize())
    per_item = section.attempt(
        lambda: section.integer(
            "annotators_per_item",
            defaults.annotators_per_item,
            minimum=2,
            why=" (agreement needs two judgments per item)",
        ),
        defaults.annotators_per_item,
    )
    return Calibration(
        gold_share=defaults.gold_share if gold is None else gold,
        retest_share=defaults.retest_share if retest is None else retest,
        retest_delay_hours=delay,
        validation_batch_size=batch_size,
        annotators_per_item=per_item,
    )


def _batch_size(calibration: YamlSection) -> BatchSize:
    context = "calibration: validation_batch_size: "
    section = calibration.section("validation_batch_size", context=context)
    if section is None:
        return BatchSize()
    section.check_keys(allowed=("min", "max"), required=("min", "max"))
    low = section.attempt(lambda: section.integer("min", 0, minimum=1), None)
    high = section.attempt(lambda: section.integer("max", 0, minimum=1), None)
    if not (section.has("min") and section.has("max")):
        low = high = None
    if low is not None and high is not None and low > high:
        section.report(f"min ({low}) must not exceed max ({high})", line=section.key_line("min"))
    return BatchSize(min=low or 1, max=high or 1)
