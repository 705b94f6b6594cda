"""Converters of the public annotation datasets in ``shared/data`` to canonical judgments tables.

Used by the tests and the scripts that make the bundled examples, never by the connector at run
time (so it lives here, not in the ``connector`` package).

Each function reads one dataset as published (see ``shared/data/README.md``) and returns a
canonical frame (:func:`connector.judgments.normalise` has validated it). The data directory
defaults to ``shared/data`` beside the repository (``<repo>/../shared/data``); set the environment
variable ``IAA_SHARED_DATA`` to read it from elsewhere, or pass a path.

Notes on a conversion (values mapped, ties merged) are kept in ``frame.attrs["notes"]``.

References:
    Zheng, L. et al. (2023). Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena. NeurIPS
    Datasets and Benchmarks. CC BY 4.0.

    Habernal, I. and Gurevych, I. (2016). Which argument is more convincing? Analyzing and
    predicting convincingness of Web arguments using bidirectional LSTM. ACL.
    doi:10.18653/v1/P16-1150. CC BY 4.0.

    Wang, A. et al. (2022). SQuALITY: Building a Long-Document Summarization Dataset the Hard
    Way. EMNLP. doi:10.18653/v1/2022.emnlp-main.75. CC BY 4.0.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from connector.errors import JudgmentTableError
from connector.judgments import normalise

__all__ = [
    "MT_BENCH_CATEGORIES",
    "mt_bench",
    "mt_bench_category",
    "shared_data_dir",
    "squality",
    "ukpconvarg1",
]

#: MT-Bench's published layout: 10 questions per category, question ids 81–160 in this order.
MT_BENCH_CATEGORIES: tuple[str, ...] = (
    "writing",
    "roleplay",
    "reasoning",
    "math",
    "coding",
    "extraction",
    "stem",
    "humanities",
)
_MT_BENCH_FIRST_QUESTION = 81
_MT_BENCH_TIES = ("tie", "tie (bothbad)", "tie (inconsistent)")
_UKP_VALUES = {"a1": "a", "a2": "b", "equal": "tie"}
_SQUALITY_DIMENSIONS = ("correctness", "selection", "overall")


def shared_data_dir() -> Path:
    """``$IAA_SHARED_DATA`` if set, else ``shared/data`` beside the repository root."""
    configured = os.environ.get("IAA_SHARED_DATA")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _default(relative: str) -> Path:
    return shared_data_dir() / relative


# --------------------------------------------------------------------------------------------
# MT-Bench
# --------------------------------------------------------------------------------------------


def mt_bench_category(question_id: int) -> str | None:
    """The MT-Bench category of a question id (81–160), or None outside that range."""
    index = (question_id - _MT_BENCH_FIRST_QUESTION) // 10
    if question_id < _MT_BENCH_FIRST_QUESTION or index >= len(MT_BENCH_CATEGORIES):
        return None
    return MT_BENCH_CATEGORIES[index]


def mt_bench(path: str | Path | None = None) -> pd.DataFrame:
    """MT-Bench expert pairwise votes (first turn) as a canonical judgments table.

    Default path: ``<shared data>/mt-bench/human_judgments_turn1.jsonl`` (1,689 votes on 80
    questions by 65 judges). An item is a question with an unordered pair of models:

    - ``item_id = f"{question_id}:{m1}|{m2}"`` with ``(m1, m2) = sorted((model_a, model_b))``;
      response a is ``m1``, response b is ``m2``;
    - ``value`` is ``"a"`` if the winner is ``m1``, ``"b"`` if ``m2``, ``"tie"`` for a tie (any
      ``"tie (…)"`` variant, e.g. ``"tie (bothbad)"``, is merged into ``"tie"``; the count is in
      ``frame.attrs["notes"]``);
    - ``display_left`` is ``"a"`` if the vote's ``model_a`` is ``m1``, else ``"b"`` (MT-Bench's
      interface showed ``model_a`` first, on the left);
    - ``annotator`` is ``judge``; ``dimension`` is ``"overall"``; ``category`` is the question's
      MT-Bench category (:data:`MT_BENCH_CATEGORIES`, ids 81–160, ten per category);
      no ``batch``, no timestamps.

    Every vote is kept: in the published file one judge (``author_0``) voted twice on one item
    (question 128, claude-v1 vs gpt-3.5-turbo, shown in both orders), a natural re-test.

    Raises:
        JudgmentTableError: the file is missing, a line is invalid, a field is missing, or a
            ``winner`` is not ``model_a``, ``model_b`` or a tie (file:line named).
    """
    file = Path(path) if path is not None else _default("mt-bench/human_judgments_turn1.jsonl")
    rows: list[dict[str, Any]] = []
    merged_ties = 0
    for where, vote in _json_lines(file):
        question_id = _field(vote, "question_id", where)
        model_a = str(_field(vote, "model_a", where))
        model_b = str(_field(vote, "model_b", where))
        winner = str(_field(vote, "winner", where))
        if model_a == model_b:
            raise JudgmentTableError(f"{where}: model_a and model_b are both {model_a!r}")
        first, second = sorted((model_a, model_b))
        if winner in ("model_a", "model_b"):
            chosen = model_a if winner == "model_a" else model_b
            value = "a" if chosen == first else "b"
        elif winner.startswith("tie"):
            value = "tie"
            merged_ties += winner != "tie"
        else:
            raise JudgmentTableError(
                f"{where}: winner {winner!r} is not 'model_a', 'model_b' or a tie"
            )
        rows.append(
            {
                "item_id": f"{question_id}:{first}|{second}",
                "annotator": str(_field(vote, "judge", where)),
                "dimension": "overall",
                "value": value,
                "category": mt_bench_category(int(question_id)),
                "display_left": "a" if model_a == first else "b",
            }
        )
    frame = normalise(pd.DataFrame.from_records(rows), source=str(file))
    repeated = frame[frame.duplicated(subset=["item_id", "annotator"], keep=False)]
    frame.attrs["notes"] = (
        f"{merged_ties} tie variant(s) such as 'tie (bothbad)' merged into 'tie'",
        f"{len(repeated) - repeated.drop_duplicates(['item_id', 'annotator']).shape[0]} vote(s) "
        "repeat a judge's vote on the same item (the pair shown again, maybe in the other "
        "order); all are kept",
    )
    return frame


# --------------------------------------------------------------------------------------------
# UKPConvArg1
# --------------------------------------------------------------------------------------------


def ukpconvarg1(directory: str | Path | None = None) -> pd.DataFrame:
    """UKPConvArg1 crowd votes ("which argument is more convincing?") as a canonical table.

    Reads ``votes.jsonl.gz``, ``pairs.jsonl.gz`` and ``arguments.jsonl.gz`` from ``directory``
    (default ``<shared data>/ukpconvarg1``): 84,445 votes on 16,927 pairs by 3,815 workers.

    - ``item_id`` is ``pair_id``; response a is the pair's ``arg1``, response b its ``arg2``;
    - ``dimension`` is ``"convincing"``; ``value`` maps ``a1`` → ``"a"``, ``a2`` → ``"b"``,
      ``equal`` → ``"tie"``;
    - ``annotator`` is the MTurk ``worker``; ``category`` is the pair's ``topic`` (32 debate
      sides);
    - ``submitted_at`` is ``submitted_at`` (UTC); ``lead_time_s`` is ``submitted_at −
      accepted_at`` in seconds (time the HIT was held, which may cover more than this pair);
    - ``length_a``/``length_b`` are the character lengths of the two arguments' texts;
    - ``gold_value`` is the authors' MACE estimate (``mace_gold``) mapped the same way: an
      estimate from the crowd votes themselves, not expert gold, and missing on 846 pairs.
      Scoring annotators against it is circular; use it for illustration only.

    The free-text ``reason`` of each vote is dropped.

    Raises:
        JudgmentTableError: a file is missing or invalid, a vote names an unknown pair or value,
            or a pair an unknown argument (file:line named).
    """
    folder = Path(directory) if directory is not None else _default("ukpconvarg1")
    lengths = {
        str(_field(argument, "id", where)): len(str(_field(argument, "text", where)))
        for where, argument in _json_lines(folder / "arguments.jsonl.gz")
    }
    pairs: dict[str, dict[str, Any]] = {}
    for where, pair in _json_lines(folder / "pairs.jsonl.gz"):
        pair_id = str(_field(pair, "pair_id", where))
        sides = []
        for side in ("arg1", "arg2"):
            argument = str(_field(pair, side, where))
            if argument not in lengths:
                raise JudgmentTableError(
                    f"{where}: {side} {argument!r} is not in arguments.jsonl.gz"
                )
            sides.append(lengths[argument])
        gold = pair.get("mace_gold")
        if gold is not None and gold not in _UKP_VALUES:
            raise JudgmentTableError(f"{where}: mace_gold {gold!r} is not a1, a2, equal or null")
        pairs[pair_id] = {
            "category": _field(pair, "topic", where),
            "gold_value": _UKP_VALUES[gold] if gold is not None else None,
            "length_a": float(sides[0]),
            "length_b": float(sides[1]),
        }
    columns: dict[str, list[Any]] = {
        name: []
        for name in (
            "item_id",
            "annotator",
            "dimension",
            "value",
            "category",
            "accepted_at",
            "submitted_at",
            "gold_value",
            "length_a",
            "length_b",
        )
    }
    for where, vote in _json_lines(folder / "votes.jsonl.gz"):
        pair_id = str(_field(vote, "pair_id", where))
        raw_value = _field(vote, "value", where)
        if pair_id not in pairs:
            raise JudgmentTableError(f"{where}: pair_id {pair_id!r} is not in pairs.jsonl.gz")
        if raw_value not in _UKP_VALUES:
            raise JudgmentTableError(f"{where}: value {raw_value!r} is not a1, a2 or equal")
        pair = pairs[pair_id]
        columns["item_id"].append(pair_id)
        columns["annotator"].append(str(_field(vote, "worker", where)))
        columns["dimension"].append("convincing")
        columns["value"].append(_UKP_VALUES[raw_value])
        columns["category"].append(pair["category"])
        columns["accepted_at"].append(vote.get("accepted_at"))
        columns["submitted_at"].append(vote.get("submitted_at"))
        columns["gold_value"].append(pair["gold_value"])
        columns["length_a"].append(pair["length_a"])
        columns["length_b"].append(pair["length_b"])
    votes_file = str(folder / "votes.jsonl.gz")
    accepted = _ukp_timestamps(columns.pop("accepted_at"), votes_file, "accepted_at")
    submitted = _ukp_timestamps(columns.pop("submitted_at"), votes_file, "submitted_at")
    frame = pd.DataFrame(columns)
    frame["submitted_at"] = submitted
    frame["lead_time_s"] = (submitted - accepted).dt.total_seconds()
    return normalise(frame, source=votes_file)


def _ukp_timestamps(values: list[Any], source: str, column: str) -> pd.Series[Any]:
    """Parse ``2016-01-31 16:53:19.0 UTC`` fast (one explicit format for all rows)."""
    texts = pd.Series(values, dtype=object)
    stripped = texts.str.removesuffix(" UTC")
    parsed = pd.to_datetime(stripped, format="%Y-%m-%d %H:%M:%S.%f", utc=True, errors="coerce")
    bad = parsed.isna() & texts.notna()
    if bad.any():
        line = int(bad.to_numpy().nonzero()[0][0]) + 1
        raise JudgmentTableError(
            f"{source}:{line}: {column} {texts.iloc[line - 1]!r} is not a timestamp "
            "like '2016-01-31 16:53:19.0 UTC'"
        )
    return parsed


# --------------------------------------------------------------------------------------------
# SQuALITY
# --------------------------------------------------------------------------------------------


def squality(path: str | Path | None = None, *, with_ranks: bool = False) -> pd.DataFrame:
    """SQuALITY human evaluation of summaries as a canonical judgments table.

    Default path: ``<shared data>/squality/human_eval_responses.jsonl``: 20 passages × 5
    questions × 3 responses (systems ``bart``, ``bart-dpr``, ``human``), each response reviewed
    by 3 of 4 workers, giving 900 reviews and 2,700 rating judgments.

    - ``item_id`` is ``f"{passage_id}:q{question}:{system}"``: one response to one question
      about one passage (the file holds no question texts, only their index 0–4);
    - ``dimension`` is ``correctness``, ``selection`` or ``overall``; ``value`` is the worker's
      ``<dimension>-rating`` as given, an integer from 0 to 100 (a slider; 0, 5, 10, … and 100
      are the most used);
    - ``annotator`` is ``f"worker_{worker_id}"``; ``category`` is the response's system, so
      agreement can be compared between human and model summaries.

    With ``with_ranks=True``, also ``<dimension>_rank`` dimensions: the rank (1 = best) the
    worker gave the response among the three responses to the same question.

    The per-response ``overall`` entry of the file (the mean of the reviewers' ratings) is an
    aggregate, not a judgment, and is not read; nor are the highlighted selections.

    Raises:
        JudgmentTableError: the file is missing, a line is invalid, or a review lacks a field
            (file:line named).
    """
    file = Path(path) if path is not None else _default("squality/human_eval_responses.jsonl")
    rows: list[dict[str, Any]] = []
    for where, passage in _json_lines(file):
        passage_id = _field(passage, "passage-id", where)
        questions = _field(passage, "questions", where)
        if not isinstance(questions, dict):
            raise JudgmentTableError(f"{where}: 'questions' is not an object")
        for question, responses in sorted(questions.items(), key=lambda kv: int(kv[0])):
            for system, response in sorted(responses.items()):
                for review in _field(response, "reviews", where):
                    common = {
                        "item_id": f"{passage_id}:q{question}:{system}",
                        "annotator": f"worker_{_field(review, 'worker_id', where)}",
                        "category": system,
                    }
                    for dimension in _SQUALITY_DIMENSIONS:
                        rows.append(
                            {
                                **common,
                                "dimension": dimension,
                                "value": _field(review, f"{dimension}-rating", where),
                            }
                        )
                        if with_ranks:
                            rows.append(
                                {
                                    **common,
                                    "dimension": f"{dimension}_rank",
                                    "value": _field(review, f"{dimension}-rank", where),
                                }
                            )
    return normalise(pd.DataFrame.from_records(rows), source=str(file))


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def _json_lines(file: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``("file:line", object)`` for each non-blank line of a (gzipped) JSON lines file."""
    if not file.is_file():
        raise JudgmentTableError(
            f"{file}: no such file; set IAA_SHARED_DATA to the directory holding the shared data"
        )
    opener = gzip.open if file.suffix == ".gz" else open
    with opener(file, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{file}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise JudgmentTableError(f"{where}: invalid JSON: {exc}") from exc
            if not isinstance(record, dict):
                raise JudgmentTableError(f"{where}: expected a JSON object")
            yield where, record


def _field(record: dict[str, Any], name: str, where: str) -> Any:
    if record.get(name) is None:
        raise JudgmentTableError(f"{where}: missing field {name!r}")
    return record[name]
