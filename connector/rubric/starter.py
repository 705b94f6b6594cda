"""A commented starting rubric file written from a table's observed values
(``iaa-connector rubric new``): every dimension with the values seen, their counts, the kind and
level inferred (see :func:`connector.rubric.adhoc_rubric`), and a comment on each choice left
to the author. The text parses as it is (:func:`connector.rubric.parse_rubric`); the questions
and guidelines are placeholders to replace.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

import yaml

from connector.rubric.model import Dimension, Rubric, Value

__all__ = [
    "starter_yaml",
]

_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")


def starter_yaml(
    rubric: Rubric,
    *,
    rubric_id: str,
    source: str,
    counts: Mapping[str, Mapping[Value, int]],
) -> str:
    """The YAML text of a version-1 rubric with ``rubric``'s dimensions, commented.

    ``counts`` gives, per dimension, how many judgments chose each value (shown in comments).

    Raises:
        ValueError: ``rubric_id`` is not a lowercase slug.
    """
    if not _ID.fullmatch(rubric_id):
        raise ValueError(
            f"id {rubric_id!r} must be a lowercase slug (a-z, 0-9, '-', '_', '.'), "
            "e.g. 'rlhf-pairwise'"
        )
    lines = [
        f"# Starting rubric written by `iaa-connector rubric new` from {source}.",
        "# Replace each TODO, check every kind and level, then run",
        f"# `iaa-connector rubric validate` on this file. Keep it at rubrics/{rubric_id}/v1.yaml",
        "# if your rubrics live in a repository; a rubric version is immutable once used.",
        f"id: {rubric_id}",
        "version: 1",
        f"changelog: {json.dumps(f'First version, from the values observed in {source}.')}",
        "guidelines: |",
        "  TODO: the instructions annotators read (Markdown). Or replace this key by",
        "  guidelines_file: guidelines-v1.md next to this file.",
        "",
        "dimensions:",
    ]
    for dimension in rubric.dimensions:
        lines.extend(_dimension_lines(dimension, counts.get(dimension.name, {})))
    lines.extend(
        [
            "# thresholds and calibration take their defaults; uncomment to change them.",
            "# thresholds:",
            "#   qualify_gold_accuracy: 0.85",
            "#   retrain_gold_accuracy: 0.80",
            "#   target_alpha: 0.80",
            "#   min_gold_judgments: 20",
            "# calibration:",
            "#   gold_share: 0.10",
            "#   retest_share: 0.05",
            "#   retest_delay_hours: 72",
            "#   validation_batch_size: {min: 50, max: 100}",
            "#   annotators_per_item: 3",
        ]
    )
    return "\n".join(lines) + "\n"


def _dimension_lines(dimension: Dimension, counts: Mapping[Value, int]) -> list[str]:
    seen = ", ".join(f"{_scalar(v)} ×{counts.get(v, 0)}" for v in dimension.values)
    lines = [
        f"  - name: {dimension.name}",
        f"    # observed: {seen}",
        "    question: TODO the question annotators answer",
        f"    kind: {dimension.kind}  # preference, rating, ranking or choice",
        f"    values: [{', '.join(_scalar(v) for v in dimension.values)}]",
    ]
    if dimension.kind == "preference":
        first, second = dimension.responses
        lines.append(f"    first: {_scalar(first)}  # the value meaning response_a")
        lines.append(f"    second: {_scalar(second)}  # the value meaning response_b")
        if dimension.non_decisive:
            shown = ", ".join(_scalar(v) for v in dimension.non_decisive)
            lines.append(f"    non_decisive: [{shown}]  # values preferring neither response")
    level_note = "nominal, ordinal, interval or ratio"
    if dimension.kind != "preference" and all(not isinstance(v, str) for v in dimension.values):
        lines.append("    # a scale of numbers is usually ordinal: list every value, in order")
    lines.append(f"    level: {dimension.level}  # {level_note}")
    lines.append("")
    return lines


def _scalar(value: Value) -> str:
    """``value`` as a YAML flow scalar that reads back as the same value."""
    if not isinstance(value, str):
        return repr(value)
    plain = value
    try:
        if yaml.safe_load(f"[{plain}]") == [value] and plain == plain.strip() and "#" not in plain:
            return plain
    except yaml.YAMLError:
        pass
    return json.dumps(value, ensure_ascii=False)
