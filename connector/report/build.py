"""Build the agreement report (a JSON-ready dict, see docs/report-schema.md) from judgments.

Data flow: canonical judgments table + rubric → integer codes per dimension (once) → the pure
engine in :mod:`connector.metrics` → this dict. Renderers (JSON, Markdown, HTML, console) only
read the dict.

Repeated judgments of the same item by the same annotator on one dimension are re-tests: the
first one (by ``submitted_at``, else by row order) counts for inter-annotator agreement, the
second one for intra-annotator consistency; further repeats are counted and ignored.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from connector.errors import JudgmentTableError
from connector.judgments import is_unknown_annotator
from connector.judgments.rankings import Concordance, scoring_view
from connector.metrics.agreement import AgreementSummary, Estimate, summarise_agreement
from connector.metrics.annotator import (
    gold_scores,
    leave_one_out,
    non_decisive_rates,
    peer_agreement,
    peer_comparison,
)
from connector.metrics.bias import (
    ChoiceBias,
    choice_bias,
    constant_side,
    unmeasurable_position,
)
from connector.metrics.bootstrap import DEFAULT_INTERVAL_METHOD, IntervalMethod
from connector.metrics.confusion import confusion_pairs, pair_confusion
from connector.metrics.consistency import Consistency, retest_consistency
from connector.metrics.item_agreement import item_agreement
from connector.metrics.judgments import CodedJudgments
from connector.metrics.table import code_values, value_counts
from connector.metrics.weights import agreement_weights, weights_for_level
from connector.quality.lifecycle import first_decisions
from connector.report.checks import CheckedInput, RowPlaces, check_input, label_key
from connector.report.retests import RetestReach, retest_reach
from connector.report.tiers import REFERENCE_GROUP, tier_figures
from connector.rubric import Dimension, Rubric

__all__ = [
    "SCHEMA",
    "FirstJudgments",
    "ItemAgreement",
    "ReportOptions",
    "build_report",
    "first_judgments",
    "iso_weeks",
    "item_agreements",
    "jsonable",
]

SCHEMA = "iaa-connector/report@1"
IntArray: TypeAlias = npt.NDArray[np.intp]
FloatArray: TypeAlias = npt.NDArray[np.float64]
SLICE_COLUMNS = {
    "by_category": "category",
    "by_rubric_version": "rubric_version",
    "by_batch": "batch",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportOptions:
    """How the report is computed.

    Attributes:
        resamples: bootstrap resamples of items per interval (0 for none).
        seed: bootstrap seed; the same seed gives the same intervals.
        confidence: interval coverage.
        interval_method: ``"bca"`` (bias-corrected and accelerated, the default) or
            ``"percentile"``; written to ``options.ci_method``.
        min_shared_items: annotator pairs sharing fewer items are left out of ``annotator_pairs``.
        top_confusions: how many disagreeing value pairs to list per dimension.
    """

    resamples: int = 1000
    seed: int = 0
    confidence: float = 0.95
    interval_method: IntervalMethod = DEFAULT_INTERVAL_METHOD
    min_shared_items: int = 5
    top_confusions: int = 5


def _num(value: float | np.floating[Any] | None) -> float | None:
    if value is None:
        return None
    as_float = float(value)
    return as_float if math.isfinite(as_float) else None


def _nums(values: FloatArray) -> list[float | None]:
    """:func:`_num` of each value, in bulk."""
    listed: list[float | None] = np.asarray(values, dtype=np.float64).tolist()
    for i in np.flatnonzero(~np.isfinite(values)).tolist():
        listed[i] = None
    return listed


def _pair(low: float, high: float) -> list[float | None] | None:
    return [_num(low), _num(high)] if math.isfinite(low) and math.isfinite(high) else None


def _estimate(estimate: Estimate, note: str | None, *, method: IntervalMethod) -> dict[str, Any]:
    """``{"value", "ci95"}``, and ``no_interval`` (why) when too few items for an interval;
    ``ci_method`` when the interval is not of the report's ``method`` (BCa undefined for it)."""
    lo, hi = estimate.ci95
    interval = [_num(lo), _num(hi)] if math.isfinite(lo) and math.isfinite(hi) else None
    entry: dict[str, Any] = {"value": _num(estimate.value), "ci95": interval}
    if note is not None and interval is None and entry["value"] is not None:
        entry["no_interval"] = note
    if interval is not None and estimate.ci_method != method:
        entry["ci_method"] = estimate.ci_method
    return entry


def _label(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True, slots=True)
class _Coded:
    """One dimension's primary judgments (one per item × annotator) and its re-test pairs."""

    judgments: CodedJudgments
    rows: IntArray  # positions in the input frame of the primary judgments
    retest_first: IntArray
    retest_second: IntArray
    retest_annotator: IntArray
    extra_repeats: int


