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

import json
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from connector.errors import JudgmentTableError

__all__ = [
    "COLUMNS",
    "REQUIRED_COLUMNS",
    "JudgmentTable",
    "TableFormat",
    "argilla_judgments",
    "label_studio_judgments",
    "load_judgments",
    "normalise",
]

TableFormat = Literal["canonical", "label-studio", "argilla"]

REQUIRED_COLUMNS: tuple[str, ...] = ("item_id", "annotator", "dimension", "value")
_TEXT_COLUMNS: tuple[str, ...] = ("category", "rubric_version", "batch", "display_left")
_FLOAT_COLUMNS: tuple[str, ...] = ("lead_time_s", "length_a", "length_b")
COLUMNS: tuple[str, ...] = (
    *REQUIRED_COLUMNS,
    "category",
    "submitted_at",
    "rubric_version",
    "batch",
    "lead_time_s",
    "display_left",
    "gold_value",
    "length_a",
    "length_b",
)
_DISPLAY_SIDES = ("a", "b")
_TIMESTAMP_DTYPE = pd.DatetimeTZDtype(unit="ns", tz="UTC")
_INTEGER = re.compile(r"[+-]?\d+")
_MAX_LISTED = 5


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class JudgmentTable:
    """A validated judgments table and what was learnt while reading it.

    Attributes:
        frame: the canonical table, columns :data:`COLUMNS` (then any unknown ones).
        source: the path read (or ``"<frame>"``).
        format: ``"canonical"``, ``"label-studio"`` or ``"argilla"``.
        skipped: annotations or responses read but not counted as judgments: cancelled Label
            Studio annotations, draft and discarded Argilla responses.
        gold: Label Studio ground-truth annotations read as gold (not judgments); their values
            fill ``gold_value``.
        warnings: what the reader noticed and kept going about (unknown columns, repeated
            judgments, results of unsupported types).
    """

    frame: pd.DataFrame
    source: str
    format: TableFormat
    skipped: int = 0
    gold: int = 0
    warnings: tuple[str, ...] = ()

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, source: str = "<frame>") -> JudgmentTable:
        """Validate a canonical frame (see :func:`normalise`) and keep the warnings."""
        validated, warnings = _validate(frame, _Rows(source, None), from_text=False)
        return cls(frame=validated, source=source, format="canonical", warnings=tuple(warnings))


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------


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


def normalise(frame: pd.DataFrame, *, source: str = "<frame>") -> pd.DataFrame:
    """Validate a canonical frame and return it with all :data:`COLUMNS` and their dtypes.

    Rows are named in errors by 1-based position (``<frame>: row 3``). Values are kept as given
    (strings stay strings, numbers numbers; numpy scalars become Python ones). To see the
    warnings (unknown columns, repeated judgments) use :meth:`JudgmentTable.from_frame`.

    Raises:
        JudgmentTableError: a required column is missing; an item_id, annotator, dimension or
            value is empty; a value is a list or mapping; a timestamp, number or display_left
            is invalid.
    """
    validated, _ = _validate(frame, _Rows(source, None), from_text=False)
    return validated


# --------------------------------------------------------------------------------------------
# Row locations for error messages
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rows:
    """Where the rows of a frame came from: file lines (1-based) or, if None, row positions."""

    source: str
    lines: Sequence[int] | None

    def where(self, position: int) -> str:
        if self.lines is None:
            return f"{self.source}: row {position + 1}"
        return f"{self.source}:{self.lines[position]}"

    def label(self, position: int) -> str:
        if self.lines is None:
            return f"row {position + 1}"
        return f"line {self.lines[position]}"

    def others(self, positions: Sequence[int]) -> str:
        """`` (also lines 20, 31)`` for the offending rows after the first; empty if none."""
        rest = positions[1:]
        if not rest:
            return ""
        unit = "rows" if self.lines is None else "lines"
        numbers = [str(p + 1 if self.lines is None else self.lines[p]) for p in rest[:_MAX_LISTED]]
        more = f" and {len(rest) - _MAX_LISTED} more" if len(rest) > _MAX_LISTED else ""
        return f" (also {unit} {', '.join(numbers)}{more})"


