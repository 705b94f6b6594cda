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
- an Argilla 2.x ``records.to_json`` export (``.json``), see :func:`argilla_judgments`.

Values in text sources (CSV, and Parquet files whose ``value`` column holds only strings) arrive
as strings; they become numbers where every value of the same dimension reads as a number
(``"1"``, ``"2"`` → 1, 2), and stay strings otherwise, so a table can hold an ``overall``
dimension of ``a``/``b``/``tie`` beside a ``helpfulness`` dimension of 1–5. (Parquet columns hold
one type: store a table of mixed values with ``value`` cast to ``str``.) JSON keeps its types.
Naive timestamps are taken to be UTC.
"""

from __future__ import annotations

from connector.judgments.exports import argilla_judgments, label_studio_judgments
from connector.judgments.files import load_judgments
from connector.judgments.table import (
    COLUMNS,
    REQUIRED_COLUMNS,
    JudgmentTable,
    TableFormat,
    normalise,
    with_canonical_dtypes,
)

__all__ = [
    "COLUMNS",
    "REQUIRED_COLUMNS",
    "JudgmentTable",
    "TableFormat",
    "argilla_judgments",
    "label_studio_judgments",
    "load_judgments",
    "normalise",
    "with_canonical_dtypes",
]
