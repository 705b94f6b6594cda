"""The canonical judgments table and its loaders.

A judgments table is a :class:`pandas.DataFrame` with one row per judgment (one annotator's value
for one item on one dimension). Every table the connector hands on has all of :data:`COLUMNS`, in
that order, with these types:

==================  ========================  ================================================
column              dtype                     meaning
==================  ========================  ================================================
``item_id``         object (str)              the thing judged (a prompt with its responses)
``annotator``       object (str)              who judged
``dimension``       object (str)              the rubric question (``overall``, ``helpfulness``)
``value``           object (str or number)    the answer, as given
``category``        object (str or None)      the item's prompt category
``submitted_at``    datetime64[ns, UTC]       when the judgment was submitted
``rubric_version``  object (str or None)      rubric version the judgment was made under
``batch``           object (str or None)      batch the item was pushed in
``lead_time_s``     float64                   seconds the annotator spent
``display_left``    object ("a", "b", None)   which response was shown on the left
``gold_value``      object (str, number, None) expected value on gold items
``length_a``        float64                   length of response a in characters
``length_b``        float64                   length of response b in characters
==================  ========================  ================================================

The first four are required (:data:`REQUIRED_COLUMNS`); the others are added, all missing, when a
source lacks them. Columns the connector does not know are kept after these and named in the
table's warnings.

Sources read by :func:`load_judgments`:

- canonical rows: ``.jsonl`` / ``.ndjson`` (one JSON object per line), ``.csv`` (header row),
  ``.parquet``, or a ``.json`` list of row objects;
- a Label Studio JSON export (``.json``), see :func:`label_studio_judgments`;
- an Argilla 2.x ``records.to_json`` export (``.json``), see :func:`argilla_judgments`;
- the other platforms' own exports, each read by one module and giving a
  :class:`PlatformTable` (the table, plus notes on the fields used and what was skipped):
  a Prodigy ``db-out`` file (:func:`prodigy_judgments`), a Labelbox export v2
  (:func:`labelbox_judgments`), Surge AI results (:func:`surge_judgments`), Scale AI tasks
  (:func:`scale_judgments`) and Mechanical Turk batch results (:func:`mturk_judgments`).
  :class:`AnswerMap` says which answer fields become dimensions.

A judgment whose export names no annotator (Scale AI) gets an annotator of its own starting
with :data:`UNKNOWN_ANNOTATOR_PREFIX`; :func:`is_unknown_annotator` tells them apart, and the
report computes no per-annotator figure for them.

Values in text sources (CSV, and Parquet files whose ``value`` column holds only strings) arrive
as strings; they become numbers where every value of the same dimension reads as a number
(``"1"``, ``"2"`` → 1, 2), and stay strings otherwise, so a table can hold an ``overall``
dimension of ``a``/``b``/``tie`` beside a ``helpfulness`` dimension of 1–5. (Parquet columns hold
one type: store a table of mixed values with ``value`` cast to ``str``.) JSON keeps its types.
Naive timestamps are taken to be UTC.
"""

from __future__ import annotations

import importlib
import typing

from connector.judgments.formats import (
    INPUT_FORMATS,
    PLATFORM_FORMATS,
    InputFormat,
    PlatformFormat,
)

if typing.TYPE_CHECKING:
    from connector.judgments.exports import argilla_judgments, label_studio_judgments
    from connector.judgments.files import load_judgments
    from connector.judgments.labelbox import labelbox_judgments
    from connector.judgments.layout import TableLayout
    from connector.judgments.mturk import mturk_judgments
    from connector.judgments.prodigy import prodigy_judgments
    from connector.judgments.scale import scale_judgments
    from connector.judgments.sources import (
        UNKNOWN_ANNOTATOR_PREFIX,
        AnswerMap,
        PlatformTable,
        input_format,
        is_unknown_annotator,
        unknown_annotator,
    )
    from connector.judgments.surge import surge_judgments
    from connector.judgments.table import (
        COLUMNS,
        REQUIRED_COLUMNS,
        JudgmentTable,
        TableFormat,
        normalise,
        with_canonical_dtypes,
    )

# The readers need pandas; they are imported when first used, so ``iaa-connector --help`` does
# not pay for them (name -> module that defines it).
_LAZY: dict[str, str] = {
    "argilla_judgments": "exports",
    "label_studio_judgments": "exports",
    "load_judgments": "files",
    "labelbox_judgments": "labelbox",
    "TableLayout": "layout",
    "mturk_judgments": "mturk",
    "prodigy_judgments": "prodigy",
    "scale_judgments": "scale",
    "UNKNOWN_ANNOTATOR_PREFIX": "sources",
    "AnswerMap": "sources",
    "PlatformTable": "sources",
    "input_format": "sources",
    "is_unknown_annotator": "sources",
    "unknown_annotator": "sources",
    "surge_judgments": "surge",
    "COLUMNS": "table",
    "REQUIRED_COLUMNS": "table",
    "JudgmentTable": "table",
    "TableFormat": "table",
    "normalise": "table",
    "with_canonical_dtypes": "table",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "COLUMNS",
    "INPUT_FORMATS",
    "PLATFORM_FORMATS",
    "REQUIRED_COLUMNS",
    "UNKNOWN_ANNOTATOR_PREFIX",
    "AnswerMap",
    "InputFormat",
    "JudgmentTable",
    "PlatformFormat",
    "PlatformTable",
    "TableFormat",
    "TableLayout",
    "argilla_judgments",
    "input_format",
    "is_unknown_annotator",
    "label_studio_judgments",
    "labelbox_judgments",
    "load_judgments",
    "mturk_judgments",
    "normalise",
    "prodigy_judgments",
    "scale_judgments",
    "surge_judgments",
    "unknown_annotator",
    "with_canonical_dtypes",
]
