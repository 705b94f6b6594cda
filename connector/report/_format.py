"""Cells, tables and sentences shared by every renderer of the JSON report, as plain text.

So that a number reads the same in HTML, Markdown and on the console: coefficients with 3
decimals, percentages with 1 decimal, counts with thousands separators and ``—`` for null or NaN.
The tables (:class:`TextTable`) and sentences (:func:`dimension_facts`, :func:`bias_notes`) are
built from those cells. Everything here is *unescaped*; each renderer escapes for its own format.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BREAKDOWNS",
    "DASH",
    "RANKING_NOTE",
    "TextTable",
    "annotator_table",
    "annotators_of",
    "below_target",
    "bias_notes",
    "breakdown_table",
    "category_label",
    "coefficient_names",
    "dimension_facts",
    "dimensions_of",
    "fmt_coef",
    "fmt_coef_ci",
    "fmt_count",
    "fmt_interval",
    "fmt_p",
    "fmt_percent",
    "fmt_percent_ci",
    "fmt_seconds",
    "headline_table",
    "interval_kind",
    "kappa_name",
    "lookup",
    "number",
    "peer_difference_text",
    "plural",
    "ranking_table",
    "significance_level",
    "sorted_by_alpha",
    "target_flag",
    "target_verdict",
    "weights_text",
]

DASH = "—"
"""What a null (not computable) or NaN value renders as."""


def number(value: object) -> float | None:
    """``value`` as a float, or None when it is null, NaN or not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    result = float(value)
    return None if math.isnan(result) else result


def fmt_coef(value: object) -> str:
    """A coefficient (alpha, kappa, AC1) with 3 decimals: ``0.512``."""
    x = number(value)
    return DASH if x is None else f"{x:.3f}"


def fmt_percent(value: object) -> str:
    """A proportion in [0, 1] as a percentage with 1 decimal: ``63.0%``."""
    x = number(value)
    return DASH if x is None else f"{100 * x:.1f}%"


def fmt_count(value: object) -> str:
    """A count with thousands separators (``1,689``); fractional counts keep 1 decimal."""
    x = number(value)
    if x is None:
        return DASH
    return f"{x:,.0f}" if x.is_integer() else f"{x:,.1f}"


def plural(count: object, noun: str) -> str:
    """``"1 pair"``, ``"24 pairs"``, ``"1,689 judgments"`` (``noun`` is the singular)."""
    return f"{fmt_count(count)} {noun if number(count) == 1 else noun + 's'}"


def fmt_p(value: object) -> str:
    """A p-value with 3 decimals, ``<0.001`` below that."""
    x = number(value)
    if x is None:
        return DASH
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def fmt_seconds(value: object) -> str:
    """A duration in seconds: ``31.5 s``."""
    x = number(value)
    return DASH if x is None else f"{x:,.1f} s"


def fmt_interval(ci: object, *, percent: bool = False) -> str:
    """A ``[low, high]`` interval: ``[0.440, 0.580]``; ``—`` when missing or not finite."""
    if not isinstance(ci, Sequence) or isinstance(ci, str) or len(ci) != 2:
        return DASH
    low, high = number(ci[0]), number(ci[1])
    if low is None or high is None:
        return DASH
    fmt = fmt_percent if percent else fmt_coef
    return f"[{fmt(low)}, {fmt(high)}]"


def fmt_coef_ci(stat: object) -> str:
    """A ``{"value", "ci95"}`` statistic: ``0.512 [0.440, 0.580]``; the value alone without CI,
    ``1.000 (no interval)`` when there were too few items for one (``no_interval``)."""
    if not isinstance(stat, Mapping) or number(stat.get("value")) is None:
        return DASH
    interval = fmt_interval(stat.get("ci95"))
    value = fmt_coef(stat.get("value"))
    if interval == DASH:
        return f"{value} (no interval)" if stat.get("no_interval") else value
    return f"{value} {interval}"


def fmt_percent_ci(value: object, ci: object) -> str:
    """A proportion with its interval, in percent: ``88.0% [70.0%, 96.0%]``."""
    if number(value) is None:
        return DASH
    interval = fmt_interval(ci, percent=True)
    return fmt_percent(value) if interval == DASH else f"{fmt_percent(value)} {interval}"


def lookup(mapping: object, *keys: str) -> Any:
    """``mapping[k1][k2]...`` or None as soon as a level is missing or null."""
    current: Any = mapping
    for key in keys:
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current


