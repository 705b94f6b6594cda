"""Ranking judgments: how a ranking lives in the canonical table, and the dimensions it is
scored through.

A ranking is **one judgment** (one row: item, annotator, the ranking dimension) whose ``value``
is the ordering of the dimension's options, best first, written with ``>`` between ranks and
``=`` inside a tie: ``"b>a=c>d"`` ranks ``b`` first, ``a`` and ``c`` tied second, ``d`` last.
The rubric names the options (``kind: ranking``, ``values: [a, b, c, d]``: the response ids).
A ranking that leaves options out is *incomplete*: it counts for the options it ranks.

It is scored through derived dimensions, built by :func:`scoring_view` (the one owner of the
rule; the report, per-item agreement and consensus read its result):

- ``<name>.<option>`` per option: that option's rank (1 = best, tied options share the mean of
  the ranks they span), ordinal: Krippendorff's alpha on the ranks, per option;
- ``<name>_pairs``: the pairwise preferences the ranking implies (``k`` ranked options give
  ``k (k - 1) / 2`` pairs), one item per pair, ``"<item> (<x> vs <y>)"`` with ``x`` before ``y``
  in the rubric's order, value ``first`` (``x`` ranked above ``y``), ``second`` or ``tie``: a
  preference dimension, so alpha, kappa, decisive agreement and the tie rate exist for it.

Kendall's W (:func:`connector.metrics.ranking.kendall_w`) is computed per item over its
complete rankings (:func:`concordance`). :func:`ranking_preferences` gives each ranking's
chosen/rejected pairs (ties left out) for an export.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from connector.errors import JudgmentTableError
from connector.metrics.ranking import implied_preferences, kendall_w_by_item, midranks
from connector.rubric import Dimension, Rubric, Value

__all__ = [
    "PAIR_VALUES",
    "RANK_SEPARATOR",
    "TIE_SEPARATOR",
    "Concordance",
    "RankingError",
    "ScoringView",
    "assemble_rankings",
    "concordance",
    "format_ranking",
    "pair_item",
    "pairs_dimension",
    "parse_ranking",
    "rank_dimension",
    "ranking_from_ranks",
    "ranking_preferences",
    "scoring_view",
]

RANK_SEPARATOR = ">"
TIE_SEPARATOR = "="
PAIR_VALUES: tuple[str, str, str] = ("first", "second", "tie")


class RankingError(JudgmentTableError):
    """A ranking value that cannot be read against its dimension's options."""


def _option_index(dimension: Dimension) -> dict[str, int]:
    return {str(option): i for i, option in enumerate(dimension.values)}


def parse_ranking(value: object, dimension: Dimension) -> tuple[tuple[int, ...], ...]:
    """The tiers of a ranking value, best first, each tier the indices (into the dimension's
    ``values``) of the options it holds: ``"b>a=c"`` over ``[a, b, c, d]`` gives
    ``((1,), (0, 2))``. A list of options is read best first, no ties.

    Raises:
        RankingError: not a string or list, an empty rank, an option the dimension does not
            have, or an option ranked twice (the message names the value and the options).
    """
    if isinstance(value, list | tuple):
        parts: list[list[str]] = [[str(option)] for option in value]
    elif isinstance(value, str):
        parts = [
            [option.strip() for option in tier.split(TIE_SEPARATOR)]
            for tier in value.split(RANK_SEPARATOR)
        ]
    else:
        raise RankingError(
            f"ranking {value!r} for {dimension.name!r} is not an ordering such as "
            f"{_example(dimension)!r} (options best first, '>' between ranks, '=' in a tie)"
        )
    index = _option_index(dimension)
    seen: set[int] = set()
    tiers: list[tuple[int, ...]] = []
    for tier in parts:
        found: list[int] = []
        for option in tier:
            if option not in index:
                what = "an empty rank" if not option else f"option {option!r}"
                raise RankingError(
                    f"ranking {value!r} for {dimension.name!r} has {what}; its options are "
                    f"{list(dimension.values)} (write e.g. {_example(dimension)!r})"
                )
            if index[option] in seen:
                raise RankingError(
                    f"ranking {value!r} for {dimension.name!r} ranks {option!r} twice"
                )
            seen.add(index[option])
            found.append(index[option])
        tiers.append(tuple(found))
    return tuple(tiers)


