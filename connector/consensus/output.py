"""Write the consensus table as CSV, JSON Lines or Parquet, chosen by the file's extension.

JSON Lines keeps ``votes`` and ``soft_label`` as JSON objects and values with their types. CSV
and Parquet hold them as JSON text in one column each; Parquet stores ``label`` and
``method_label`` as text when a table mixes text and numeric values (one type per column).
Empty cells: ``label`` and ``method_label`` on a tie, ``confidence`` on ties and rulings.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from connector.errors import JudgmentTableError

__all__ = ["OUTPUT_FORMATS", "output_format", "to_csv_text", "write_consensus"]

OUTPUT_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
_OBJECT_COLUMNS = ("votes", "soft_label")
_VALUE_COLUMNS = ("label", "method_label")


def _json_text(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    for column in _OBJECT_COLUMNS:
        out[column] = [None if v is None else json.dumps(v) for v in out[column]]
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def to_csv_text(table: pd.DataFrame) -> str:
    """The table as CSV text (the CLI's output without ``--out``)."""
    buffer = io.StringIO()
    _json_text(table).to_csv(buffer, index=False)
    return buffer.getvalue()


def output_format(path: str | Path) -> str:
    """``csv``, ``jsonl`` or ``parquet``, by the extension of ``path``.

    Raises:
        JudgmentTableError: an extension other than those of :data:`OUTPUT_FORMATS`.
    """
    file = Path(path)
    kind = OUTPUT_FORMATS.get(file.suffix.lower())
    if kind is None:
        raise JudgmentTableError(
            f"--out {file}: write the consensus table to a file ending in "
            f"{', '.join(OUTPUT_FORMATS)}"
        )
    return kind


def write_consensus(table: pd.DataFrame, path: str | Path) -> str:
    """Write ``table`` to ``path``; return the format written (:func:`output_format`)."""
    file = Path(path)
    kind = output_format(file)
    file.parent.mkdir(parents=True, exist_ok=True)
    if kind == "csv":
        file.write_text(to_csv_text(table), encoding="utf-8")
    elif kind == "jsonl":
        columns = list(table.columns)
        with file.open("w", encoding="utf-8") as handle:
            for row in table.itertuples(index=False, name=None):
                record = {c: _plain(v) for c, v in zip(columns, row, strict=True)}
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        out = _json_text(table)
        for column in _VALUE_COLUMNS:
            kinds = {type(v) for v in out[column] if v is not None}
            if len(kinds) > 1:
                out[column] = [None if v is None else str(v) for v in out[column]]
        out.to_parquet(file, index=False)
    return kind