def category_label(value: object) -> str:
    """A category as text; ``5.0`` prints as ``5``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def dimensions_of(report: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """``(name, figures)`` of every dimension, in report order."""
    dimensions = report.get("dimensions") or {}
    return [(str(name), dim) for name, dim in dimensions.items() if isinstance(dim, Mapping)]


def annotators_of(report: Mapping[str, Any], dimension: str) -> list[tuple[str, Mapping[str, Any]]]:
    """``(annotator, figures)`` for everyone who judged ``dimension``, most judgments first."""
    found = []
    for annotator in report.get("annotators") or ():
        figures = lookup(annotator, "dimensions", dimension)
        if isinstance(figures, Mapping):
            found.append((str(annotator.get("annotator")), figures))
    found.sort(key=lambda pair: (-(number(pair[1].get("n_judgments")) or 0.0), pair[0]))
    return found


# --------------------------------------------------------------------------- weights


def weights_text(dimension: Mapping[str, Any]) -> str | None:
    """The agreement weights of a dimension's kappas and AC as words (``"linear over ranks"``),
    or None when they are unweighted (identity, or the report does not say)."""
    name = dimension.get("weights")
    if not isinstance(name, str) or name == "identity":
        return None
    distances = dimension.get("weight_distances")
    return f"{name} over {distances}" if isinstance(distances, str) else name


def kappa_name(dimension: Mapping[str, Any]) -> str:
    """``"κ"``, or ``"weighted κ"`` when the dimension's kappas use weights (every kappa of the
    dimension uses the same weights: Fleiss', peers', gold's, re-tests')."""
    return "κ" if weights_text(dimension) is None else "weighted κ"


def coefficient_names(dimension: Mapping[str, Any]) -> tuple[str, str]:
    """What the dimension's ``fleiss_kappa`` and ``gwet_ac1`` figures are:
    ``("Fleiss' κ", "Gwet's AC1")`` unweighted, else e.g.
    ``("weighted κ (linear over ranks)", "Gwet's AC2 (linear over ranks)")``."""
    weights = weights_text(dimension)
    if weights is None:
        return "Fleiss' κ", "Gwet's AC1"
    return f"weighted κ ({weights})", f"Gwet's AC2 ({weights})"


# --------------------------------------------------------------------------- peers


def peer_difference_text(figures: Mapping[str, Any]) -> str:
    """``"55.0% vs 80.1% (−25.1 pp [−33.0, −17.2])"`` or ``—``: the annotator's agreement with
    peers against the others' on the same items, with the interval of the difference."""
    same = lookup(figures, "peers", "same_items")
    agreement = number(lookup(same, "agreement"))
    others = number(lookup(same, "others_agreement"))
    difference = number(lookup(same, "difference"))
    if agreement is None or others is None or difference is None:
        return DASH
    ci = lookup(same, "ci95")
    interval = ""
    if isinstance(ci, Sequence) and len(ci) == 2 and None not in ci:
        interval = f" [{_pp(ci[0])}, {_pp(ci[1])}]"
    return f"{fmt_percent(agreement)} vs {fmt_percent(others)} ({_pp(difference)} pp{interval})"


