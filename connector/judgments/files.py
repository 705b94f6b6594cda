"""Judgments tables from files: canonical rows (JSON lines, CSV, Parquet, a JSON list) and the
platforms' own exports, told apart by extension and content (or named with ``format``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from connector.errors import JudgmentTableError
from connector.judgments.exports import argilla_judgments, label_studio_judgments
from connector.judgments.formats import INPUT_FORMATS, PLATFORM_FORMATS, InputFormat, PlatformFormat
from connector.judgments.labelbox import labelbox_judgments
from connector.judgments.layout import TableLayout, to_long
from connector.judgments.mturk import mturk_judgments
from connector.judgments.prodigy import prodigy_judgments
from connector.judgments.scale import scale_judgments
from connector.judgments.sources import (
    AnswerMap,
    PlatformTable,
    csv_rows,
    json_array,
    json_lines,
)
from connector.judgments.surge import surge_judgments
from connector.judgments.table import (
    REQUIRED_COLUMNS,
    JudgmentTable,
    _all_strings,
    _Rows,
    _validate,
)
from connector.metrics._options import choose

__all__ = ["INPUT_FORMATS", "InputFormat", "load_judgments"]

_PROJECT_EXPORTS = ("label-studio", "argilla")
_DELIMITED = (".csv", ".tsv")
_CSV_PLATFORMS = ("mturk", "surge")
_DELIMITERS = ",;\t|"
_HEAD_BYTES = 1 << 16
_MISSING_MARKERS = frozenset({"null", "na", "n/a", "nan", "none", "#n/a"})
_PRODIGY_KEYS = ("_input_hash", "_task_hash", "_annotator_id", "_session_id")

PlatformReader = Callable[..., PlatformTable]
_READERS: dict[PlatformFormat, PlatformReader] = {
    "prodigy": prodigy_judgments,
    "labelbox": labelbox_judgments,
    "surge": surge_judgments,
    "scale": scale_judgments,
    "mturk": mturk_judgments,
}


def load_judgments(
    path: str | Path,
    *,
    format: str | None = None,
    answers: AnswerMap | None = None,
    layout: TableLayout | None = None,
) -> JudgmentTable:
    """Read a judgments table, detecting its format by extension and content.

    ``.jsonl``/``.ndjson``, ``.csv`` and ``.parquet`` hold canonical rows; ``.json`` holds a Label
    Studio export, an Argilla export or a list of canonical rows. Any other extension is read by
    its first character (``[`` → JSON, ``{`` → JSON lines). The platforms' own exports are
    recognised by their fields: a Prodigy ``db-out`` file (``_input_hash``, ``_annotator_id``),
    a Labelbox export (``data_row``, ``projects``), Surge AI results (``worker_id``), Scale AI
    tasks (``task_id`` with ``response`` or ``threads``) and Mechanical Turk batch results
    (``HITId``, ``AssignmentId``); they give a :class:`PlatformTable`.

    Args:
        format: read the file as this format (one of :data:`INPUT_FORMATS`) instead of
            detecting it.
        answers: for platform exports, which answer fields are dimensions and which are
            rationale (see :class:`AnswerMap`).
        layout: for tables of judgments (not platform exports), how their columns map onto the
            canonical ones: other names, a composite item, wide or one-hot tables, empty
            values dropped (see :class:`TableLayout`).

    CSV files are read with their delimiter sniffed from the first lines (comma, semicolon,
    tab or pipe); ``.tsv`` files are tab-separated.

    Raises:
        JudgmentTableError: the file is missing, unreadable or invalid; the message names the file,
            the line (or task, annotation, record) and the column, and says what to do.
        OptionError: ``format`` is not one of :data:`INPUT_FORMATS`.
    """
    file = Path(path)
    source = str(path)
    chosen = None if format is None else choose("format", format, INPUT_FORMATS)
    layout = layout or TableLayout()
    if not file.is_file():
        raise JudgmentTableError(f"{source}: no such file")
    suffix = file.suffix.lower()
    if layout.reshapes and chosen in (None, "canonical"):
        chosen = "canonical"  # named columns: a table of judgments, not a platform's export
    parquet = suffix == ".parquet" and chosen in (None, "canonical")
    delimited = suffix in _DELIMITED and chosen in (None, "canonical", *_CSV_PLATFORMS)
    text = "" if parquet else _read_text(file, source, head=delimited)
    detected = chosen or _detect(text, suffix)
    if detected == "canonical":
        detected = None
    mapped = answers is not None and bool(answers.dimensions or answers.rationale)
    if mapped and detected not in PLATFORM_FORMATS:
        raise JudgmentTableError(
            f"{source}: --map and --rationale apply to platform exports "
            f"({', '.join(PLATFORM_FORMATS)}); this file reads as {detected or 'canonical'}"
        )
    if layout.reshapes and detected is not None:
        raise JudgmentTableError(
            f"{source}: the column options (--item-col, --wide, --one-hot, ...) apply to tables "
            f"of judgments; this file reads as a {detected} export"
        )
    if detected in PLATFORM_FORMATS:
        if delimited:
            text = _read_text(file, source)
        records, lines = _platform_records(text, source, suffix, detected)
        return _READERS[detected](records, source=source, lines=lines, answers=answers)
    if detected in _PROJECT_EXPORTS:
        document = _json_list(text, source)
        reader = label_studio_judgments if detected == "label-studio" else argilla_judgments
        return reader(document, source=source)
    if suffix == ".parquet":
        return _load_parquet(file, source, layout)
    if suffix in (".jsonl", ".ndjson"):
        return _load_json_lines(text, source, layout)
    if delimited:
        return _load_csv(file, source, text, suffix, layout)
    if suffix == ".json":
        return _load_json_document(text, source, layout)
    first = text.lstrip()[:1]
    if first == "[":
        return _load_json_document(text, source, layout)
    if first == "{":
        return _load_json_lines(text, source, layout)
    raise JudgmentTableError(
        f"{source}: unknown judgments format {suffix or '(no extension)'!r}; "
        "use .jsonl, .ndjson, .csv, .tsv, .parquet, or .json (Label Studio or Argilla export)"
    )


# --------------------------------------------------------------------------------------------
# Telling the formats apart
# --------------------------------------------------------------------------------------------


def _detect(text: str, suffix: str) -> InputFormat | None:
    """The platform export ``text`` holds, or None to read it as before (canonical rows, or a
    Label Studio or Argilla ``.json`` export, told apart when the document is read)."""
    if suffix == ".parquet":
        return None
    body = text.lstrip("\ufeff \t\r\n")
    if suffix in _DELIMITED or (
        suffix not in (".json", ".jsonl", ".ndjson") and body[:1] not in "[{"
    ):
        return _detect_header(body, _delimiter(body, suffix))
    if body[:1] == "[" or suffix == ".json":
        try:
            document = json.loads(body)
        except json.JSONDecodeError:
            return None
        if isinstance(document, dict) and isinstance(document.get("docs"), list):
            return "scale"
        first = document[0] if isinstance(document, list) and document else document
        return _detect_record(first)
    first_line = next((line for line in body.splitlines() if line.strip()), "")
    try:
        return _detect_record(json.loads(first_line))
    except json.JSONDecodeError:
        return None


def _delimiter(head: str, suffix: str) -> str:
    """The delimiter of a delimited text file: tab for ``.tsv``, else sniffed from its first
    lines among comma, semicolon, tab and pipe (comma when the sniffer cannot tell)."""
    if suffix == ".tsv":
        return "\t"
    sample = "\n".join(head.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _detect_header(body: str, delimiter: str = ",") -> InputFormat | None:
    try:
        header = next(csv.reader(io.StringIO(body[:_HEAD_BYTES]), delimiter=delimiter), [])
    except csv.Error:
        return None
    if "HITId" in header and "AssignmentId" in header:
        return "mturk"
    if "worker_id" in header and not all(c in header for c in REQUIRED_COLUMNS):
        return "surge"
    return None


def _detect_record(first: object) -> InputFormat | None:
    if not isinstance(first, dict) or all(c in first for c in REQUIRED_COLUMNS):
        return None
    if "data_row" in first and "projects" in first:
        return "labelbox"
    if any(key in first for key in _PRODIGY_KEYS):
        return "prodigy"
    if "task_id" in first and any(k in first for k in ("response", "threads", "status")):
        return "scale"
    if isinstance(first.get("responses"), list):
        return "surge"
    if "worker_id" in first and "annotations" not in first:
        return "surge"
    return None


def _platform_records(
    text: str, source: str, suffix: str, platform: PlatformFormat
) -> tuple[Sequence[Any], Sequence[int]]:
    body = text.lstrip("\ufeff")
    start = body.lstrip()[:1]
    if suffix != ".csv" and start == "[":
        return json_array(body, source)
    if suffix != ".csv" and start == "{":
        document = _one_document(body)
        if isinstance(document, dict) and isinstance(document.get("docs"), list):
            return json_array(body, source)  # a page of a task list
        if isinstance(document, dict):  # one object: a single task, or a one-line file
            return [document], [body.count("\n", 0, body.index("{")) + 1]
        return json_lines(body, source)
    if platform not in ("mturk", "surge"):
        raise JudgmentTableError(
            f"{source}: a {platform} export is JSON; this file does not start with '[' or '{{'"
        )
    _, rows, lines = csv_rows(body, source)
    return rows, lines


def _one_document(body: str) -> object:
    """``body`` as one JSON document, or None when it is not one (JSON lines)."""
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        return None


def _json_list(text: str, source: str) -> list[Any]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JudgmentTableError(
            f"{source}:{exc.lineno}: invalid JSON: {exc.msg} at column {exc.colno}"
        ) from exc
    if not isinstance(document, list):
        raise JudgmentTableError(
            f"{source}: expected a JSON list (the export of a project's tasks or records), "
            f"got {type(document).__name__}"
        )
    return document


# --------------------------------------------------------------------------------------------
# Canonical files
# --------------------------------------------------------------------------------------------


def _read_text(file: Path, source: str, *, head: bool = False) -> str:
    """The file's text, or with ``head`` its first 64 KiB (enough to tell a delimited file's
    format and delimiter without holding all of it)."""
    try:
        if head:
            with file.open("rb") as stream:
                return stream.read(_HEAD_BYTES).decode("utf-8", errors="ignore")
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise JudgmentTableError(f"{source}: not UTF-8 text ({exc.reason})") from exc
    except OSError as exc:
        raise JudgmentTableError(f"{source}: cannot read ({exc.strerror})") from exc


def _canonical(
    frame: pd.DataFrame, rows: _Rows, layout: TableLayout, *, from_text: bool | None
) -> JudgmentTable:
    """A table of judgments read from a file: reshaped by ``layout``, then validated.

    ``from_text``: values arrived as text (CSV); None: decide from the reshaped values (text
    when every present value is a string)."""
    if frame.empty:
        raise JudgmentTableError(
            f"{rows.source}: no judgments (the table has a header and no rows); "
            "export the judgments again or check the file"
        )
    long, located, notes = to_long(frame, layout, rows)
    if long.empty:
        raise JudgmentTableError(
            f"{rows.source}: no judgments left: {'; '.join(notes) or 'every row was dropped'}"
        )
    if from_text is None:
        values = long["value"] if "value" in long else pd.Series([], dtype=object)
        from_text = bool(values.notna().any()) and _all_strings(values)
    validated, warnings = _validate(long, located, from_text=from_text)
    marker = _missing_value_markers(validated, located)
    return JudgmentTable(
        frame=validated,
        source=rows.source,
        format="canonical",
        warnings=(*notes, *warnings, *marker),
        lines=None if located.numbered_rows else located.lines,
    )


def _missing_value_markers(frame: pd.DataFrame, rows: _Rows) -> list[str]:
    """Warnings for values that read like a missing-value marker (``NULL``, ``N/A``): they are
    scored as a category, which is rarely what the table meant."""
    codes, distinct = pd.factorize(frame["value"], use_na_sentinel=True)
    warnings = []
    for code, value in enumerate(distinct):
        if isinstance(value, str) and value.strip().lower() in _MISSING_MARKERS:
            at = np.flatnonzero(codes == code)
            warnings.append(
                f"{rows.source}: value {value!r} ({at.size} judgment(s), first at "
                f"{rows.label(int(at[0]))}) reads like a missing-value marker and is scored as "
                f"a category; pass --na {value} to read it as empty (with --drop-empty to drop "
                "those rows)"
            )
    return warnings


def _load_json_lines(text: str, source: str, layout: TableLayout) -> JudgmentTable:
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
    return _canonical(frame, _Rows(source, lines), layout, from_text=False)


def _load_csv(
    file: Path, source: str, head: str, suffix: str, layout: TableLayout
) -> JudgmentTable:
    """A delimited file, read by pandas' C parser with every column as text; values become
    numbers per dimension later (:func:`_validate`)."""
    delimiter = _delimiter(head.lstrip("\ufeff"), suffix)
    options: dict[str, Any] = {
        "sep": delimiter,
        "dtype": str,
        "keep_default_na": False,
        "na_values": ["", *layout.empty_markers],
    }
    try:
        frame = _read_delimited(file, options)
    except pd.errors.EmptyDataError as exc:
        raise JudgmentTableError(f"{source}: no judgments (the file is empty)") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise JudgmentTableError(f"{source}: not a valid CSV file: {str(exc).strip()}") from exc
    lines = range(2, len(frame) + 2)  # line 1 is the header
    return _canonical(frame, _Rows(source, lines), layout, from_text=True)


def _read_delimited(file: Path, options: dict[str, Any]) -> pd.DataFrame:
    """``pandas.read_csv`` with pyarrow's multi-threaded parser when pyarrow is installed (three
    times faster than the C parser on a 1M-row file, and its strings take a third of the
    memory); the C parser otherwise, and for what pyarrow cannot read (its error, re-read by
    the C parser, gives the message with the line)."""
    frame: pd.DataFrame
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        frame = pd.read_csv(file, engine="c", encoding="utf-8-sig", **options)
        return frame
    try:
        frame = pd.read_csv(file, engine="pyarrow", **options)
    except (pd.errors.EmptyDataError, UnicodeDecodeError):
        raise
    except Exception:  # pyarrow's own error types: let the C parser say where and why
        frame = pd.read_csv(file, engine="c", encoding="utf-8-sig", **options)
        return frame
    if len(frame.columns) and str(frame.columns[0]).startswith("\ufeff"):
        frame = frame.rename(columns={frame.columns[0]: str(frame.columns[0])[1:]})
    return frame


def _load_parquet(file: Path, source: str, layout: TableLayout) -> JudgmentTable:
    try:
        frame = pd.read_parquet(file)
    except ImportError as exc:
        raise JudgmentTableError(
            f"{source}: reading Parquet needs pyarrow; pip install 'iaa-connector[parquet]'"
        ) from exc
    except Exception as exc:  # pyarrow raises its own error types for damaged files
        raise JudgmentTableError(f"{source}: not a valid Parquet file: {exc}") from exc
    return _canonical(frame, _Rows(source, None), layout, from_text=None)


def _load_json_document(text: str, source: str, layout: TableLayout) -> JudgmentTable:
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
    if layout.reshapes or all(column in first for column in REQUIRED_COLUMNS):
        frame = pd.DataFrame.from_records(document)
        return _canonical(frame, _Rows(source, None), layout, from_text=False)
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
