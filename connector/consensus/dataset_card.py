"""The dataset card written beside an export (Markdown): what was exported, what the filters
removed and why, agreement per dimension with its interval, annotators by status, and the
rubric version with its changelog, so that a reader can check the data's quality without the
connector.

The agreement figures are the report's (:func:`connector.report.build.build_report`, default
:class:`~connector.report.build.ReportOptions`: 1,000 bootstrap resamples, BCa intervals) over
the judgments the consensus was computed from: after the rubric-version and annotator filters,
before the item filters (alpha over the items kept *because* they agree would be inflated by
that choice).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from connector import __version__
from connector.report.build import build_report
from connector.report.sections import FLAGGED_STATUSES

if TYPE_CHECKING:
    from connector.consensus.export import Export
    from connector.consensus.export_files import ExportPaths

__all__ = ["dataset_card"]

_NO_STATUS = "no status"
_METHOD_NAMES = {"bca": "BCa", "percentile": "percentile"}


def _figure(value: Any) -> str:
    return "—" if value is None else f"{value:.3f}"


def _interval(entry: dict[str, Any]) -> str:
    ci = entry.get("ci95")
    if ci is None:
        return entry.get("no_interval") or "—"
    return f"[{_figure(ci[0])}, {_figure(ci[1])}]"


def _agreement_lines(export: Export) -> list[str]:
    if export.frame.empty:
        return ["No judgment remained after the filters: no agreement to report."]
    report = build_report(export.frame, export.rubric, source={"path": export.source})
    confidence = report["options"]["confidence"]
    method = report["options"]["ci_method"]
    lines = [
        f"Krippendorff's alpha per dimension with its {confidence:.0%} "
        f"{_METHOD_NAMES.get(method, method)} bootstrap interval "
        f"({report['options']['bootstrap_resamples']} resamples of items), computed by "
        "iaa-connector's report over the judgments the consensus was computed from (after the "
        "rubric-version and annotator filters, before the item filters).",
        "",
        "| dimension | level | items | judgments | annotators | alpha | interval | target |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for name, section in report["dimensions"].items():
        alpha = section["krippendorff_alpha"]
        lines.append(
            f"| {name} | {section['level']} | {section['n_items']} | {section['n_judgments']} "
            f"| {section['n_annotators']} | {_figure(alpha['value'])} | {_interval(alpha)} "
            f"| {_figure(section['target_alpha'])} |"
        )
    return lines


def _status_lines(export: Export) -> list[str]:
    counts = Counter(status or _NO_STATUS for status in export.statuses.values())
    excluded = export.options.exclude_flagged
    lines = [
        "Statuses are the annotator lifecycle's (gold accuracy; no status: no gold judgment "
        "decided one yet).",
        "",
        "| status | annotators | votes used |",
        "| --- | ---: | --- |",
    ]
    for status in sorted(counts):
        used = "no" if excluded and status in FLAGGED_STATUSES else "yes"
        lines.append(f"| {status} | {counts[status]} | {used} |")
    return lines


def dataset_card(export: Export, paths: ExportPaths, *, command: str = "") -> str:
    """The card's Markdown text."""
    rubric = export.rubric
    options = export.options
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    ranked = rubric.dimension(export.dimension).kind == "ranking"
    unit = "rows, one per pair" if options.format == "trl" else "rows, two per pair"
    shape = (
        "`prompt`, `chosen`, `rejected`, `margin`"
        if options.format == "trl"
        else "`prompt`, `completion`, `label` (true: the chosen response)"
    )
    if export.margin_source == "strength":
        margin = (
            f"the magnitude of the consensus value on the signed scale `{export.dimension}`"
            if rubric.dimension(export.dimension).signed
            else "the median `strength` vote of the annotators who chose the consensus response "
            "(the lower median on an even count)"
        )
    else:
        margin = (
            f"the {options.method} consensus confidence of the chosen response (1 when a "
            "ruling set the label)"
        )
    lines = [
        f"# Preference pairs: rubric {rubric.id} version {rubric.version}",
        "",
        f"Written by iaa-connector {__version__} on {when} from {export.source}.",
        *([f"Command: `{command}`"] if command else []),
        "",
        "## What was exported",
        "",
        f"- `{paths.rows.name}`: {len(export.rows)} {unit} ({export.pairs} pairs), columns "
        f"{shape}{', as chat message lists' if options.chat else ''}, for TRL "
        f"({'RewardTrainer, DPOTrainer' if options.format == 'trl' else 'KTOTrainer'}).",
        f"- Chosen and rejected: the {options.method} consensus on dimension "
        f"`{export.dimension}`"
        + (
            " (a ranking: one pair per pair of its options, each decided by its implied "
            "preferences' consensus)"
            if ranked
            else ""
        )
        + "; rulings (adjudicated values) win over the votes.",
        f"- `margin` ({'`margin_source`' if options.format == 'trl' else 'column'} "
        f"`{export.margin_source}`): {margin}.",
        f"- `{paths.non_decisive.name}`: {len(export.non_decisive)} "
        f"{'pairs' if ranked else 'items'} whose consensus names no better response (a tied "
        "vote, a tie or both-bad value), with their votes; never chosen/rejected.",
        "- Provenance on every row: `item_id`, `task_ids`, `rubric_id`, `rubric_version`, "
        "`rubric_hash`, `batch`, `n_votes`, `votes`, `agreement` (the item's agreement), "
        "`method`, `confidence`, `adjudicated`, `display_left`, `consensus_label`, "
        "`chosen_response`.",
        "",
        "## What was filtered out",
        "",
        "| filter | removed | why |",
        "| --- | ---: | --- |",
        *(
            f"| {r.reason} | {r.count} {r.unit} | {r.detail.replace('|', '/')} |"
            for r in export.removals
        ),
        "",
        "## Agreement",
        "",
        *_agreement_lines(export),
        "",
        "## Annotators by status",
        "",
        *_status_lines(export),
        "",
        "## Rubric",
        "",
        f"- `{rubric.id}` version `{rubric.version}`, content hash `{rubric.content_hash}`",
        "- Changelog:",
        "",
        *(f"  > {line}" for line in (rubric.changelog or "(none)").splitlines()),
        "",
    ]
    return "\n".join(lines)