def _example(dimension: Dimension) -> str:
    return RANK_SEPARATOR.join(str(v) for v in dimension.values)


def format_ranking(tiers: Sequence[Sequence[int]], dimension: Dimension) -> str:
    """The canonical string of ranking tiers (inverse of :func:`parse_ranking`; options in a
    tie in the rubric's order)."""
    return RANK_SEPARATOR.join(
        TIE_SEPARATOR.join(str(dimension.values[i]) for i in sorted(tier)) for tier in tiers
    )


def ranking_from_ranks(ranks: Mapping[str, int | float], dimension: Dimension) -> str:
    """The canonical string of a ranking given as option → rank (1 = best; equal ranks are
    a tie), as Argilla's ``RankingQuestion`` answers ``[{"value": ..., "rank": ...}]``.

    Raises:
        RankingError: an option the dimension does not have, or a rank that is not a number.
    """
    index = _option_index(dimension)
    by_rank: dict[float, list[int]] = {}
    for option, rank in ranks.items():
        if str(option) not in index:
            raise RankingError(
                f"ranking of {dimension.name!r} names option {option!r}; its options are "
                f"{list(dimension.values)}"
            )
        if isinstance(rank, bool) or not isinstance(rank, int | float) or math.isnan(rank):
            raise RankingError(
                f"ranking of {dimension.name!r} gives {option!r} the rank {rank!r}, not a number"
            )
        by_rank.setdefault(float(rank), []).append(index[str(option)])
    return format_ranking([by_rank[r] for r in sorted(by_rank)], dimension)


def _rank_value(rank: float) -> Value:
    return int(rank) if float(rank).is_integer() else float(rank)


def rank_dimension(dimension: Dimension, option: Value) -> Dimension:
    """The derived ordinal dimension ``<name>.<option>``: that option's rank (mid-ranks for
    ties, so 1, 1.5, 2, …, k)."""
    k = len(dimension.values)
    return Dimension(
        name=f"{dimension.name}.{option}",
        question=f"{dimension.question} (rank of {option})",
        kind="rating",
        values=tuple(_rank_value(1 + h / 2) for h in range(2 * k - 1)),
        level="ordinal",
        target_alpha=dimension.target_alpha,
        gating=dimension.gating,
        gating_reason=dimension.gating_reason,
    )


def pairs_dimension(dimension: Dimension) -> Dimension:
    """The derived preference dimension ``<name>_pairs``: per pair of options, which the
    ranking puts above the other (``first``: the one listed first in the rubric)."""
    return Dimension(
        name=f"{dimension.name}_pairs",
        question=f"{dimension.question} (implied pairwise preferences)",
        kind="preference",
        values=PAIR_VALUES,
        level="nominal",
        non_decisive=("tie",),
        first="first",
        second="second",
        target_alpha=dimension.target_alpha,
        gating=dimension.gating,
        gating_reason=dimension.gating_reason,
    )


def pair_item(item_id: object, first: Value, second: Value) -> str:
    """The item id of one pair of options of an item: ``"<item> (<first> vs <second>)"``."""
    return f"{item_id} ({first} vs {second})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Concordance:
    """Kendall's W over the items of one ranking dimension.

    Attributes:
        n_items: items with at least two complete rankings (each has a W).
        mean, median: of the items' W (``nan`` when no item has one, or all are undefined).
        n_rankings: first rankings read (one per item and annotator).
        n_incomplete: of those, rankings that leave an option out (not in W).
        n_undefined: items whose W is undefined (every ranking ties every option).
    """

    n_items: int
    mean: float
    median: float
    n_rankings: int
    n_incomplete: int
    n_undefined: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoringView:
    """A table with its ranking judgments replaced by the derived dimensions' judgments.

    Attributes:
        frame: the non-ranking rows as they were, then the derived rows (index 0..n-1).
        rubric: the rubric with each ranking dimension replaced by its derived dimensions.
        source_rows: per row of ``frame``, the position of the row it came from.
        rankings: per ranking dimension present, its options, derived dimension names and
            :class:`Concordance`.
    """

    frame: pd.DataFrame
    rubric: Rubric
    source_rows: np.ndarray[Any, np.dtype[np.intp]]
    rankings: dict[str, dict[str, Any]]