def _offending(mask: np.ndarray[Any, np.dtype[np.bool_]]) -> list[int]:
    return [int(p) for p in np.flatnonzero(mask)]


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    return value is pd.NaT or value is pd.NA


def _native(value: object) -> object:
    """Numpy scalars become Python ones, so values compare and serialise plainly."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def _as_text(value: object) -> str:
    value = _native(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _blank_mask(column: pd.Series[Any]) -> np.ndarray[Any, np.dtype[np.bool_]]:
    return np.fromiter((_is_blank(v) for v in column.tolist()), dtype=bool, count=len(column))


def _numbers_by_dimension(values: list[object], dimensions: list[str]) -> list[object]:
    """Turn the string values of each dimension into numbers when all of them read as numbers."""
    numeric: dict[str, bool] = {}
    parsed: list[object] = []
    for value, dimension in zip(values, dimensions, strict=True):
        number = _parse_number(value)
        parsed.append(number)
        if value is not None:
            numeric[dimension] = numeric.get(dimension, True) and number is not None
    return [
        number if value is not None and numeric[dimension] else value
        for value, number, dimension in zip(values, parsed, dimensions, strict=True)
    ]


def _parse_number(value: object) -> int | float | None:
    if not isinstance(value, str):
        return value if isinstance(value, int | float) else None
    text = value.strip()
    if _INTEGER.fullmatch(text):
        return int(text)
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _validate(
    frame: pd.DataFrame, rows: _Rows, *, from_text: bool
) -> tuple[pd.DataFrame, list[str]]:
    """Check a frame of judgments and bring it to the canonical columns and dtypes.

    ``from_text`` says values arrived as strings (CSV): they then become numbers per dimension.
    """
    if not isinstance(frame, pd.DataFrame):
        raise JudgmentTableError(
            f"{rows.source}: expected a pandas DataFrame, got {type(frame).__name__}"
        )
    found = [str(c) for c in frame.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in found]
    if missing:
        shown_found = ", ".join(repr(c) for c in found) if found else "none"
        raise JudgmentTableError(
            f"{rows.source}: missing required column(s) {', '.join(repr(c) for c in missing)}; "
            f"columns found: {shown_found}. A judgments table needs "
            f"{', '.join(REQUIRED_COLUMNS)} (one row per judgment)"
        )
    frame = frame.reset_index(drop=True)
    frame.columns = pd.Index(found)
    warnings: list[str] = []
    result: dict[str, pd.Series[Any]] = {}
    n = len(frame)

    def empty_error(column: str, positions: Sequence[int]) -> JudgmentTableError:
        tail = "drop the row" if len(positions) == 1 else "drop those rows"
        return JudgmentTableError(
            f"{rows.where(positions[0])}: column {column!r} is empty{rows.others(positions)}; "
            f"fill it in or {tail}"
        )

    for column in REQUIRED_COLUMNS:
        values = frame[column]
        positions = _offending(_blank_mask(values))
        if positions:
            raise empty_error(column, positions)
        if column != "value":
            result[column] = _object_series([_as_text(v) for v in values.tolist()])

    value_list = [_native(v) for v in frame["value"].tolist()]
    _reject_containers("value", value_list, rows)
    dimensions: list[str] = result["dimension"].tolist()
    if from_text:
        value_list = _numbers_by_dimension(value_list, dimensions)
    result["value"] = _object_series(value_list)

    for column in _TEXT_COLUMNS:
        if column not in frame.columns:
            result[column] = _object_series([None] * n)
            continue
        texts = [None if _is_blank(v) else _as_text(v) for v in frame[column].tolist()]
        if column == "display_left":
            bad = [p for p, t in enumerate(texts) if t is not None and t not in _DISPLAY_SIDES]
            if bad:
                raise JudgmentTableError(
                    f"{rows.where(bad[0])}: column 'display_left' is {texts[bad[0]]!r}"
                    f"{rows.others(bad)}; it must be 'a' or 'b' (the response shown on the left)"
                    " or empty"
                )
        result[column] = _object_series(texts)

    result["submitted_at"] = (
        _timestamps(frame["submitted_at"], rows)
        if "submitted_at" in frame.columns
        else pd.Series(pd.NaT, index=range(n), dtype=_TIMESTAMP_DTYPE)
    )

    for column in _FLOAT_COLUMNS:
        result[column] = (
            _floats(frame[column], column, rows)
            if column in frame.columns
            else pd.Series(np.nan, index=range(n), dtype="float64")
        )

    if "gold_value" in frame.columns:
        gold = [None if _is_blank(v) else _native(v) for v in frame["gold_value"].tolist()]
        _reject_containers("gold_value", gold, rows)
        if from_text:
            gold = _numbers_by_dimension(gold, dimensions)
        result["gold_value"] = _object_series(gold)
    else:
        result["gold_value"] = _object_series([None] * n)

    extra = [c for c in found if c not in COLUMNS]
    if extra:
        warnings.append(
            f"{rows.source}: unknown column(s) {', '.join(repr(c) for c in extra)} kept as they "
            f"are; the connector reads only {', '.join(COLUMNS)}"
        )
    out = pd.DataFrame({c: result[c] for c in COLUMNS}, index=pd.RangeIndex(n))
    for column in extra:
        out[column] = frame[column].to_numpy()

    keys = out.duplicated(subset=["item_id", "annotator", "dimension"], keep="first")
    repeats = int(keys.sum())
    if repeats:
        first = int(np.flatnonzero(keys.to_numpy())[0])
        warnings.append(
            f"{rows.source}: {repeats} judgment(s) repeat an (item_id, annotator, dimension) "
            f"already judged, first at {rows.label(first)}; "
            "they are kept (re-tests?); drop them if they are duplicates"
        )
    return out, warnings


def _object_series(values: Sequence[object]) -> pd.Series[Any]:
    array = np.empty(len(values), dtype=object)
    array[:] = list(values)
    return pd.Series(array, index=pd.RangeIndex(len(values)), dtype=object)


def _reject_containers(column: str, values: Sequence[object], rows: _Rows) -> None:
    bad = [p for p, v in enumerate(values) if isinstance(v, list | tuple | dict | np.ndarray)]
    if bad:
        kind = type(values[bad[0]]).__name__
        raise JudgmentTableError(
            f"{rows.where(bad[0])}: column {column!r} holds a {kind}{rows.others(bad)}; "
            "a judgment value is one string or number (write one row per dimension)"
        )


def _timestamps(column: pd.Series[Any], rows: _Rows) -> pd.Series[Any]:
    """Parse to UTC; naive timestamps are taken to be UTC."""
    if isinstance(column.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(column):
        parsed = pd.to_datetime(column, utc=True)
        return parsed.astype(_TIMESTAMP_DTYPE).reset_index(drop=True)
    raw = column.tolist()
    present = [not _is_blank(v) for v in raw]
    texts = pd.Series([_as_text(v) if p else None for v, p in zip(raw, present, strict=True)])
    parsed = pd.to_datetime(texts, utc=True, format="ISO8601", errors="coerce")
    failed = [p for p in range(len(raw)) if present[p] and pd.isna(parsed.iloc[p])]
    if failed:
        retry = pd.to_datetime(texts.iloc[failed], utc=True, format="mixed", errors="coerce")
        parsed.iloc[failed] = retry
        failed = [p for p in failed if pd.isna(parsed.iloc[p])]
    if failed:
        raise JudgmentTableError(
            f"{rows.where(failed[0])}: column 'submitted_at' is not a timestamp: "
            f"{raw[failed[0]]!r}{rows.others(failed)}; write ISO 8601, "
            "e.g. 2024-05-01T12:00:00Z"
        )
    return parsed.astype(_TIMESTAMP_DTYPE).reset_index(drop=True)


def _floats(column: pd.Series[Any], name: str, rows: _Rows) -> pd.Series[Any]:
    raw = column.tolist()
    numbers: list[float] = []
    bad: list[int] = []
    for position, value in enumerate(raw):
        if _is_blank(value):
            numbers.append(math.nan)
            continue
        number = _parse_number(value) if not isinstance(value, bool) else None
        if number is None:
            bad.append(position)
            numbers.append(math.nan)
        else:
            numbers.append(float(number))
    if bad:
        raise JudgmentTableError(
            f"{rows.where(bad[0])}: column {name!r} is not a number: {raw[bad[0]]!r}"
            f"{rows.others(bad)}"
        )
    return pd.Series(numbers, dtype="float64")


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


# --------------------------------------------------------------------------------------------
# Label Studio
# --------------------------------------------------------------------------------------------

_LS_VALUE_KEYS = ("choices", "rating", "number")


def label_studio_judgments(
    tasks: Sequence[Any], *, source: str = "<label-studio>"
) -> JudgmentTable:
    """Read a Label Studio JSON export (the "JSON" export: a list of tasks) as judgments.

    One judgment per (annotation, result) whose ``value`` holds ``choices``, ``rating``,
    ``number`` or ``selected`` (the Pairwise tag):

    - ``item_id`` is ``data.item_id`` if present, else the task ``id``;
    - ``annotator`` is ``completed_by.email`` when the export expands users, else the user id;
    - ``dimension`` is the result's ``from_name`` (the control tag's name);
    - ``value`` is the single choice (several choices are joined with ``|``, with a warning),
      the rating or the number; a Pairwise ``left``/``right`` becomes ``a``/``b`` when
      ``data.display_left`` is known, and is kept as given otherwise;
    - ``category``, ``display_left``, ``rubric_version``, ``batch`` come from ``data``;
      ``length_a``/``length_b`` from the lengths of ``data.response_a``/``data.response_b``;
    - ``lead_time_s`` is ``lead_time``; ``submitted_at`` is ``updated_at``, else ``created_at``.

    Cancelled (skipped) annotations count in ``skipped``. Annotations marked ``ground_truth`` are
    gold, not judgments: they count in ``gold`` and their values fill ``gold_value`` on the
    item's judgments of the same dimension. Results of other types (textarea, ranker, regions)
    are left out and counted in a warning.

    Raises:
        JudgmentTableError: naming the task and annotation ids when a task has no ``id`` or
            ``data``, an annotation has no ``completed_by``, or two ground-truth annotations
            disagree.
    """
    rows: list[dict[str, Any]] = []
    gold: dict[tuple[str, str], tuple[object, str]] = {}
    skipped = 0
    gold_count = 0
    other_types: Counter[str] = Counter()
    multiple_choices = 0
    for position, task in enumerate(tasks, start=1):
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise JudgmentTableError(
                f"{source}: task #{position} has no 'data' object; "
                "is this a Label Studio JSON export?"
            )
        if task.get("id") is None:
            raise JudgmentTableError(f"{source}: task #{position} has no 'id'")
        data: dict[str, Any] = task["data"]
        item_id = _as_text(data["item_id"]) if not _is_blank(data.get("item_id")) else None
        item_id = item_id or _as_text(task["id"])
        display_left = data.get("display_left")
        for annotation in task.get("annotations") or []:
            where = f"{source}: task {task['id']}, annotation {annotation.get('id')}"
            if annotation.get("was_cancelled"):
                skipped += 1
                continue
            is_gold = bool(annotation.get("ground_truth"))
            annotator = _ls_annotator(annotation.get("completed_by"))
            if annotator is None and not is_gold:
                raise JudgmentTableError(
                    f"{where}: no 'completed_by'; export with user details or fill it in"
                )
            results = annotation.get("result") or []
            found_any = False
            for result in results:
                dimension = result.get("from_name")
                value_obj = result.get("value")
                if not isinstance(value_obj, dict) or not dimension:
                    other_types[str(result.get("type", "unknown"))] += 1
                    continue
                value = _ls_value(value_obj, display_left)
                if value is _UNSUPPORTED:
                    other_types[str(result.get("type", "unknown"))] += 1
                    continue
                if len(value_obj.get("choices") or ()) > 1:
                    multiple_choices += 1
                found_any = True
                if is_gold:
                    key = (item_id, str(dimension))
                    if key in gold and gold[key][0] != value:
                        raise JudgmentTableError(
                            f"{where}: two ground-truth annotations disagree on {dimension!r} "
                            f"({gold[key][0]!r} in {gold[key][1]}, {value!r} here); "
                            "keep one ground truth per item"
                        )
                    gold[key] = (value, f"annotation {annotation.get('id')}")
                    continue
                rows.append(
                    {
                        "item_id": item_id,
                        "annotator": annotator,
                        "dimension": str(dimension),
                        "value": value,
                        "category": data.get("category"),
                        "submitted_at": annotation.get("updated_at")
                        or annotation.get("created_at"),
                        "rubric_version": data.get("rubric_version"),
                        "batch": data.get("batch"),
                        "lead_time_s": annotation.get("lead_time"),
                        "display_left": display_left,
                        "length_a": _length(data.get("response_a")),
                        "length_b": _length(data.get("response_b")),
                    }
                )
            if is_gold and found_any:
                gold_count += 1
    warnings: list[str] = []
    if other_types:
        kinds = ", ".join(f"{kind} ({count})" for kind, count in sorted(other_types.items()))
        warnings.append(
            f"{source}: left out {sum(other_types.values())} result(s) that are not "
            f"choices, rating, number or pairwise: {kinds}"
        )
    if multiple_choices:
        warnings.append(
            f"{source}: {multiple_choices} result(s) chose several options; "
            "their values join the choices with '|'"
        )
    used_gold: set[tuple[str, str]] = set()
    for row in rows:
        key = (row["item_id"], row["dimension"])
        if key in gold:
            row["gold_value"] = gold[key][0]
            used_gold.add(key)
    unused = len(gold) - len(used_gold)
    if unused:
        warnings.append(
            f"{source}: {unused} ground-truth value(s) belong to items no annotator judged "
            "on that dimension; they are not in the table"
        )
    return _export_table(rows, source, "label-studio", skipped, gold_count, warnings)


class _Unsupported:
    pass


_UNSUPPORTED = _Unsupported()


def _ls_value(value: Mapping[str, Any], display_left: object) -> object:
    if "choices" in value:
        choices = value["choices"]
        if isinstance(choices, list) and choices:
            return str(choices[0]) if len(choices) == 1 else "|".join(map(str, choices))
        return _UNSUPPORTED
    for key in ("rating", "number"):
        if key in value and isinstance(value[key], int | float):
            return value[key]
    if "selected" in value and value["selected"] in ("left", "right"):
        side = value["selected"]
        if display_left in _DISPLAY_SIDES:
            other = "b" if display_left == "a" else "a"
            return display_left if side == "left" else other
        return side
    return _UNSUPPORTED


def _ls_annotator(completed_by: object) -> str | None:
    if isinstance(completed_by, dict):
        email = completed_by.get("email")
        if isinstance(email, str) and email:
            return email
        completed_by = completed_by.get("id")
    if completed_by is None or isinstance(completed_by, bool):
        return None
    return _as_text(completed_by)


def _length(text: object) -> float | None:
    return float(len(text)) if isinstance(text, str) else None


# --------------------------------------------------------------------------------------------
# Argilla
# --------------------------------------------------------------------------------------------


def argilla_judgments(records: Sequence[Any], *, source: str = "<argilla>") -> JudgmentTable:
    """Read an Argilla 2.x export (``dataset.records.to_json(path)`` or ``to_list()``).

    Each record reads ``{"id", "fields", "metadata", "responses": {question: [{"value",
    "user_id", "status"?}]}, "suggestions", "vectors", "status", "_server_id"}``:

    - ``item_id`` is ``metadata.item_id`` if present, else the record ``id`` (else ``_server_id``);
    - ``annotator`` is the response's ``user_id``; ``dimension`` the question name;
    - ``category``, ``display_left``, ``rubric_version``, ``batch`` come from ``metadata``;
      ``length_a``/``length_b`` are the lengths of ``fields.response_a``/``fields.response_b``.

    Only submitted responses are judgments; ``draft`` and ``discarded`` ones count in
    ``skipped``. Argilla 2.8's ``to_json`` writes no per-response ``status``: such responses are
    counted as submitted, with a warning (export the responses with their status to tell).

    Rankings become one judgment per ranked option: dimension ``"{question}.{option}"``, value
    the option's rank (1 = best). A ranking given as ``[{"value", "rank"}]`` (the API form)
    keeps its ranks, ties included; one given as a plain list of options (what the 2.8 SDK
    exports) is read best first, ranks 1, 2, …, with a warning naming the question (a
    multi-label question would read the same way). Span answers and other structures are left
    out and counted in a warning. Suggestions (model predictions) are never judgments.

    Raises:
        JudgmentTableError: naming the record when it is not an object, has no id, or a response
            has no ``user_id``.
    """
    rows: list[dict[str, Any]] = []
    skipped = 0
    no_status = 0
    ranked_lists: set[str] = set()
    unsupported: Counter[str] = Counter()
    for position, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise JudgmentTableError(f"{source}: record #{position} is not an object")
        fields = record.get("fields") or {}
        metadata = record.get("metadata") or {}
        record_id = record.get("id") or record.get("_server_id")
        item_id = metadata.get("item_id")
        if _is_blank(item_id):
            item_id = record_id
        if _is_blank(item_id):
            raise JudgmentTableError(
                f"{source}: record #{position} has no 'id' and no metadata 'item_id'"
            )
        where = f"{source}: record {record_id or f'#{position}'}"
        common = {
            "item_id": _as_text(item_id),
            "category": metadata.get("category"),
            "rubric_version": metadata.get("rubric_version"),
            "batch": metadata.get("batch"),
            "display_left": metadata.get("display_left"),
            "length_a": _length(fields.get("response_a")),
            "length_b": _length(fields.get("response_b")),
        }
        responses = record.get("responses") or {}
        if not isinstance(responses, dict):
            raise JudgmentTableError(
                f"{where}: 'responses' is a {type(responses).__name__}, expected an object "
                "mapping each question to its list of responses"
            )
        for question, answers in responses.items():
            for answer in answers or []:
                status = answer.get("status")
                if status is None:
                    no_status += 1
                elif status != "submitted":
                    skipped += 1
                    continue
                user = answer.get("user_id")
                if _is_blank(user):
                    raise JudgmentTableError(
                        f"{where}: a response to {question!r} has no 'user_id'"
                    )
                for dimension, value in _argilla_values(
                    str(question), answer.get("value"), ranked_lists, unsupported
                ):
                    rows.append(
                        {
                            **common,
                            "annotator": _as_text(user),
                            "dimension": dimension,
                            "value": value,
                        }
                    )
    warnings: list[str] = []
    if no_status:
        warnings.append(
            f"{source}: {no_status} response(s) carry no status (Argilla's records.to_json "
            "drops it); they were counted as submitted, so drafts may be among them"
        )
    for question in sorted(ranked_lists):
        warnings.append(
            f"{source}: question {question!r} was answered with lists of options; read as "
            "rankings, best first (ranks 1, 2, …; ties are lost in this export)"
        )
    if unsupported:
        kinds = ", ".join(f"{q} ({c})" for q, c in sorted(unsupported.items()))
        warnings.append(
            f"{source}: left out {sum(unsupported.values())} answer(s) that are not a label, "
            f"rating or ranking: {kinds}"
        )
    return _export_table(rows, source, "argilla", skipped, 0, warnings)


def _argilla_values(
    question: str,
    value: object,
    ranked_lists: set[str],
    unsupported: Counter[str],
) -> list[tuple[str, object]]:
    if isinstance(value, str | int | float) and not _is_blank(value):
        return [(question, value)]
    if isinstance(value, list) and value:
        if all(isinstance(v, str) for v in value):
            ranked_lists.add(question)
            return [(f"{question}.{option}", rank) for rank, option in enumerate(value, 1)]
        if all(isinstance(v, dict) and "value" in v and "start" not in v for v in value):
            return [
                (f"{question}.{v['value']}", v.get("rank") if v.get("rank") is not None else r)
                for r, v in enumerate(value, 1)
            ]
    unsupported[question] += 1
    return []


# --------------------------------------------------------------------------------------------
# Shared
# --------------------------------------------------------------------------------------------


def _export_table(
    rows: list[dict[str, Any]],
    source: str,
    format: TableFormat,
    skipped: int,
    gold: int,
    warnings: list[str],
) -> JudgmentTable:
    if rows:
        frame = pd.DataFrame.from_records(rows)
    else:
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in REQUIRED_COLUMNS})
        warnings.append(f"{source}: no judgments found")
    validated, more = _validate(frame, _Rows(source, None), from_text=False)
    return JudgmentTable(
        frame=validated,
        source=source,
        format=format,
        skipped=skipped,
        gold=gold,
        warnings=(*warnings, *more),
    )
