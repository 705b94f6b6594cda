"""Judgments tables from files: canonical rows (JSON lines, CSV, Parquet, a JSON list) and the
platforms' JSON exports, told apart by extension and content.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from connector.errors import JudgmentTableError
from connector.judgments.exports import argilla_judgments, label_studio_judgments
from connector.judgments.table import (
    REQUIRED_COLUMNS,
    JudgmentTable,
    _is_blank,
    _Rows,
    _validate,
)

__all__ = ["load_judgments"]


def load_judgments(path: str | Path) -> JudgmentTable:
    """Read a judgments table, detecting its format by extension and content.

    ``.jsonl``/``.ndjson``, ``.csv`` and ``.parquet`` hold canonical rows; ``.json`` holds a Label
    Studio export, an Argilla export or a list of canonical rows. Any other extension is read by
    its first character (``[`` → JSON, ``{`` → JSON lines).

    Raises:
        JudgmentTableError: the file is missing, unreadable or invalid; the message names the file,
            the line (or task, annotation, record) and the column, and says what to do.
    """
    file = Path(path)
    source = str(path)
    if not file.is_file():
        raise JudgmentTableError(f"{source}: no such file")
    suffix = file.suffix.lower()
    if suffix == ".parquet":
        return _load_parquet(file, source)
    text = _read_text(file, source)
    if suffix in (".jsonl", ".ndjson"):
        return _load_json_lines(text, source)
    if suffix == ".csv":
        return _load_csv(file, source)
    if suffix == ".json":
        return _load_json_document(text, source)
    first = text.lstrip()[:1]
    if first == "[":
        return _load_json_document(text, source)
    if first == "{":
        return _load_json_lines(text, source)
    raise JudgmentTableError(
        f"{source}: unknown judgments format {suffix or '(no extension)'!r}; "
        "use .jsonl, .ndjson, .csv, .parquet, or .json (Label Studio or Argilla export)"
    )


# --------------------------------------------------------------------------------------------
# Canonical files
# --------------------------------------------------------------------------------------------


def _read_text(file: Path, source: str) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise JudgmentTableError(f"{source}: not UTF-8 text ({exc.reason})") from exc
    except OSError as exc:
        raise JudgmentTableError(f"{source}: cannot read ({exc.strerror})") from exc


def _load_json_lines(text: str, source: str) -> JudgmentTable:
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise JudgmentTableError(
                f"{source}:{number}: invalid JSON: {exc.msg} at column {exc.colno}"
            ) from exc
        if not isinstance(record, dict):
            raise JudgmentTableError(
                f"{source}:{number}: expected a JSON object (one judgment per line), "
                f"got {type(record).__name__}"
            )
        records.append(record)
        lines.append(number)
    if not records:
        raise JudgmentTableError(f"{source}: no judgments (the file has no JSON lines)")
    frame = pd.DataFrame.from_records(records)
    validated, warnings = _validate(frame, _Rows(source, lines), from_text=False)
    return JudgmentTable(
        frame=validated, source=source, format="canonical", warnings=tuple(warnings)
    )


def _load_csv(file: Path, source: str) -> JudgmentTable:
    try:
        frame = pd.read_csv(file, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError as exc:
        raise JudgmentTableError(f"{source}: no judgments (the file is empty)") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise JudgmentTableError(f"{source}: not a valid CSV file: {exc}") from exc
    lines = list(range(2, len(frame) + 2))  # line 1 is the header
    validated, warnings = _validate(frame, _Rows(source, lines), from_text=True)
    return JudgmentTable(
        frame=validated, source=source, format="canonical", warnings=tuple(warnings)
    )


def _load_parquet(file: Path, source: str) -> JudgmentTable:
    try:
        frame = pd.read_parquet(file)
    except ImportError as exc:
        raise JudgmentTableError(
            f"{source}: reading Parquet needs pyarrow; pip install 'iaa-connector[parquet]'"
        ) from exc
    except Exception as exc:  # pyarrow raises its own error types for damaged files
        raise JudgmentTableError(f"{source}: not a valid Parquet file: {exc}") from exc
    strings = [v for v in frame["value"].tolist() if not _is_blank(v)] if "value" in frame else []
    from_text = bool(strings) and all(isinstance(v, str) for v in strings)
    validated, warnings = _validate(frame, _Rows(source, None), from_text=from_text)
    return JudgmentTable(
        frame=validated, source=source, format="canonical", warnings=tuple(warnings)
    )


def _load_json_document(text: str, source: str) -> JudgmentTable:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JudgmentTableError(
            f"{source}:{exc.lineno}: invalid JSON: {exc.msg} at column {exc.colno}"
        ) from exc
    if not isinstance(document, list):
        raise JudgmentTableError(
            f"{source}: expected a JSON list (a Label Studio export of tasks, an Argilla export "
            f"of records, or judgment rows), got {type(document).__name__}"
        )
    if not document:
        raise JudgmentTableError(f"{source}: the export is empty (no tasks or records)")
    first = document[0]
    if not isinstance(first, dict):
        raise JudgmentTableError(
            f"{source}: entry 1 is a {type(first).__name__}, expected an object "
            "(a Label Studio task, an Argilla record or a judgment row)"
        )
    if "annotations" in first:
        return label_studio_judgments(document, source=source)
    if "responses" in first and "fields" in first:
        return argilla_judgments(document, source=source)
    if all(column in first for column in REQUIRED_COLUMNS):
        frame = pd.DataFrame.from_records(document)
        validated, warnings = _validate(frame, _Rows(source, None), from_text=False)
        return JudgmentTable(
            frame=validated, source=source, format="canonical", warnings=tuple(warnings)
        )
    if any(key.endswith(".responses") for key in first):
        raise JudgmentTableError(
            f"{source}: this looks like a flattened Argilla export (to_list(flatten=True)); "
            "export with dataset.records.to_json(path) instead"
        )
    raise JudgmentTableError(
        f"{source}: cannot tell the format of entry 1 (keys {', '.join(map(repr, first))}); "
        "expected a Label Studio task ('annotations'), an Argilla record ('fields', "
        f"'responses') or a judgment row ({', '.join(REQUIRED_COLUMNS)})"
    )