def _code_dimension(
    frame: pd.DataFrame,
    rows: IntArray,
    dimension: Dimension,
    item: IntArray,
    annotator: IntArray,
    n_items: int,
    n_annotators: int,
    places: RowPlaces | None = None,
    origin: IntArray | None = None,
) -> _Coded:
    """Code one dimension's judgments; ``places`` and ``origin`` (each frame row's position in
    the table as read) name the file and line of a value outside the dimension's values."""
    categories = list(dimension.values)
    values = frame["value"].to_numpy(dtype=object)[rows]
    known = pd.Series(values, dtype=object).isin(categories).to_numpy() | pd.isna(values)
    if not known.all():
        bad = np.flatnonzero(~known)
        first = int(rows[bad[0]])
        read_at = int(origin[first]) if origin is not None else first
        where = (places or RowPlaces()).name(read_at)
        raise JudgmentTableError(
            f"{where} (item {frame['item_id'].iat[first]!r}, annotator "
            f"{frame['annotator'].iat[first]!r}): dimension {dimension.name!r} has value "
            f"{values[bad[0]]!r}, which is not one of {categories} ({len(bad)} such "
            f"judgment(s)){_outside_hint(values[bad[0]], categories)}"
        )
    codes, _ = code_values(values, categories)
    gold_raw = frame["gold_value"].to_numpy(dtype=object)[rows]
    gold_present = ~pd.isna(gold_raw)
    gold = np.full(len(rows), -1, dtype=np.intp)
    if gold_present.any():
        try:
            gold[gold_present], _ = code_values(gold_raw[gold_present], categories)
        except ValueError as exc:
            raise JudgmentTableError(
                f"dimension {dimension.name!r}: a gold_value is not one of {categories}: {exc}"
            ) from exc
    present = codes >= 0
    rows, codes, gold = rows[present], codes[present], gold[present]
    it, an = item[rows], annotator[rows]
    submitted = frame["submitted_at"]
    pair_key = it.astype(np.int64) * n_annotators + an
    # Sorted by item and annotator, then submitted_at (NaT first), then row: the order of
    # np.lexsort((rows, when, an, it)). A stable sort by (item, annotator) keeps rows ascending
    # (rows ascend); only the judgments repeating an (item, annotator) are then sorted by time.
    order = np.argsort(pair_key, kind="stable")
    key = pair_key[order]
    repeated = np.zeros(len(order), dtype=bool)
    repeated[1:] = key[1:] == key[:-1]
    repeated[:-1] |= repeated[1:]
    if repeated.any() and submitted.notna().any():
        when = np.asarray(pd.DatetimeIndex(submitted).asi8)[rows]  # NaT sorts first
        sub = order[repeated]
        order[repeated] = sub[np.lexsort((sub, when[sub], pair_key[sub]))]
    first_of_key = np.ones(len(order), dtype=bool)
    first_of_key[1:] = key[1:] != key[:-1]
    rank = np.arange(len(order)) - np.maximum.accumulate(
        np.where(first_of_key, np.arange(len(order)), 0)
    )
    primary = order[rank == 0]
    second = order[rank == 1]
    first_of_second = order[np.flatnonzero(rank == 1) - 1]
    return _Coded(
        judgments=CodedJudgments(
            item=it[primary],
            annotator=an[primary],
            value=codes[primary],
            gold=gold[primary],
            n_items=n_items,
            n_annotators=n_annotators,
            q=len(categories),
        ),
        rows=rows[primary],
        retest_first=codes[first_of_second],
        retest_second=codes[second],
        retest_annotator=an[second],
        extra_repeats=int((rank >= 2).sum()),
    )


def _outside_hint(value: object, categories: Sequence[object]) -> str:
    """Why a value may be outside the categories when it nearly matches one."""
    if isinstance(value, str):
        for category in categories:
            if not isinstance(category, str) and value.strip() == str(category):
                return (
                    f"; the value is the string {value!r} but the dimension's values are "
                    f"numbers ({category!r}): write the numbers unquoted in the table, or quote "
                    "the rubric's values"
                )
    if not isinstance(value, str):
        for category in categories:
            if isinstance(category, str) and category.strip() == str(value):
                return (
                    f"; the value is the number {value!r} but the dimension's values are "
                    f"strings ({category!r}): list them as numbers in the rubric"
                )
    matches = [c for c in categories if label_key(c) == label_key(value)]
    if matches:
        return (
            f"; it differs from {matches[0]!r} only in case or surrounding spaces: pass "
            "--normalise-labels to read it as that label"
        )
    return ""