RankMatrix = np.ndarray[Any, np.dtype[np.float64]]


def _hashable(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


def _rank_matrix(
    values: Sequence[object],
    dimension: Dimension,
    where: Callable[[int], str],
    *,
    missing_allowed: bool = False,
) -> RankMatrix:
    """Shape ``(len(values), k)``: each value's mid-ranks (``nan`` for an option not ranked,
    and a whole row of ``nan`` for a missing value when ``missing_allowed``). Each distinct
    value is parsed once."""
    k = len(dimension.values)
    codes, uniques = pd.factorize(pd.Series([_hashable(v) for v in values], dtype=object))
    table = np.full((len(uniques) + 1, k), np.nan)  # the last row: missing values (code -1)
    for code, value in enumerate(uniques):
        try:
            table[code] = midranks(parse_ranking(value, dimension), k)
        except RankingError as exc:
            position = int(np.flatnonzero(codes == code)[0])
            raise RankingError(f"{where(position)}: {exc}") from None
    if not missing_allowed and (codes < 0).any():
        position = int(np.flatnonzero(codes < 0)[0])
        raise RankingError(f"{where(position)}: the ranking of {dimension.name!r} is empty")
    return table[codes]


def scoring_view(
    frame: pd.DataFrame, rubric: Rubric, *, where: Callable[[int], str] | None = None
) -> ScoringView:
    """Replace each ranking dimension's judgments (and gold values) by those of its derived
    dimensions (see the module docstring); a table without ranking judgments comes back as
    it is.

    Args:
        frame: canonical judgments (index 0..n-1).
        where: names a row of ``frame`` by its position in messages (default ``row N``).

    Raises:
        RankingError: a ranking value or gold value that cannot be read (the message names
            the row, item and annotator).
    """
    ranking = [d for d in rubric.dimensions if d.kind == "ranking"]
    if ranking and len(frame):
        present = set(frame["dimension"].unique())
        ranking = [d for d in ranking if d.name in present]
    if not ranking:
        return ScoringView(
            frame=frame,
            rubric=rubric,
            source_rows=np.arange(len(frame), dtype=np.intp),
            rankings={},
        )
    name_row = where or (lambda position: f"row {position + 1}")
    dimension_column = frame["dimension"].to_numpy(dtype=object)
    keep = np.flatnonzero(~np.isin(dimension_column, [d.name for d in ranking])).astype(np.intp)
    parts = [frame.iloc[keep]]
    sources = [keep]
    summaries: dict[str, dict[str, Any]] = {}
    for dimension in ranking:
        rows = np.flatnonzero(dimension_column == dimension.name).astype(np.intp)
        block = frame.iloc[rows].reset_index(drop=True)

        def at(position: int, block: pd.DataFrame = block, rows: Any = rows) -> str:
            return (
                f"{name_row(int(rows[position]))} (item {block['item_id'].iat[position]!r}, "
                f"annotator {block['annotator'].iat[position]!r})"
            )

        def gold_at(position: int, at: Callable[[int], str] = at) -> str:
            return f"{at(position)}: gold_value"

        ranks = _rank_matrix(block["value"].tolist(), dimension, at)
        gold = _rank_matrix(block["gold_value"].tolist(), dimension, gold_at, missing_allowed=True)
        for derived, taken in _derived_blocks(block, dimension, ranks, gold):
            parts.append(derived)
            sources.append(rows[taken])
        summaries[dimension.name] = {
            "options": list(dimension.values),
            "rank_dimensions": [f"{dimension.name}.{v}" for v in dimension.values],
            "pairs_dimension": f"{dimension.name}_pairs",
            "concordance": concordance(block, ranks),
        }
    dimensions: list[Dimension] = []
    for dimension in rubric.dimensions:
        if dimension.kind == "ranking":
            dimensions += [rank_dimension(dimension, v) for v in dimension.values]
            dimensions.append(pairs_dimension(dimension))
        else:
            dimensions.append(dimension)
    view = pd.concat(parts, ignore_index=True)
    return ScoringView(
        frame=view,
        rubric=replace(rubric, dimensions=tuple(dimensions)),
        source_rows=np.concatenate(sources),
        rankings=summaries,
    )


def _rank_values(ranks: RankMatrix) -> np.ndarray[Any, np.dtype[np.object_]]:
    """Mid-ranks as rubric values: whole ranks as int, halves as float, ``nan`` as None."""
    out = np.empty(ranks.shape, dtype=object)
    for h in range(2, 2 * ranks.shape[-1] + 1):  # 1, 1.5, 2, ..., k
        out[ranks == h / 2] = _rank_value(h / 2)
    return out


def _derived_blocks(
    block: pd.DataFrame, dimension: Dimension, ranks: RankMatrix, gold: RankMatrix
) -> list[tuple[pd.DataFrame, np.ndarray[Any, np.dtype[np.intp]]]]:
    """The derived rows, one block per rank dimension and per pair of options, with the
    positions (in ``block``) they came from."""
    # No display side, and no response lengths: length_a/length_b are those of response_a and
    # response_b, not of a pair's two options (they would make a wrong length bias).
    base = block.assign(display_left=None, length_a=np.nan, length_b=np.nan)
    values, gold_values = _rank_values(ranks), _rank_values(gold)
    outcomes = np.array(PAIR_VALUES, dtype=object)
    item = block["item_id"].astype(str).to_numpy(dtype=object)
    options = dimension.values
    found = []
    for j, option in enumerate(options):
        taken = np.flatnonzero(~np.isnan(ranks[:, j])).astype(np.intp)
        derived = base.iloc[taken].assign(
            dimension=f"{dimension.name}.{option}",
            value=values[taken, j],
            gold_value=gold_values[taken, j],
        )
        found.append((derived, taken))
    for a, b in itertools.combinations(range(len(options)), 2):
        taken = np.flatnonzero(~np.isnan(ranks[:, a]) & ~np.isnan(ranks[:, b])).astype(np.intp)
        # np.sign: -1 a ranked above b (first), 1 below (second), 0 tied; index 0, 1, 2
        code = np.sign(ranks[taken, a] - ranks[taken, b]).astype(np.intp)
        truth = np.sign(gold[taken, a] - gold[taken, b])
        known = ~np.isnan(truth)
        gold_code = np.nan_to_num(truth).astype(np.intp)
        gold_value = outcomes[np.where(gold_code == 0, 2, (gold_code + 1) // 2)]
        gold_value[~known] = None
        derived = base.iloc[taken].assign(
            item_id=item[taken] + f" ({options[a]} vs {options[b]})",
            dimension=f"{dimension.name}_pairs",
            value=outcomes[np.where(code == 0, 2, (code + 1) // 2)],
            gold_value=gold_value,
        )
        found.append((derived, taken))
    return found


def concordance(block: pd.DataFrame, ranks: RankMatrix) -> Concordance:
    """Kendall's W per item over its complete first rankings (one per annotator: the earliest
    ``submitted_at`` of each (item, annotator), then table order, as the report's coding takes
    the first judgment; re-tests are left out), summarised."""
    when = np.asarray(pd.DatetimeIndex(block["submitted_at"]).asi8)  # NaT sorts first
    order = np.lexsort((np.arange(len(block)), when))
    first = np.zeros(len(block), dtype=bool)
    first[order] = ~block.iloc[order].duplicated(subset=["item_id", "annotator"]).to_numpy()
    complete = first & ~np.isnan(ranks).any(axis=1)
    items = block["item_id"].to_numpy(dtype=object)[complete]
    codes, uniques = pd.factorize(pd.Series(items, dtype=object))
    w, m = kendall_w_by_item(ranks[complete], codes, len(uniques))
    values = w[m >= 2].tolist()
    defined = [w for w in values if not math.isnan(w)]
    return Concordance(
        n_items=len(values),
        mean=float(np.mean(defined)) if defined else float("nan"),
        median=float(np.median(defined)) if defined else float("nan"),
        n_rankings=int(first.sum()),
        n_incomplete=int((first & ~complete).sum()),
        n_undefined=len(values) - len(defined),
    )


def assemble_rankings(
    frame: pd.DataFrame, rubric: Rubric, *, where: Callable[[Any], str] | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Rankings given one row per ranked option, as platform export files write them
    (dimension ``<ranking>.<option>``, value the option's rank, 1 = best: see
    :func:`connector.judgments.exports.argilla_judgments`), turned back into one ranking row per
    item, annotator and ``submitted_at`` when the rubric has the ranking dimension. Equal ranks
    are a tie. The assembled row keeps the index (the position as read) of its first option's
    row; other rows are left as they are.

    Returns:
        the table, and one warning per ranking dimension assembled (how many rows became how
        many rankings).

    Args:
        where: names a row by its index label (default: ``row <label + 1>``).

    Raises:
        RankingError: a per-option rank that is not a number (the message names the row).
    """
    name_row = where or (lambda label: f"row {int(label) + 1}")
    warnings: list[str] = []
    for dimension in (d for d in rubric.dimensions if d.kind == "ranking"):
        names = {f"{dimension.name}.{v}": str(v) for v in dimension.values}
        dims = frame["dimension"].to_numpy(dtype=object)
        rows = np.flatnonzero(np.isin(dims, list(names)))
        if not len(rows):
            continue
        block = frame.iloc[rows]
        keys = ["item_id", "annotator", "submitted_at"]
        assembled = []
        for _, group in block.groupby(keys, sort=False, dropna=False):
            ranks: dict[str, int | float] = {}
            gold: dict[str, int | float] = {}
            for index, dimension_name, rank, truth in zip(
                group.index, group["dimension"], group["value"], group["gold_value"], strict=True
            ):
                if isinstance(rank, str) and rank.strip().lstrip("-").replace(".", "", 1).isdigit():
                    rank = float(rank)
                if isinstance(rank, bool) or not isinstance(rank, int | float):
                    raise RankingError(
                        f"{name_row(index)}: {dimension_name!r} holds {rank!r}, not a rank "
                        f"(a number, 1 = best) of ranking {dimension.name!r}"
                    )
                ranks[names[dimension_name]] = rank
                if isinstance(truth, int | float) and not isinstance(truth, bool):
                    gold[names[dimension_name]] = truth
            row = group.iloc[0].copy()
            row["dimension"] = dimension.name
            row["value"] = ranking_from_ranks(ranks, dimension)
            row["gold_value"] = ranking_from_ranks(gold, dimension) if gold else None
            assembled.append(row)
        joined = pd.DataFrame(assembled)
        frame = pd.concat([frame.drop(index=block.index), joined]).sort_index(kind="stable")
        warnings.append(
            f"{len(block)} per-option rank(s) of ranking {dimension.name!r} "
            f"({', '.join(sorted(set(block['dimension'].astype(str))))}) were read as "
            f"{len(joined)} ranking(s) (options with equal ranks tied)"
        )
    return frame, warnings


def ranking_preferences(frame: pd.DataFrame, rubric: Rubric) -> pd.DataFrame:
    """Each ranking judgment's implied chosen/rejected pairs, ties left out (they never become
    chosen/rejected): columns ``item_id``, ``annotator``, ``dimension``, ``chosen``,
    ``rejected`` (option ids), one row per decisive pair, in table order.

    Raises:
        RankingError: a ranking value that cannot be read (naming the row).
    """
    rows: list[dict[str, Any]] = []
    for dimension in (d for d in rubric.dimensions if d.kind == "ranking"):
        block = frame[frame["dimension"] == dimension.name]
        ranks = _rank_matrix(
            block["value"].tolist(),
            dimension,
            lambda p, block=block: f"row {int(block.index[p]) + 1}",  # type: ignore[misc]
        )
        for item, annotator, rank in zip(
            block["item_id"].tolist(), block["annotator"].tolist(), ranks, strict=True
        ):
            first, second, outcome = implied_preferences(rank)
            for a, b, o in zip(first.tolist(), second.tolist(), outcome.tolist(), strict=True):
                if o == 0:
                    continue
                chosen, rejected = (a, b) if o < 0 else (b, a)
                rows.append(
                    {
                        "item_id": item,
                        "annotator": annotator,
                        "dimension": dimension.name,
                        "chosen": dimension.values[chosen],
                        "rejected": dimension.values[rejected],
                    }
                )
    return pd.DataFrame(rows, columns=["item_id", "annotator", "dimension", "chosen", "rejected"])
