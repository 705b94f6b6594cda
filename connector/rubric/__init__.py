"""Rubrics as versioned data.

A rubric file ``rubrics/<id>/v<version>.yaml`` names the dimensions annotators judge (the
question, the kind of judgment, the ordered values, the level of measurement), the quality
thresholds and the calibration policy, and carries the guideline text (inline ``guidelines:`` or
a sibling ``guidelines_file:``). Loading validates everything and reports ``file:line: what``::

    rubrics/x/v2.yaml:14: dimension 'helpfulness': level 'ordnial' is not one of nominal,
    ordinal, interval, ratio; did you mean 'ordinal'?

A rubric version is immutable. :attr:`Rubric.content_hash` is ``"sha256:"`` + the hex digest of
:meth:`Rubric.canonical_json` (sorted keys, normalised values, guideline text included), so
comment or whitespace edits of the YAML keep the hash and any semantic edit changes it. The hash
is recorded with every judgment and calibration batch.

Preference dimensions use the values ``a`` and ``b`` for the two responses (``response_a`` and
``response_b`` in the item's canonical order, never the display position) plus non-decisive
values such as ``tie`` or ``both_bad``; a rubric names other values for the two responses with
``first:`` and ``second:`` (e.g. ``1`` and ``2``), read through :attr:`Dimension.responses`.
"""

from __future__ import annotations

from connector.rubric.defaults import (
    KNOWN_RESPONSE_PAIRS,
    Coding,
    CodingError,
    adhoc_rubric,
    default_rubric_for,
)
from connector.rubric.model import (
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
    signed_text,
)
from connector.rubric.parse import find_rubrics, load_rubric, parse_rubric

__all__ = [
    "KINDS",
    "KNOWN_RESPONSE_PAIRS",
    "LEVELS",
    "BatchSize",
    "Calibration",
    "Coding",
    "CodingError",
    "Dimension",
    "Kind",
    "Level",
    "Rubric",
    "Thresholds",
    "Value",
    "adhoc_rubric",
    "default_rubric_for",
    "find_rubrics",
    "load_rubric",
    "parse_rubric",
    "signed_text",
]
