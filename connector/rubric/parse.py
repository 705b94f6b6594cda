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
_DIMENSION_KEYS = ("name", "question", "kind", "values", "level", "non_decisive", "target_alpha")
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
        RubricError: the file is missing, unreadable or invalid (message ``path:line: what``).
    """
    file = Path(path)
    shown = str(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise RubricError(
            "rubric file not found; rubrics live at rubrics/<id>/v<version>.yaml", path=shown
        ) from exc
    except UnicodeDecodeError as exc:
        raise RubricError("rubric file is not UTF-8 text", path=shown) from exc
    except OSError as exc:
        raise RubricError(f"cannot read rubric file: {exc.strerror}", path=shown) from exc
    rubric, top = _parse(text, path=shown, base_dir=file.parent)
    if check_layout:
        if file.parent.name != rubric.id:
            raise top.error(
                f"id '{rubric.id}' does not match its directory '{file.parent.name}'; "
                f"rubric files live at rubrics/<id>/v<version>.yaml",
                line=top.key_line("id"),
            )
        if file.stem != f"v{rubric.version}":
            raise top.error(
                f"version '{rubric.version}' does not match the file name '{file.name}'; "
                f"rename the file to v{rubric.version}{file.suffix} or fix the version",
                line=top.key_line("version"),
            )
    return rubric


def parse_rubric(
    text: str, *, path: str | None = None, base_dir: str | Path | None = None
) -> Rubric:
    """Validate rubric YAML ``text``; ``path`` is used in messages and, with ``base_dir``
    (default: the directory of ``path``), to resolve ``guidelines_file``.

    Raises:
        RubricError: the text is not a valid rubric (message ``path:line: what``).
    """
    return _parse(text, path=path, base_dir=base_dir)[0]


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
    text: str, *, path: str | None, base_dir: str | Path | None
) -> tuple[Rubric, YamlSection]:
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
    rubric_id = top.string("id")
    if not _ID.fullmatch(rubric_id):
        raise top.error(
            f"id '{rubric_id}' must be a lowercase slug (a-z, 0-9, '-', '_', '.'), "
            "e.g. 'rlhf-pairwise'",
            line=top.key_line("id"),
        )
    version = _version(top)
    changelog = top.string("changelog")
    guidelines = _guidelines(top, path=path, base_dir=base_dir)
    rubric = Rubric(
        id=rubric_id,
        version=version,
        changelog=changelog,
        guidelines=guidelines,
        dimensions=_dimensions(top),
        thresholds=_thresholds(top),
        calibration=_calibration(top),
        path=path,
    )
    return _with_hash(rubric), top


def _version(top: YamlSection) -> str:
    node = top.node("version")
    value = node.value if isinstance(node, YamlScalar) else None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if node is None or not isinstance(value, str):
        got = describe(node) if node is not None else "nothing"
        raise top.error(
            f"'version' must be a string or an integer, got {got}; write e.g. version: 2",
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
            raise top.error(
                f"dimension #{index} must be a mapping with name, question, kind, values and "
                f"level; got {describe(node)}",
                line=node.line,
            )
        dimension = _dimension(YamlSection(mapping=node, path=top.path), index)
        if dimension.name in first_line:
            raise top.error(
                f"dimension '{dimension.name}' is defined twice (first at line "
                f"{first_line[dimension.name]}); dimension names must be unique",
                line=node.line,
            )
        first_line[dimension.name] = node.line
        dimensions.append(dimension)
    return tuple(dimensions)


def _dimension(raw: YamlSection, index: int) -> Dimension:
    section = YamlSection(mapping=raw.mapping, path=raw.path, context=f"dimension #{index}: ")
    if section.has("name"):
        named = section.string("name")
        section = YamlSection(mapping=raw.mapping, path=raw.path, context=f"dimension '{named}': ")
    section.check_keys(
        allowed=_DIMENSION_KEYS, required=("name", "question", "kind", "values", "level")
    )
    name = section.string("name")
    if not _NAME.fullmatch(name):
        raise section.error(
            "name must start with a lowercase letter and use only a-z, 0-9 and '_', "
            "e.g. 'helpfulness'",
            line=section.key_line("name"),
        )
    kind: Kind = _choose(section, "kind", KINDS)
    level: Level = _choose(section, "level", LEVELS)
    values, lines = _values(section)
    non_decisive = _non_decisive(section, kind=kind, values=values)
    if kind == "preference":
        _check_preference(
            section,
            values=values,
            lines=lines,
            values_line=section.sequence("values").line,
            non_decisive=non_decisive,
        )
    _check_level(section, level=level, values=values, lines=lines)
    target_alpha = _target_alpha(section, 0.0) if section.has("target_alpha") else None
    return Dimension(
        name=name,
        question=section.string("question"),
        kind=kind,
        values=values,
        level=level,
        non_decisive=non_decisive,
        target_alpha=target_alpha,
    )


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
    values = _scalar_list(section, sequence, key="values")
    kinds = {isinstance(v, str) for v in values}
    if len(kinds) > 1:
        raise section.error(
            "values mix strings and numbers; use only labels or only numbers",
            line=sequence.line,
        )
    return values, tuple(item.line for item in sequence.items)


def _scalar_list(section: YamlSection, sequence: YamlSequence, *, key: str) -> tuple[Value, ...]:
    values: list[Value] = []
    for item in sequence.items:
        value = item.value if isinstance(item, YamlScalar) else None
        if isinstance(value, bool):
            raise section.error(
                f"'{key}' must hold strings or numbers, got {describe(item)} "
                "(YAML reads unquoted yes/no/on/off/true/false as booleans; quote it)",
                line=item.line,
            )
        if not isinstance(value, str | int | float) or (
            isinstance(value, float) and not math.isfinite(value)
        ):
            raise section.error(
                f"'{key}' must hold strings or numbers, got {describe(item)}", line=item.line
            )
        if isinstance(value, str) and not value.strip():
            raise section.error(f"'{key}' must not hold an empty string", line=item.line)
        if value in values:
            first = sequence.items[values.index(value)].line
            raise section.error(
                f"value {value!r} is listed twice in '{key}' (first at line {first})",
                line=item.line,
            )
        values.append(value)
    return tuple(values)


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
    chosen = _scalar_list(section, sequence, key="non_decisive")
    for value, item in zip(chosen, sequence.items, strict=True):
        if value not in values:
            shown = ", ".join(str(v) for v in values)
            raise section.error(
                f"non_decisive value {value!r} is not one of the values ({shown}); "
                "add it to 'values' or remove it",
                line=item.line,
            )
        if value in _RESPONSES:
            raise section.error(
                f"{value!r} names response_{value} and cannot be non-decisive", line=item.line
            )
    return chosen


def _check_preference(
    section: YamlSection,
    *,
    values: tuple[Value, ...],
    lines: tuple[int, ...],
    values_line: int,
    non_decisive: tuple[Value, ...],
) -> None:
    for response in _RESPONSES:
        if response not in values:
            raise section.error(
                f"a preference dimension needs the values 'a' and 'b' (response_a and "
                f"response_b); '{response}' is missing",
                line=values_line,
            )
    for value, line in zip(values, lines, strict=True):
        if value not in _RESPONSES and value not in non_decisive:
            raise section.error(
                f"value {value!r} of a preference dimension must be 'a', 'b' or listed in "
                "'non_decisive'",
                line=line,
            )


def _check_level(
    section: YamlSection, *, level: Level, values: tuple[Value, ...], lines: tuple[int, ...]
) -> None:
    if level not in ("interval", "ratio"):
        return
    for value, line in zip(values, lines, strict=True):
        if isinstance(value, str):
            raise section.error(
                f"level '{level}' needs numeric values; {value!r} is not a number "
                "(use level 'ordinal' for ordered labels)",
                line=line,
            )
        if level == "ratio" and value <= 0:
            raise section.error(
                f"level 'ratio' needs positive values, got {value!r} "
                "(use level 'interval' for a scale with 0 or negative values)",
                line=line,
            )


# --- thresholds and calibration ------------------------------------------------------------


def _thresholds(top: YamlSection) -> Thresholds:
    section = top.section("thresholds", context="thresholds: ")
    if section is None:
        return Thresholds()
    section.check_keys(allowed=_THRESHOLD_KEYS, required=())
    defaults = Thresholds()
    qualify = _accuracy(section, "qualify_gold_accuracy", defaults.qualify_gold_accuracy)
    retrain = _accuracy(section, "retrain_gold_accuracy", defaults.retrain_gold_accuracy)
    if qualify - retrain < _ACCURACY_GAP - 1e-9:
        key = (
            "retrain_gold_accuracy"
            if section.has("retrain_gold_accuracy")
            else "qualify_gold_accuracy"
        )
        raise section.error(
            f"retrain_gold_accuracy ({retrain:g}) must be at least {_ACCURACY_GAP:g} below "
            f"qualify_gold_accuracy ({qualify:g}); the gold drift chart watches for a drop "
            "from the one to the other",
            line=section.key_line(key),
        )
    return Thresholds(
        qualify_gold_accuracy=qualify,
        retrain_gold_accuracy=retrain,
        target_alpha=_target_alpha(section, defaults.target_alpha),
        min_gold_judgments=section.integer(
            "min_gold_judgments", defaults.min_gold_judgments, minimum=1
        ),
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
    gold = section.number("gold_share", defaults.gold_share, low=0.0, high=1.0, high_open=True)
    retest = section.number(
        "retest_share", defaults.retest_share, low=0.0, high=1.0, high_open=True
    )
    if gold + retest >= 1:
        key = "retest_share" if section.has("retest_share") else "gold_share"
        raise section.error(
            f"gold_share + retest_share must be below 1, got {gold:g} + {retest:g}; "
            "a batch needs room for new items",
            line=section.key_line(key),
        )
    return Calibration(
        gold_share=gold,
        retest_share=retest,
        retest_delay_hours=section.integer(
            "retest_delay_hours", defaults.retest_delay_hours, minimum=1
        ),
        validation_batch_size=_batch_size(section),
        annotators_per_item=section.integer(
            "annotators_per_item",
            defaults.annotators_per_item,
            minimum=2,
            why=" (agreement needs two judgments per item)",
        ),
    )


def _batch_size(calibration: YamlSection) -> BatchSize:
    context = "calibration: validation_batch_size: "
    section = calibration.section("validation_batch_size", context=context)
    if section is None:
        return BatchSize()
    section.check_keys(allowed=("min", "max"), required=("min", "max"))
    low = section.integer("min", 0, minimum=1)
    high = section.integer("max", 0, minimum=1)
    if low > high:
        raise section.error(
            f"min ({low}) must not exceed max ({high})", line=section.key_line("min")
        )
    return BatchSize(min=low, max=high)