def _pp(value: object) -> str:
    x = number(value)
    return DASH if x is None else f"{100 * x:+.1f}".replace("-", "−")


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True, slots=True, kw_only=True)
class TextTable:
    """A table of plain, unescaped strings; ``numeric[i]`` says column ``i`` holds numbers."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]


HEADLINE_COLUMNS = (
    ("Dimension", False),
    ("Level", False),
    ("Weights", False),
    ("Items", True),
    ("Judgments", True),
    ("Annotators", True),
    ("α [95% CI]", True),
    ("Fleiss κ or weighted κ [95% CI]", True),
    ("AC1 or AC2 [95% CI]", True),
    ("% agreement", True),
    ("% agreement (decisive)", True),
    ("Flag", False),
)


INTERVAL_KINDS = {"bca": "BCa bootstrap", "percentile": "percentile bootstrap"}


def interval_kind(report: Mapping[str, Any]) -> str:
    """What the report's intervals are, from ``options.ci_method``: ``"BCa bootstrap"``,
    ``"percentile bootstrap"``, or ``"bootstrap"`` for a report written before the key
    existed (percentile intervals then)."""
    method = lookup(report, "options", "ci_method")
    return INTERVAL_KINDS.get(method, "bootstrap") if isinstance(method, str) else "bootstrap"


def target_verdict(stat: object, target: object) -> str | None:
    """How a ``{"value", "ci95"}`` alpha stands against ``target``: the one rule of what the
    report paints as below target.

    Returns:
        ``"below"`` when its 95% interval lies wholly below the target (or, when the report was
        computed without intervals, its value does); ``"uncertain"`` when the value is below
        but the interval reaches the target, or there were too few items for an interval
        (``no_interval``); ``"met"`` when the value reaches the target; None when the value or
        the target is missing.
    """
    value, goal = number(lookup(stat, "value")), number(target)
    if value is None or goal is None:
        return None
    if value >= goal:
        return "met"
    if lookup(stat, "no_interval"):
        return "uncertain"
    ci = lookup(stat, "ci95")
    high = number(ci[1]) if isinstance(ci, Sequence) and len(ci) == 2 else None
    return "uncertain" if high is not None and high >= goal else "below"


def below_target(dimension: Mapping[str, Any]) -> bool:
    """Whether Krippendorff's alpha is surely below the dimension's ``target_alpha``
    (:func:`target_verdict`)."""
    return target_verdict(dimension.get("krippendorff_alpha"), dimension.get("target_alpha")) == (
        "below"
    )


def target_flag(dimension: Mapping[str, Any]) -> str:
    """``"below target 0.800"``, ``"interval reaches target 0.800"`` (value below, interval not
    wholly), ``"α not computable"`` or empty."""
    target = fmt_coef(dimension.get("target_alpha"))
    verdict = target_verdict(dimension.get("krippendorff_alpha"), dimension.get("target_alpha"))
    if verdict == "below":
        return f"below target {target}"
    if verdict == "uncertain":
        return f"interval reaches target {target}"
    if number(lookup(dimension, "krippendorff_alpha", "value")) is None:
        return "α not computable"
    return ""


def headline_table(report: Mapping[str, Any]) -> TextTable:
    """One row per dimension: size, the three chance-corrected coefficients, raw agreement.

    The Weights column names the weights of the kappa and AC columns: ``none`` (Fleiss' κ, AC1)
    or e.g. ``linear over ranks`` (weighted κ, AC2)."""
    rows = tuple(
        (
            name,
            str(dim.get("level") or DASH),
            _weights_cell(dim),
            fmt_count(dim.get("n_items")),
            fmt_count(dim.get("n_judgments")),
            fmt_count(dim.get("n_annotators")),
            fmt_coef_ci(dim.get("krippendorff_alpha")),
            fmt_coef_ci(dim.get("fleiss_kappa")),
            fmt_coef_ci(dim.get("gwet_ac1")),
            fmt_percent(lookup(dim, "percent_agreement", "value")),
            fmt_percent(lookup(dim, "percent_agreement_decisive", "value")),
            target_flag(dim),
        )
        for name, dim in dimensions_of(report)
    )
    return TextTable(
        columns=tuple(c for c, _ in HEADLINE_COLUMNS),
        rows=rows,
        numeric=tuple(n for _, n in HEADLINE_COLUMNS),
    )


RANKING_NOTE = (
    "Kendall's W (corrected for ties) per item over its complete rankings, 1 = identical "
    "rankings; each option's rank is scored as an ordinal dimension <ranking>.<option>, the "
    "implied pairwise preferences as <ranking>_pairs."
)
"""What the rankings table shows (every renderer prints it under the table)."""


def ranking_table(report: Mapping[str, Any]) -> TextTable:
    """One row per ranking dimension (``rankings`` in the report): options, Kendall's W (mean
    and median over items), items and rankings read, incomplete rankings, and the derived
    dimensions. Empty when the report has no ranking."""
    rankings = report.get("rankings") or {}
    rows = tuple(
        (
            str(name),
            ", ".join(str(o) for o in entry.get("options") or ()),
            fmt_coef(lookup(entry, "kendall_w", "mean")),
            fmt_coef(lookup(entry, "kendall_w", "median")),
            fmt_count(lookup(entry, "kendall_w", "n_items")),
            fmt_count(lookup(entry, "kendall_w", "n_rankings")),
            fmt_count(lookup(entry, "kendall_w", "n_incomplete")),
            str(entry.get("pairs_dimension") or DASH),
        )
        for name, entry in rankings.items()
        if isinstance(entry, Mapping)
    )
    return TextTable(
        columns=(
            "Ranking",
            "Options",
            "Kendall's W (mean)",
            "W (median)",
            "Items with W",
            "Rankings",
            "Incomplete",
            "Pairs dimension",
        ),
        rows=rows,
        numeric=(False, False, True, True, True, True, True, False),
    )


def _weights_cell(dimension: Mapping[str, Any]) -> str:
    return weights_text(dimension) or "none"


def breakdown_table(entries: Sequence[Mapping[str, Any]], *, key_title: str) -> TextTable:
    """A ``by_category`` / ``by_batch`` / ... list as a table, in the order given."""
    rows = tuple(
        (
            category_label(entry.get("key")),
            fmt_count(entry.get("n_items")),
            fmt_count(entry.get("n_judgments")),
            fmt_coef_ci(entry.get("krippendorff_alpha")),
            fmt_percent(lookup(entry, "percent_agreement", "value")),
            fmt_count(lookup(entry, "percent_agreement", "n_pairs")),
        )
        for entry in entries
    )
    return TextTable(
        columns=(key_title, "Items", "Judgments", "α [95% CI]", "% agreement", "Pairs"),
        rows=rows,
        numeric=(False, True, True, True, True, True),
    )


ANNOTATOR_COLUMNS = (
    ("Annotator", False),
    ("Judgments", True),
    ("Gold accuracy [95% CI]", True),
    ("Peer agreement vs others on the same items", True),
    ("Peer κ", True),
    ("Leave-one-out agreement", True),
    ("Non-decisive rate", True),
    ("Median lead time", True),
    ("Position bias p", True),
    ("Length bias p", True),
    ("Intra-annotator κ", True),
)


def _peer_cell(figures: Mapping[str, Any]) -> str:
    """``55.4% vs 66.4% (−11.0 pp [−17.0, −5.0])``, or the agreement with peers alone when no
    reference on the same items exists."""
    if lookup(figures, "peers", "same_items") is not None:
        return peer_difference_text(figures)
    return fmt_percent(lookup(figures, "peers", "percent_agreement"))


def annotator_table(report: Mapping[str, Any], dimension: str) -> TextTable:
    """One row per annotator of ``dimension`` with gold, peer and bias figures, and the
    annotator's status when the report carries statuses (a sync's report does)."""
    statuses = {
        str(entry.get("annotator")): str(entry["status"])
        for entry in report.get("annotators", [])
        if entry.get("status")
    }
    kappa = kappa_name(lookup(report, "dimensions", dimension) or {})
    rows = tuple(
        (
            name,
            *((statuses.get(name, DASH),) if statuses else ()),
            fmt_count(figures.get("n_judgments")),
            fmt_percent_ci(lookup(figures, "gold", "accuracy"), lookup(figures, "gold", "ci95")),
            _peer_cell(figures),
            fmt_coef(lookup(figures, "peers", "cohen_kappa")),
            fmt_percent(lookup(figures, "leave_one_out", "agreement")),
            fmt_percent(figures.get("non_decisive_rate")),
            fmt_seconds(figures.get("median_lead_time_s")),
            _position_p(figures.get("position_bias")),
            fmt_p(lookup(figures, "length_bias", "p_value")),
            fmt_coef(lookup(figures, "intra", "cohen_kappa")),
        )
        for name, figures in annotators_of(report, dimension)
    )
    columns = [
        (column.replace("κ", kappa) if column.endswith(" κ") else column, numeric)
        for column, numeric in ANNOTATOR_COLUMNS
    ]
    if statuses:
        columns.insert(1, ("Status", False))
    return TextTable(
        columns=tuple(c for c, _ in columns),
        rows=rows,
        numeric=tuple(n for _, n in columns),
    )


BREAKDOWNS = (
    ("by_rubric_version", "rubric version", "Rubric version"),
    ("by_batch", "batch", "Batch"),
    ("by_window", "week of submission", "ISO week"),
)
"""``(report key, what it splits by, column title)`` of the breakdowns shown when they have more
than one entry; ``by_category`` is always shown, sorted by alpha."""


def sorted_by_alpha(entries: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Breakdown entries by Krippendorff's alpha, lowest first; not computable last."""

    def key(entry: Mapping[str, Any]) -> tuple[float, str]:
        value = number(lookup(entry, "krippendorff_alpha", "value"))
        return (math.inf if value is None else value, category_label(entry.get("key")))

    return sorted(entries, key=key)


