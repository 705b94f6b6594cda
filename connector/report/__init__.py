"""Renderers of the JSON report (``iaa-connector/report@1``, see ``docs/report-schema.md``).

The JSON dict is the source of truth; every renderer reads only that dict:

- :func:`connector.report.html.render_html`        one self-contained HTML file with plots
- :func:`connector.report.markdown.render_markdown` the same tables as GitHub-flavoured Markdown
- :func:`connector.report.console.print_summary`    the short summary printed to the terminal

What the three share, so that a number reads the same everywhere, lives in two modules and is
re-exported here: :mod:`connector.report._format` (cell formatters, tables and sentences as plain
text) and :mod:`connector.report.sections` (flagged annotators and their thresholds, the choice
of annotators for the agreement heatmap).
"""

from __future__ import annotations

from connector.report._format import (
    BREAKDOWNS,
    DASH,
    RANKING_NOTE,
    TextTable,
    annotator_table,
    annotators_of,
    below_target,
    bias_notes,
    breakdown_table,
    category_label,
    coefficient_names,
    dimension_facts,
    dimensions_of,
    fmt_coef,
    fmt_coef_ci,
    fmt_count,
    fmt_interval,
    fmt_p,
    fmt_percent,
    fmt_percent_ci,
    fmt_seconds,
    headline_table,
    interval_kind,
    kappa_name,
    lookup,
    number,
    peer_difference_text,
    plural,
    ranking_table,
    significance_level,
    sorted_by_alpha,
    target_flag,
    target_verdict,
    weights_text,
)
from connector.report.sections import (
    FLAGGED_STATUSES,
    PEER_MARGIN,
    PEER_MIN_PAIRS,
    FlaggedAnnotator,
    PeerNetwork,
    flag_rules,
    flagged_annotators,
    flagged_table,
    gold_release_note,
    gold_thresholds,
    peer_network,
    peer_shortfall,
)

__all__ = [
    "BREAKDOWNS",
    "DASH",
    "FLAGGED_STATUSES",
    "PEER_MARGIN",
    "PEER_MIN_PAIRS",
    "RANKING_NOTE",
    "FlaggedAnnotator",
    "PeerNetwork",
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
    "flag_rules",
    "flagged_annotators",
    "flagged_table",
    "fmt_coef",
    "fmt_coef_ci",
    "fmt_count",
    "fmt_interval",
    "fmt_p",
    "fmt_percent",
    "fmt_percent_ci",
    "fmt_seconds",
    "gold_release_note",
    "gold_thresholds",
    "headline_table",
    "interval_kind",
    "kappa_name",
    "lookup",
    "number",
    "peer_difference_text",
    "peer_network",
    "peer_shortfall",
    "plural",
    "ranking_table",
    "significance_level",
    "sorted_by_alpha",
    "target_flag",
    "target_verdict",
    "weights_text",
]