class _DimensionReport:
    """Everything the report says about one dimension, computed from its coded judgments."""

    def __init__(
        self,
        frame: pd.DataFrame,
        coded: _Coded,
        dimension: Dimension,
        rubric: Rubric,
        annotators: Sequence[str],
        options: ReportOptions,
    ) -> None:
        self.frame = frame
        self.coded = coded
        self.dimension = dimension
        self.rubric = rubric
        self.annotators = annotators
        self.options = options
        self.categories = list(dimension.values)
        self.level_weights = weights_for_level(dimension.level)
        self.w = agreement_weights(
            self.level_weights.name, self.categories, distances=self.level_weights.distances
        )
        self.j = coded.judgments
        self.counts = self.j.counts()
        self.non_decisive = np.array([v in dimension.non_decisive for v in self.categories])
        # Display sides of the decisive judgments with a known one (set by _side_choice), and the
        # annotators who saw response a always on the same side (set by dimension_section).
        self.left_is_a: npt.NDArray[np.bool_] = np.zeros(0, dtype=np.bool_)
        self.constant_side: npt.NDArray[np.bool_] = np.zeros(self.j.n_annotators, dtype=np.bool_)

    def _summary(
        self, counts: FloatArray, categories: Sequence[Any], w: FloatArray
    ) -> AgreementSummary:
        return summarise_agreement(
            counts,
            categories=categories,
            level=self.dimension.level,
            weights=w,
            resamples=self.options.resamples,
            seed=self.options.seed,
            confidence=self.options.confidence,
            interval_method=self.options.interval_method,
        )

    def _estimate(self, estimate: Estimate, note: str | None) -> dict[str, Any]:
        return _estimate(estimate, note, method=self.options.interval_method)

    def _side_choice(self) -> tuple[IntArray, BoolPair | None, BoolPair | None]:
        """Which primary judgments chose the left / the longer response (decisive only: the
        values naming response_a or response_b, :meth:`Dimension.response_of`)."""
        j, cats = self.j, self.categories
        sides = [self.dimension.response_of(c) for c in cats]
        if "a" not in sides or "b" not in sides:
            return np.zeros(0, dtype=np.intp), None, None
        side = np.array([{"a": 1, "b": 2}.get(s or "", 0) for s in sides], dtype=np.int8)[j.value]
        decisive = side > 0
        chose_a = side == 1
        rows = self.coded.rows
        left = self.frame["display_left"].to_numpy(dtype=object)[rows]
        has_left = decisive & ~pd.isna(left)
        position: BoolPair | None = None
        if has_left.any():
            left_is_a = np.asarray(left[has_left] == "a", dtype=np.bool_)
            self.left_is_a = left_is_a
            position = (np.flatnonzero(has_left), chose_a[has_left] == left_is_a)
        length_a = self.frame["length_a"].to_numpy(dtype=np.float64)[rows]
        length_b = self.frame["length_b"].to_numpy(dtype=np.float64)[rows]
        has_length = (
            decisive & np.isfinite(length_a) & np.isfinite(length_b) & (length_a != length_b)
        )
        length: BoolPair | None = None
        if has_length.any():
            a_longer = length_a[has_length] > length_b[has_length]
            length = (np.flatnonzero(has_length), chose_a[has_length] == a_longer)
        return rows, position, length

    def _slices(self) -> dict[str, list[dict[str, Any]]]:
        result: dict[str, list[dict[str, Any]]] = {}
        columns = dict(SLICE_COLUMNS)
        for name, column in columns.items():
            result[name] = self._slice_by(
                self.frame[column].to_numpy(dtype=object)[self.coded.rows]
            )
        submitted = self.frame["submitted_at"]
        if submitted.notna().any():
            result["by_window"] = self._slice_by(
                iso_weeks(pd.DatetimeIndex(submitted)[self.coded.rows])
            )
        else:
            result["by_window"] = []
        return result

    def _slice_by(self, keys: npt.NDArray[Any]) -> list[dict[str, Any]]:
        present = ~pd.isna(keys)
        if not present.any():
            return []
        codes, uniques = pd.factorize(pd.Series(keys[present], dtype=object), sort=True)
        item, value = self.j.item[present], self.j.value[present]
        # Each slice's judgments, contiguous; its items numbered 0.. within the slice (items
        # without a judgment in it do not count in any coefficient).
        order = np.argsort(codes, kind="stable")
        bounds = np.concatenate(([0], np.cumsum(np.bincount(codes, minlength=len(uniques)))))
        slices = []
        for k, key in enumerate(uniques):
            chosen = order[bounds[k] : bounds[k + 1]]
            items, local = np.unique(item[chosen], return_inverse=True)
            counts = value_counts(local, value[chosen], n_units=len(items), q=self.j.q)
            summary = self._summary(counts, self.categories, self.w)
            slices.append(
                {
                    "key": str(key),
                    "n_items": summary.n_items,
                    "n_pairable_items": summary.n_pairable_items,
                    "n_judgments": summary.n_judgments,
                    "krippendorff_alpha": self._estimate(
                        summary.krippendorff_alpha, summary.interval_note
                    ),
                    "percent_agreement": {
                        "value": _num(summary.percent_agreement),
                        "n_pairs": summary.n_pairs,
                    },
                }
            )
        return slices

    def _bias(self, bias: ChoiceBias | None, key: str) -> dict[str, Any] | None:
        if bias is None:
            return None
        return {"n": bias.n, key: _num(bias.share), "p_value": _num(bias.p_value)}

    def dimension_section(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The ``dimensions.<name>`` section and the per-annotator figures for this dimension."""
        dim, j = self.dimension, self.j
        summary = self._summary(self.counts, self.categories, self.w)
        section: dict[str, Any] = {
            "kind": dim.kind,
            "level": dim.level,
            "categories": [_label(c) for c in self.categories],
            "non_decisive": [_label(c) for c in dim.non_decisive],
            "weights": self.level_weights.name,
            "weight_distances": self.level_weights.distances,
            "target_alpha": self.rubric.target_alpha_for(dim.name),
            "gating": dim.gating,
            "gating_reason": dim.gating_reason,
            "n_items": summary.n_items,
            "n_pairable_items": summary.n_pairable_items,
            "n_judgments": summary.n_judgments,
            "n_annotators": int(np.unique(j.annotator).size),
            "n_retests": len(self.coded.retest_first),
            "n_extra_repeats": self.coded.extra_repeats,
            "krippendorff_alpha": self._estimate(summary.krippendorff_alpha, summary.interval_note),
            "fleiss_kappa": self._estimate(summary.fleiss_kappa, summary.interval_note),
            "gwet_ac1": self._estimate(summary.gwet_ac1, summary.interval_note),
            "percent_agreement": {
                "value": _num(summary.percent_agreement),
                "n_pairs": summary.n_pairs,
            },
        }
        if dim.non_decisive:
            decisive = np.flatnonzero(~self.non_decisive)
            categories = [self.categories[i] for i in decisive]
            sub = self._summary(
                self.counts[:, decisive], categories, self.w[np.ix_(decisive, decisive)]
            )
            section["percent_agreement_decisive"] = {
                "value": _num(sub.percent_agreement),
                "n_pairs": sub.n_pairs,
            }
            section["krippendorff_alpha_decisive"] = self._estimate(
                sub.krippendorff_alpha, sub.interval_note
            )
        matrix = pair_confusion(self.counts)
        section["confusion"] = {
            "categories": section["categories"],
            "matrix": matrix.tolist(),
            "top_pairs": [
                {
                    "a": _label(p.first),
                    "b": _label(p.second),
                    "count": p.count,
                    "share": _num(p.share),
                }
                for p in confusion_pairs(matrix, self.categories, top=self.options.top_confusions)
            ],
        }
        _, position, length = self._side_choice()
        position_bias = length_bias = None
        not_measurable: str | None = None
        if position is not None:
            position_bias = choice_bias(
                position[1],
                j.annotator[position[0]],
                n_annotators=j.n_annotators,
                against_pool=False,
            )
            not_measurable = unmeasurable_position(self.left_is_a)
            self.constant_side = constant_side(
                self.left_is_a, j.annotator[position[0]], n_annotators=j.n_annotators
            )
        if length is not None:
            length_bias = choice_bias(
                length[1], j.annotator[length[0]], n_annotators=j.n_annotators, against_pool=True
            )
        section["position_bias"] = _position_bias(
            self._bias(position_bias, "left_share"), not_measurable
        )
        section["length_bias"] = self._bias(length_bias, "longer_share")
        consistency: Consistency | None = None
        if len(self.coded.retest_first):
            consistency = retest_consistency(
                self.coded.retest_first,
                self.coded.retest_second,
                self.coded.retest_annotator,
                n_annotators=j.n_annotators,
                w=self.w,
                resamples=self.options.resamples,
                seed=self.options.seed,
                confidence=self.options.confidence,
                method=self.options.interval_method,
            )
            section["intra_annotator"] = {
                "n_pairs": consistency.n_pairs,
                "percent_agreement": _num(consistency.agreement),
                "cohen_kappa": _num(consistency.kappa),
                "ci95": _pair(*consistency.kappa_ci),
            }
        else:
            section["intra_annotator"] = None
        section.update(self._slices())
        per_annotator = self._annotator_figures(position_bias, length_bias, consistency)
        return section, per_annotator

    def item_category_labels(self) -> npt.NDArray[np.object_]:
        """The category of each item (its first judgment's), ``None`` for none."""
        category = self.frame["category"].to_numpy(dtype=object)[self.coded.rows]
        per_item = np.full(self.j.n_items, None, dtype=object)
        per_item[self.j.item[::-1]] = category[::-1]
        return per_item

    def _item_categories(self) -> IntArray:
        """A category code per item (its first judgment's category), ``-1`` for none."""
        category = self.frame["category"].to_numpy(dtype=object)[self.coded.rows]
        codes, _ = pd.factorize(pd.Series(category, dtype=object))
        per_item = np.full(self.j.n_items, -1, dtype=np.intp)
        per_item[self.j.item[::-1]] = codes[::-1]
        return per_item

    def _annotator_figures(
        self,
        position_bias: ChoiceBias | None,
        length_bias: ChoiceBias | None,
        consistency: Consistency | None,
    ) -> dict[str, Any]:
        j = self.j
        peers = peer_agreement(j, self.w)
        same_items = peer_comparison(j, self._item_categories())
        loo = leave_one_out(j, self.w)
        gold = gold_scores(j, self.w)
        n_judgments = np.bincount(j.annotator, minlength=j.n_annotators)
        nd_rates = non_decisive_rates(j, self.non_decisive) if self.dimension.non_decisive else None
        lead = self.frame["lead_time_s"].to_numpy(dtype=np.float64)[self.coded.rows]
        lead_median = (
            pd.Series(lead).groupby(j.annotator).median().reindex(range(j.n_annotators)).to_numpy()
        )
        figures: dict[str, Any] = {}
        for a in (int(x) for x in np.flatnonzero(n_judgments)):
            entry: dict[str, Any] = {"n_judgments": int(n_judgments[a])}
            entry["gold"] = (
                {
                    "n": int(gold.n[a]),
                    "accuracy": _num(gold.accuracy[a]),
                    "ci95": [_num(gold.ci_low[a]), _num(gold.ci_high[a])],
                    "cohen_kappa": _num(gold.kappa[a]),
                }
                if gold.n[a]
                else None
            )
            entry["peers"] = (
                {
                    "n_pairs": int(peers.n_pairs[a]),
                    "percent_agreement": _num(peers.agreement[a]),
                    "cohen_kappa": _num(peers.kappa[a]),
                    "same_items": (
                        {
                            "n_items": int(same_items.n_items[a]),
                            "n_pairs": int(same_items.n_pairs[a]),
                            "agreement": _num(same_items.agreement[a]),
                            "others_agreement": _num(same_items.reference[a]),
                            "difference": _num(same_items.difference[a]),
                            "ci95": _pair(same_items.ci_low[a], same_items.ci_high[a]),
                        }
                        if same_items.n_pairs[a]
                        else None
                    ),
                }
                if peers.n_pairs[a]
                else None
            )
            entry["leave_one_out"] = (
                {
                    "n_items": int(loo.n_items[a]),
                    "agreement": _num(loo.agreement[a]),
                    "cohen_kappa": _num(loo.kappa[a]),
                }
                if loo.n_items[a]
                else None
            )
            entry["non_decisive_rate"] = _num(nd_rates[a]) if nd_rates is not None else None
            entry["median_lead_time_s"] = _num(lead_median[a])
            entry["position_bias"] = _position_bias(
                _annotator_bias(position_bias, a, "left_share", pool=False),
                (
                    "this annotator saw response a on the same side in every judgment with a "
                    "known display side: position bias needs randomised display sides"
                )
                if self.constant_side[a]
                else None,
            )
            entry["length_bias"] = _annotator_bias(length_bias, a, "longer_share", pool=True)
            entry["intra"] = (
                {
                    "n_pairs": int(consistency.annotator_n_pairs[a]),
                    "percent_agreement": _num(consistency.annotator_agreement[a]),
                    "cohen_kappa": _num(consistency.annotator_kappa[a]),
                    "ci95": _pair(*consistency.annotator_kappa_ci[a]),
                }
                if consistency is not None and consistency.annotator_n_pairs[a]
                else None
            )
            figures[self.annotators[a]] = entry
        keep = peers.shared_items >= self.options.min_shared_items
        names = np.asarray(self.annotators, dtype=object)
        pairs = [
            {"a": x, "b": y, "shared_items": s, "percent_agreement": pa, "cohen_kappa": k}
            for x, y, s, pa, k in zip(
                names[peers.first[keep]].tolist(),
                names[peers.second[keep]].tolist(),
                peers.shared_items[keep].tolist(),
                _nums(peers.pair_agreement[keep]),
                _nums(peers.pair_kappa[keep]),
                strict=True,
            )
        ]
        return {"annotators": figures, "pairs": pairs}


BoolPair: TypeAlias = tuple[IntArray, npt.NDArray[np.bool_]]
_NAT = np.iinfo(np.int64).min


def iso_weeks(stamps: pd.DatetimeIndex) -> npt.NDArray[np.object_]:
    """The ISO 8601 week (``"2024-W09"``) of each timestamp in its own time zone (``None`` for
    NaT), as ``Series.dt.isocalendar()`` gives it, computed on integers."""
    wall = stamps.tz_localize(None) if stamps.tz is not None else stamps
    when = np.asarray(wall.as_unit("ns").asi8)
    missing = when == _NAT
    days = np.floor_divide(np.where(missing, 0, when), 86_400 * 10**9)
    thursday = days - (days + 3) % 7 + 3  # 1970-01-01 was a Thursday; ISO weeks start Monday
    year_start = thursday.astype("datetime64[D]").astype("datetime64[Y]").astype("datetime64[D]")
    year = year_start.astype("datetime64[Y]").astype(np.int64) + 1970
    week = (thursday - year_start.astype(np.int64)) // 7 + 1
    combined, inverse = np.unique(year * 100 + week, return_inverse=True)
    labels = np.array([f"{c // 100}-W{c % 100:02d}" for c in combined.tolist()], dtype=object)
    weeks = labels[inverse.reshape(-1)]
    weeks[missing] = None
    return weeks


def _position_bias(entry: dict[str, Any] | None, not_measurable: str | None) -> Any:
    """A position-bias entry with ``measurable``; when the display sides were not randomised,
    no share or p-value, and ``reason`` instead."""
    if entry is None:
        return None
    if not_measurable is None:
        return {**entry, "measurable": True}
    return {
        "n": entry["n"],
        "left_share": None,
        "p_value": None,
        "measurable": False,
        "reason": not_measurable,
    }


def _annotator_bias(
    bias: ChoiceBias | None, a: int, key: str, *, pool: bool
) -> dict[str, Any] | None:
    if bias is None or not bias.annotator_n[a]:
        return None
    entry: dict[str, Any] = {
        "n": int(bias.annotator_n[a]),
        key: _num(bias.annotator_share[a]),
        "p_value": _num(bias.annotator_p_value[a]),
    }
    if pool:
        entry["pool_share"] = _num(bias.reference)
    return entry


def build_report(
    frame: pd.DataFrame,
    rubric: Rubric,
    *,
    source: Mapping[str, Any] | None = None,
    options: ReportOptions | None = None,
    generated_at: datetime | None = None,
    checked: CheckedInput | None = None,
    warnings: Sequence[str] = (),
    retest_copies: Collection[tuple[str, str]] | None = None,
    groups: Mapping[str, Collection[str]] | None = None,
) -> dict[str, Any]:
    """Compute the agreement report of a canonical judgments table under a rubric.

    Args:
        frame: canonical judgments (see :mod:`connector.judgments`), every column present.
        rubric: names each dimension's categories, level and non-decisive values.
        source: what to record under ``source`` (path, format, rows).
        checked: ``frame`` as :func:`connector.report.checks.check_input` left it (exact
            duplicates dropped, labels normalised if asked); without it the checks run here.
        warnings: what the caller noticed (e.g. how a rubric was inferred); listed under
            ``warnings`` after those of the input checks.
        retest_copies: the ``(batch, item_id)`` of every re-test copy the connector pushed
            (the store knows them); with them, ``retest_copies`` says how many copies reached
            the annotator who judged the original (:mod:`connector.report.retests`); without
            them (a judgments file) it is ``None``.
        groups: annotator groups (e.g. ``expert``, ``crowd``, checked by
            :func:`connector.report.tiers.check_groups`); with them, ``tiers`` and each
            annotator's ``group``, ``expert_consensus`` and ``by_category`` figures
            (:mod:`connector.report.tiers`); without them ``tiers`` is ``None``.

    Raises:
        JudgmentTableError: a dimension not in the rubric, or a value outside its dimension's
            values (the message names the file and line or row, item, annotator and value).
    """
    options = options or ReportOptions()
    checked = checked if checked is not None else check_input(frame, rubric)
    origin = checked.frame.index.to_numpy().astype(np.intp)
    frame = checked.frame.reset_index(drop=True)
    _check_dimensions(frame, rubric)
    # Rankings are scored through their derived dimensions (connector.judgments.rankings).
    view = scoring_view(frame, rubric, where=lambda row: checked.places.name(int(origin[row])))
    frame, scored, origin = view.frame, view.rubric, origin[view.source_rows]
    item, item_ids = pd.factorize(frame["item_id"])
    annotator, annotator_names = pd.factorize(frame["annotator"])
    dimension_of_row, dimension_names = pd.factorize(frame["dimension"])
    names = [str(a) for a in annotator_names]
    item = item.astype(np.intp)
    annotator = annotator.astype(np.intp)
    dimensions: dict[str, Any] = {}
    pairs: dict[str, Any] = {}
    per_annotator: dict[str, dict[str, Any]] = {name: {} for name in names}
    tier_dimensions: dict[str, Any] = {}
    group_of = {m: g for g, members in (groups or {}).items() for m in members}
    for dimension in scored.dimensions:
        if dimension.name not in dimension_names:
            continue
        index = int(np.flatnonzero(np.asarray(dimension_names) == dimension.name)[0])
        rows = np.flatnonzero(dimension_of_row == index).astype(np.intp)
        coded = _code_dimension(
            frame,
            rows,
            dimension,
            item,
            annotator,
            len(item_ids),
            len(names),
            places=checked.places,
            origin=origin,
        )
        dimension_report = _DimensionReport(frame, coded, dimension, scored, names, options)
        section, figures = dimension_report.dimension_section()
        if groups is not None:
            tier_dimensions[dimension.name], tiers = tier_figures(
                dimension_report.j,
                dimension_report.w,
                names,
                dimension_report.item_category_labels(),
                groups,
            )
            for name, entry in tiers.items():
                figures["annotators"].get(name, {}).update(entry)
        dimensions[dimension.name] = section
        pairs[dimension.name] = figures["pairs"]
        for name, entry in figures["annotators"].items():
            per_annotator[name][dimension.name] = entry
    judgments_per_annotator = np.bincount(annotator, minlength=len(names))
    items_per_annotator = (
        pd.Series(item).groupby(annotator).nunique().reindex(range(len(names))).to_numpy()
    )
    statuses = _statuses(frame, scored)
    reach = retest_reach(frame, retest_copies) if retest_copies is not None else None
    annotators = [
        {
            "annotator": name,
            "n_judgments": int(judgments_per_annotator[a]),
            "n_items": int(items_per_annotator[a]),
            **statuses.get(name, {}),
            **({} if reach is None else {"retest_copies": _annotator_reach(reach, name)}),
            **({} if groups is None else {"group": group_of.get(name)}),
            "dimensions": per_annotator[name],
        }
        for a, name in sorted(enumerate(names), key=lambda pair: pair[1])
    ]
    when = generated_at or datetime.now(UTC)
    report = {
        "schema": SCHEMA,
        "generated_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source": dict(source or {"path": None, "format": "canonical", "rows": len(frame)}),
        "rubric": {"id": rubric.id, "version": rubric.version, "content_hash": rubric.content_hash},
        "options": {
            "bootstrap_resamples": options.resamples,
            "seed": options.seed,
            "confidence": options.confidence,
            "ci_method": options.interval_method,
            "min_shared_items": options.min_shared_items,
        },
        "summary": {
            "n_items": len(item_ids),
            "n_judgments": len(frame),
            "n_annotators": len(names),
            "n_dimensions": len(dimensions),
            "n_exact_duplicates_dropped": checked.exact_duplicates,
            "n_normalised_labels": checked.normalised_labels,
        },
        "warnings": [*checked.warnings, *warnings],
        "thresholds": {
            "qualify_gold_accuracy": rubric.thresholds.qualify_gold_accuracy,
            "retrain_gold_accuracy": rubric.thresholds.retrain_gold_accuracy,
            "min_gold_judgments": rubric.thresholds.min_gold_judgments,
        },
        "dimensions": dimensions,
        "rankings": {name: _ranking_section(summary) for name, summary in view.rankings.items()},
        "retest_copies": None
        if reach is None
        else {
            "n_copies": len(set(retest_copies or ())),
            "n_judged": reach.n_judged,
            "n_same_annotator": reach.n_same_annotator,
            "share_same_annotator": _num(reach.share_same_annotator),
        },
        "tiers": None
        if groups is None
        else {
            "reference_group": REFERENCE_GROUP,
            "groups": {g: list(members) for g, members in groups.items()},
            "members_without_judgments": sorted(set(group_of) - set(names)),
            "dimensions": tier_dimensions,
        },
        "annotators": annotators,
        "annotator_pairs": pairs,
    }
    return _without_unknown_annotators(report, frame)


def _ranking_section(summary: Mapping[str, Any]) -> dict[str, Any]:
    """``rankings.<name>``: the options, the derived dimensions scored in ``dimensions``, and
    Kendall's W over the items' complete rankings."""
    w: Concordance = summary["concordance"]
    return {
        "options": [_label(v) for v in summary["options"]],
        "rank_dimensions": summary["rank_dimensions"],
        "pairs_dimension": summary["pairs_dimension"],
        "kendall_w": {
            "n_items": w.n_items,
            "mean": _num(w.mean),
            "median": _num(w.median),
            "n_rankings": w.n_rankings,
            "n_incomplete": w.n_incomplete,
            "n_undefined": w.n_undefined,
        },
    }


def _annotator_reach(reach: RetestReach, name: str) -> dict[str, int] | None:
    """One annotator's judged re-test copies and how many were re-tests of their own."""
    judged = reach.annotator_judged.get(name, 0)
    if not judged:
        return None
    return {"n_judged": judged, "n_same_annotator": reach.annotator_same.get(name, 0)}


def _check_dimensions(frame: pd.DataFrame, rubric: Rubric) -> None:
    unknown = sorted(set(frame["dimension"].unique()) - {d.name for d in rubric.dimensions})
    if unknown:
        versions = sorted({str(v) for v in frame["rubric_version"].dropna().unique()})
        hint = (
            f"; the rubric_version column names {len(versions)} versions "
            f"({', '.join(versions)}): score each under its own rubric (report "
            "--version-rubric FILE per other version)"
            if len(versions) > 1
            else ""
        )
        raise JudgmentTableError(
            f"dimension(s) {unknown} are not in rubric {rubric.id!r} version {rubric.version!r}, "
            f"whose dimensions are {[d.name for d in rubric.dimensions]}{hint}"
        )


def _without_unknown_annotators(report: dict[str, Any], frame: pd.DataFrame) -> dict[str, Any]:
    """The report without per-annotator figures for annotators the export did not name
    (:func:`connector.judgments.is_unknown_annotator`, e.g. Scale AI exports): their judgments
    count in every coefficient, but they are not people to score, pair or count."""
    unnamed = [a for a in frame["annotator"].unique() if is_unknown_annotator(a)]
    if not unnamed:
        return report
    known = frame.loc[~frame["annotator"].isin(unnamed)]
    report["annotators"] = [
        entry for entry in report["annotators"] if not is_unknown_annotator(entry["annotator"])
    ]
    report["annotator_pairs"] = {
        dimension: [
            pair
            for pair in pairs
            if not (is_unknown_annotator(pair["a"]) or is_unknown_annotator(pair["b"]))
        ]
        for dimension, pairs in report["annotator_pairs"].items()
    }
    report["summary"]["n_annotators"] = int(known["annotator"].nunique())
    per_dimension = known.groupby("dimension")["annotator"].nunique()
    for name, section in report["dimensions"].items():
        section["n_annotators"] = int(per_dimension.get(name, 0))
    return report


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemAgreement:
    """One item's agreement on one dimension (None below two judgments) and its judgments."""

    agreement: float | None
    n_judgments: int


def item_agreements(frame: pd.DataFrame, rubric: Rubric) -> dict[str, dict[str, ItemAgreement]]:
    """Per dimension and item: :func:`connector.metrics.item_agreement` over the same first
    judgments and with the same weights (:func:`~connector.metrics.weights.weights_for_level`)
    as the dimension's coefficients
    in :func:`build_report`. Items with no judgment on a dimension are absent from it."""
    if frame.empty:
        return {}
    found: dict[str, dict[str, ItemAgreement]] = {}
    item_ids, _, coded_dimensions = _coded_dimensions(frame, rubric)
    for dimension, coded in coded_dimensions:
        counts = coded.judgments.counts()
        level_weights = weights_for_level(dimension.level)
        w = agreement_weights(
            level_weights.name, list(dimension.values), distances=level_weights.distances
        )
        values = item_agreement(counts, w)
        judged = counts.sum(axis=1)
        # plain lists: indexing a pandas Index (or numpy array) per item is 10x slower
        ids, agreements, n_judged = item_ids.tolist(), values.tolist(), judged.tolist()
        found[dimension.name] = {
            str(ids[i]): ItemAgreement(
                agreement=round(agreements[i], 4) if math.isfinite(agreements[i]) else None,
                n_judgments=int(n_judged[i]),
            )
            for i in np.flatnonzero(judged > 0).tolist()
        }
    return found


def _statuses(frame: pd.DataFrame, rubric: Rubric) -> dict[str, dict[str, Any]]:
    """Each annotator's status as the lifecycle decides it from this table alone (the sync
    replaces it by the stored status): the one rule for who is flagged on gold, with the
    dimensions that decided it (``status_dimensions``)."""
    if "gold_value" not in frame.columns or frame["gold_value"].isna().all():
        return {}
    return {
        t.annotator: {
            "status": t.status,
            "status_reason": t.reason,
            "status_dimensions": list(t.dimensions),
        }
        for t in first_decisions(frame, rubric)
    }


def jsonable(value: Any) -> Any:
    """Replace non-finite floats by ``None`` and numpy scalars by Python ones, recursively."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class FirstJudgments:
    """Each dimension's first judgments (one per item and annotator, re-tests left out), coded
    with the rubric exactly as :func:`build_report` codes them.

    Attributes:
        item_ids: item id of each item code.
        annotators: annotator of each annotator code.
        dimensions: per dimension present in the table (rubric order), its coded judgments;
            value codes index the dimension's ``values``.
    """

    item_ids: npt.NDArray[Any]
    annotators: tuple[str, ...]
    dimensions: dict[str, CodedJudgments]


def _coded_dimensions(
    frame: pd.DataFrame, rubric: Rubric
) -> tuple[pd.Index[Any], pd.Index[Any], list[tuple[Dimension, _Coded]]]:
    """The item ids, the annotators and each rubric dimension present in ``frame`` coded as
    :func:`build_report` codes it (rubric order; dimensions not in the rubric are left out)."""
    if any(d.kind == "ranking" for d in rubric.dimensions):
        view = scoring_view(frame.reset_index(drop=True), rubric)
        frame, rubric = view.frame, view.rubric
    item, item_ids = pd.factorize(frame["item_id"])
    annotator, annotator_names = pd.factorize(frame["annotator"])
    dimension_of_row, dimension_names = pd.factorize(frame["dimension"])
    coded: list[tuple[Dimension, _Coded]] = []
    for dimension in rubric.dimensions:
        if dimension.name not in dimension_names:
            continue
        index = int(np.flatnonzero(np.asarray(dimension_names) == dimension.name)[0])
        rows = np.flatnonzero(dimension_of_row == index).astype(np.intp)
        found = _code_dimension(
            frame,
            rows,
            dimension,
            item.astype(np.intp),
            annotator.astype(np.intp),
            len(item_ids),
            len(annotator_names),
        )
        coded.append((dimension, found))
    return item_ids, annotator_names, coded


def first_judgments(frame: pd.DataFrame, rubric: Rubric) -> FirstJudgments:
    """The judgments every per-item figure starts from (the report's coding rule, one owner).

    Raises:
        JudgmentTableError: a dimension not in the rubric, or a value outside its dimension's
            values (the message names the row, item, annotator and value).
    """
    _check_dimensions(frame, rubric)
    item_ids, annotator_names, coded_dimensions = _coded_dimensions(frame, rubric)
    coded = {dimension.name: found.judgments for dimension, found in coded_dimensions}
    return FirstJudgments(
        item_ids=np.asarray(item_ids, dtype=object),
        annotators=tuple(str(a) for a in annotator_names),
        dimensions=coded,
    )