# --------------------------------------------------------------------------- sentences


def dimension_facts(dimension: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Short ``(label, value)`` facts about one dimension, shown above its plots."""
    categories = ", ".join(category_label(c) for c in dimension.get("categories") or ())
    non_decisive = ", ".join(category_label(c) for c in dimension.get("non_decisive") or ())
    facts = [
        ("Kind", str(dimension.get("kind") or DASH)),
        ("Level", str(dimension.get("level") or DASH)),
        ("Categories", categories or DASH),
        ("Non-decisive", non_decisive or "none"),
        ("Target α", fmt_coef(dimension.get("target_alpha"))),
    ]
    if "gating" in dimension:  # reports written before statuses were decided per dimension
        facts.append(("Decides statuses", _gating_text(dimension)))
    facts += [
        ("Pairable items", fmt_count(dimension.get("n_pairable_items"))),
        ("Weights", _weights_cell(dimension)),
    ]
    kappa_title, ac_title = coefficient_names(dimension)
    facts.append((kappa_title, fmt_coef_ci(dimension.get("fleiss_kappa"))))
    facts.append((ac_title, fmt_coef_ci(dimension.get("gwet_ac1"))))
    if "krippendorff_alpha_decisive" in dimension:
        facts.append(("α, decisive only", fmt_coef_ci(dimension["krippendorff_alpha_decisive"])))
    facts.append(("Position bias", _position_text(dimension.get("position_bias"))))
    facts.append(("Length bias", _length_text(dimension.get("length_bias"))))
    intra = dimension.get("intra_annotator")
    if isinstance(intra, Mapping):
        intra_text = (
            f"{kappa_name(dimension)} {fmt_coef(intra.get('cohen_kappa'))}, "
            f"{fmt_percent(intra.get('percent_agreement'))} agreement "
            f"over {plural(intra.get('n_pairs'), 'repeated pair')}"
        )
    else:
        intra_text = DASH
    facts.append(("Intra-annotator", intra_text))
    return facts


def _gating_text(dimension: Mapping[str, Any]) -> str:
    """Whether the dimension's gold results decide annotator statuses, and why not."""
    if dimension.get("gating") is not False:
        return "yes (its gold results are decided on their own)"
    reason = dimension.get("gating_reason")
    return f"no (gating: false): {reason}" if reason else "no (gating: false)"


def _position_p(bias: object) -> str:
    """An annotator's position-bias p-value, or ``not measurable`` (sides not randomised)."""
    if isinstance(bias, Mapping) and bias.get("measurable") is False:
        return "not measurable"
    return fmt_p(lookup(bias, "p_value"))


def _position_text(bias: object) -> str:
    if not isinstance(bias, Mapping):
        return DASH
    if bias.get("measurable") is False:
        return f"not measurable: {bias.get('reason') or 'display sides were not randomised'}"
    return (
        f"left option chosen {fmt_percent(bias.get('left_share'))} "
        f"of {plural(bias.get('n'), 'judgment')} ({_p_clause(bias.get('p_value'))})"
    )


def _length_text(bias: object) -> str:
    if not isinstance(bias, Mapping):
        return DASH
    return (
        f"longer response chosen {fmt_percent(bias.get('longer_share'))} "
        f"of {plural(bias.get('n'), 'judgment')} ({_p_clause(bias.get('p_value'))})"
    )


def _p_clause(p_value: object) -> str:
    """``p = 0.009`` or ``p < 0.001``."""
    text = fmt_p(p_value)
    return f"p < {text[1:]}" if text.startswith("<") else f"p = {text}"


def significance_level(report: Mapping[str, Any]) -> float:
    """``1 - options.confidence`` (0.05 when the report does not say)."""
    confidence = number(lookup(report, "options", "confidence"))
    return 1.0 - (confidence if confidence is not None else 0.95)


def bias_notes(report: Mapping[str, Any]) -> list[str]:
    """One sentence per dimension whose position or length bias test is significant."""
    level = significance_level(report)
    notes = []
    for name, dim in dimensions_of(report):
        for label, key, describe in (
            ("Position bias", "position_bias", _position_text),
            ("Length bias", "length_bias", _length_text),
        ):
            p_value = number(lookup(dim, key, "p_value"))
            if p_value is not None and p_value < level:
                notes.append(f"{label} in {name}: {describe(dim[key])}.")
    return notes
