"""The reward-model export: consensus preference pairs as rows TRL reads, with provenance.

From a judgments table (a file's, or a synced project's store) and its rubric:

1. judgments under another rubric version are left out (one rubric version per export), and
   so are the votes of annotators the lifecycle flagged (:data:`FLAGGED_STATUSES`), when asked;
2. the consensus is computed on what remains (:func:`connector.consensus.consensus_table`, one
   method, rulings win), and each item's agreement too
   (:func:`connector.report.build.item_agreements`, the figure the platform write-back uses);
3. each item's consensus on the preference dimension becomes one pair (``chosen`` the response
   the label names, ``rejected`` the other), unless the item is gold (left out by default), the
   consensus is non-decisive (a tied vote, or a value such as ``tie`` or ``both_bad``: these go
   to the sidecar with their votes, never to chosen/rejected), or the item falls below
   ``min_agreement`` or ``min_confidence``;
4. ``margin`` is the preference's strength (a signed scale's consensus magnitude,
   :meth:`Dimension.strength_of`, or, for a rating dimension named ``strength``, the median
   strength of the annotators who chose the consensus response,
   :func:`connector.consensus.strength.side_strengths`; a ruling on it wins) or the consensus
   confidence; ``margin_source`` says which.

What each step removed is counted (:attr:`Export.removals`), for the CLI and the dataset card.
:mod:`.pairs` builds the rows from (texts, chosen response, provenance) alone, so pairs implied
by other judgments (a ranking's) can be written the same way.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from connector.consensus.adjudication import Adjudication
from connector.consensus.pairs import kto_rows, preference_row
from connector.consensus.strength import side_strengths
from connector.consensus.table import METHODS, Method, consensus_table
from connector.consensus.texts import ItemText
from connector.errors import JudgmentTableError
from connector.judgments.rankings import pair_item, pairs_dimension
from connector.metrics._options import choose
from connector.report.build import item_agreements
from connector.report.sections import FLAGGED_STATUSES
from connector.rubric import Dimension, Rubric

__all__ = [
    "EXPORT_FORMATS",
    "MARGIN_SOURCES",
    "Export",
    "ExportFormat",
    "ExportInput",
    "ExportOptions",
    "MarginSource",
    "Removal",
    "build_export",
    "rubric_version_names",
]

ExportFormat = Literal["trl", "kto"]
MarginSource = Literal["strength", "confidence"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("trl", "kto")
MARGIN_SOURCES: tuple[MarginSource, ...] = ("strength", "confidence")
STRENGTH_DIMENSION = "strength"
_LISTED = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportOptions:
    """What to export and what to leave out.

    Attributes:
        format: ``trl`` (``prompt``/``chosen``/``rejected``/``margin`` rows) or ``kto``
            (unpaired ``prompt``/``completion``/``label`` rows, two per pair).
        method: the consensus method (:data:`connector.consensus.METHODS`).
        dimension: the preference dimension that decides chosen and rejected; ``None``: the
            rubric's only preference dimension.
        margin: ``strength`` or ``confidence``; ``None``: strength when the rubric has one (a
            signed preference dimension, or a rating dimension named ``strength``).
        min_agreement, min_confidence: items below are left out (``None``: no minimum).
        exclude_flagged: leave out the votes of annotators in :data:`FLAGGED_STATUSES`.
        exclude_gold: leave out gold items.
        skip_missing_text: leave out (and count) items without prompt or responses; ``False``
            makes them an error naming them.
        chat: prompt, chosen and rejected as chat message lists (TRL's conversational format).
    """

    format: ExportFormat = "trl"
    method: Method = "majority"
    dimension: str | None = None
    margin: MarginSource | None = None
    min_agreement: float | None = None
    min_confidence: float | None = None
    exclude_flagged: bool = True
    exclude_gold: bool = True
    skip_missing_text: bool = False
    chat: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportInput:
    """Everything an export reads.

    Attributes:
        frame: canonical judgments (:mod:`connector.judgments`).
        rubric: the rubric version to export.
        texts: prompt and responses per item id.
        statuses: each annotator's lifecycle status (:mod:`connector.quality.lifecycle`).
        gold_items: ids of the gold items.
        adjudications: rulings; they win over every vote.
        task_ids: platform task ids per item id (empty for a file).
        source: what was read (a path, or ``project KEY``), for messages and the card.
    """

    frame: pd.DataFrame
    rubric: Rubric
    texts: Mapping[str, ItemText]
    statuses: Mapping[str, str] = field(default_factory=dict)
    gold_items: frozenset[str] = frozenset()
    adjudications: Sequence[Adjudication] = ()
    task_ids: Mapping[str, Sequence[str]] = field(default_factory=dict)
    source: str = "<frame>"


@dataclass(frozen=True, slots=True, kw_only=True)
class Removal:
    """What one filter removed: ``count`` judgments or items, and why."""

    reason: str
    unit: Literal["judgments", "items", "pairs"]
    count: int
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Export:
    """An export's rows, its non-decisive items and what its filters removed.

    Attributes:
        rows: the rows to write (pairs, or two KTO rows per pair), in item order.
        pairs: how many consensus pairs the rows hold.
        non_decisive: the sidecar's rows: items whose consensus names no better response.
        removals: each filter's count, in the order applied.
        frame: the judgments the consensus was computed from (after the version and annotator
            filters; gold items included), for the dataset card's agreement figures.
        dimension: the preference dimension; ``margin_source``: where ``margin`` came from.
        statuses: each annotator of the input's status (``None``: the lifecycle decided none).
    """

    rows: list[dict[str, Any]]
    pairs: int
    non_decisive: list[dict[str, Any]]
    removals: tuple[Removal, ...]
    frame: pd.DataFrame
    rubric: Rubric
    options: ExportOptions
    dimension: str
    margin_source: MarginSource
    statuses: Mapping[str, str | None]
    source: str


def rubric_version_names(rubric: Rubric) -> frozenset[str]:
    """The ``rubric_version`` values that name ``rubric``'s version: ``2``, ``v2``,
    ``<id>@v2`` (the store's), ``<id>@2`` and its content hash."""
    version = rubric.version
    names = {version, f"v{version}", rubric.ref, f"{rubric.id}@{version}"}
    return frozenset(names | ({rubric.content_hash} if rubric.content_hash else set()))


def _preference_dimension(rubric: Rubric, name: str | None) -> Dimension:
    if name is not None:
        try:
            dimension = rubric.dimension(name)
        except KeyError as exc:
            raise JudgmentTableError(f"--dimension: {exc.args[0]}") from None
        if dimension.kind not in ("preference", "ranking"):
            raise JudgmentTableError(
                f"--dimension {name}: a {dimension.kind} dimension names no better response; "
                "export a preference or ranking dimension"
            )
        return dimension
    found = [d for d in rubric.dimensions if d.kind == "preference"] or [
        d for d in rubric.dimensions if d.kind == "ranking"
    ]
    if len(found) == 1:
        return found[0]
    if not found:
        raise JudgmentTableError(
            f"rubric {rubric.ref} has no preference dimension: nothing says which response is "
            "chosen"
        )
    raise JudgmentTableError(
        f"rubric {rubric.ref} has {len(found)} preference dimensions "
        f"({', '.join(d.name for d in found)}); choose one with --dimension"
    )


def _strength_dimension(rubric: Rubric, preference: Dimension) -> Dimension | None:
    """The dimension whose consensus is the margin's strength: the preference dimension itself
    when signed, else a numeric rating dimension named ``strength``; none for a ranking."""
    if preference.signed:
        return preference
    if preference.kind == "ranking":
        return None
    for dimension in rubric.dimensions:
        if (
            dimension.name == STRENGTH_DIMENSION
            and dimension.kind == "rating"
            and all(isinstance(v, int | float) for v in dimension.values)
        ):
            return dimension
    return None


def _listed(ids: Sequence[str]) -> str:
    shown = ", ".join(repr(i) for i in ids[:_LISTED])
    return shown + (f" and {len(ids) - _LISTED} more" if len(ids) > _LISTED else "")


def _per_item(frame: pd.DataFrame, column: str) -> dict[str, list[str]]:
    """Each item's distinct non-empty values of ``column``, sorted."""
    pairs = frame[["item_id", column]].dropna().drop_duplicates()
    found: dict[str, list[str]] = {}
    for item_id, value in zip(pairs["item_id"].tolist(), pairs[column].tolist(), strict=True):
        found.setdefault(str(item_id), []).append(str(value))
    return {item_id: sorted(values) for item_id, values in found.items()}


def _display_left(sides: list[str] | None) -> str | None:
    """``a`` or ``b`` when every judgment saw that response on the left, ``mixed`` when they
    differ, ``None`` when unknown."""
    if not sides:
        return None
    return sides[0] if len(sides) == 1 else "mixed"


def _label(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _kept_judgments(
    source: ExportInput, statuses: Mapping[str, str | None], *, exclude_flagged: bool
) -> tuple[pd.DataFrame, list[Removal]]:
    """The judgments of the rubric's version, without flagged annotators' votes when asked,
    and what each of these filters removed."""
    rubric = source.rubric
    removals: list[Removal] = []
    frame = source.frame
    unknown = sorted(set(frame["dimension"].unique()) - {d.name for d in rubric.dimensions})
    if unknown:
        raise JudgmentTableError(
            f"{source.source}: dimension(s) {unknown} are not in rubric {rubric.ref}, whose "
            f"dimensions are {[d.name for d in rubric.dimensions]}; export with the rubric the "
            "judgments were made under"
        )

    versions = frame["rubric_version"]
    named = versions.notna() & ~versions.isin(list(rubric_version_names(rubric)))
    if named.any():
        others = sorted({str(v) for v in versions[named]})
        if named.all():
            raise JudgmentTableError(
                f"{source.source}: no judgment is under rubric {rubric.ref}; the judgments name "
                f"rubric version(s) {_listed(others)}: export them with that version's rubric"
            )
        removals.append(
            Removal(
                reason="other rubric version",
                unit="judgments",
                count=int(named.sum()),
                detail=f"one rubric version per export; left out: {', '.join(others)}",
            )
        )
        frame = frame.loc[~named]

    if exclude_flagged:
        flagged = sorted(a for a, s in statuses.items() if s in FLAGGED_STATUSES)
        dropped = frame["annotator"].isin(flagged)
        removals.append(
            Removal(
                reason="flagged annotators' votes",
                unit="judgments",
                count=int(dropped.sum()),
                detail=(
                    f"status {', '.join(FLAGGED_STATUSES)}: {', '.join(flagged)}"
                    if flagged
                    else f"no annotator has status {', '.join(FLAGGED_STATUSES)}"
                ),
            )
        )
        frame = frame.loc[~dropped]
    return frame.reset_index(drop=True), removals


def _item_removals(
    counts: Mapping[str, int],
    missing: Sequence[str],
    *,
    options: ExportOptions,
    preference: Dimension,
    strength: Dimension | None,
    method: str,
    unit: Literal["items", "pairs"],
) -> list[Removal]:
    """What each item filter removed (``strength``: the margin's strength dimension, or None
    when the margin is the confidence; ``unit``: ``pairs`` for a ranking's implied pairs)."""
    removals = [
        Removal(
            reason="gold items",
            unit=unit,
            count=counts["gold"],
            detail="gold items are annotator tests, not training data (--include-gold keeps them)"
            if options.exclude_gold
            else "kept (--include-gold)",
        ),
        Removal(
            reason="non-decisive consensus (to the sidecar)",
            unit=unit,
            count=counts["non_decisive"],
            detail=f"a tied vote or a value naming neither response "
            f"({', '.join(str(v) for v in preference.non_decisive) or 'none'})",
        ),
    ]
    if options.min_agreement is not None:
        removals.append(
            Removal(
                reason="agreement below minimum",
                unit=unit,
                count=counts["agreement"],
                detail=f"item agreement < {options.min_agreement} or undefined (one vote); "
                "adjudicated items are kept",
            )
        )
    if options.min_confidence is not None:
        removals.append(
            Removal(
                reason="confidence below minimum",
                unit=unit,
                count=counts["confidence"],
                detail=f"{method} confidence < {options.min_confidence}; adjudicated items "
                "are kept",
            )
        )
    if strength is not None and not strength.signed:
        removals.append(
            Removal(
                reason="no strength consensus",
                unit=unit,
                count=counts["strength"],
                detail=f"no {strength.name} vote from an annotator who chose the consensus "
                "response (--margin confidence keeps them)",
            )
        )
    if missing:
        removals.append(
            Removal(
                reason="no text (--skip-missing-text)",
                unit=unit,
                count=len(missing),
                detail=_listed(missing),
            )
        )
    return removals


def build_export(source: ExportInput, options: ExportOptions = ExportOptions()) -> Export:
    """The export of ``source`` (see the module docstring).

    Raises:
        OptionError: an unknown format, method or margin source.
        JudgmentTableError: no judgment under the rubric's version, a dimension that cannot
            decide chosen and rejected, no strength to take a margin from, or items without
            texts (unless ``skip_missing_text``); each message names what and what to do.
    """
    choose("format", options.format, EXPORT_FORMATS)
    method = choose("method", options.method, METHODS)
    rubric = source.rubric
    preference = _preference_dimension(rubric, options.dimension)
    strength = _strength_dimension(rubric, preference)
    margin_source: MarginSource = (
        choose("margin", options.margin, MARGIN_SOURCES)
        if options.margin is not None
        else ("strength" if strength is not None else "confidence")
    )
    if margin_source == "strength" and strength is None and preference.kind == "ranking":
        raise JudgmentTableError(
            f"--margin strength: ranking {preference.name!r} has no strength of preference; "
            "use --margin confidence"
        )
    if margin_source == "strength" and strength is None:
        raise JudgmentTableError(
            f"--margin strength: rubric {rubric.ref} has no strength (a signed preference "
            f"dimension, or a rating dimension named {STRENGTH_DIMENSION!r}); use --margin "
            "confidence"
        )
    statuses: dict[str, str | None] = {
        str(a): source.statuses.get(str(a)) for a in source.frame["annotator"].unique()
    }
    frame, removals = _kept_judgments(source, statuses, exclude_flagged=options.exclude_flagged)

    # the consensus and agreement of the dimensions the rows read (each dimension is coded on
    # its own, so leaving the others out changes nothing but the time)
    used = tuple(d for d in rubric.dimensions if d in (preference, strength))
    focus = frame.loc[frame["dimension"].isin([d.name for d in used])]
    focused = dataclasses.replace(rubric, dimensions=used)
    unread = {d.name for d in rubric.dimensions} - {d.name for d in used}
    rulings = [r for r in source.adjudications if r.dimension not in unread]
    # a ranking: each implied pair's consensus decides, written as a pair of its two options
    ranking = preference.kind == "ranking"
    decider = pairs_dimension(preference) if ranking else preference
    table = consensus_table(
        focus,
        focused,
        methods=[method],
        adjudications=rulings,
        only={decider.name, *(d.name for d in used if d is not preference)},
    )
    on = table.loc[table["dimension"] == decider.name]
    pair_of = (
        {
            pair_item(item, x, y): (str(item), str(x), str(y))
            for item in focus["item_id"].unique()
            for x, y in itertools.combinations(preference.values, 2)
        }
        if ranking
        else {}
    )
    strength_labels: dict[str, Any] = {}
    if margin_source == "strength" and strength is not None and not strength.signed:
        decided = {
            str(i): side
            for i, label in zip(on["item_id"], on["label"], strict=True)
            if label is not None and (side := preference.response_of(label)) is not None
        }
        strength_labels = side_strengths(
            focus, focused, preference=preference, strength=strength, chosen=decided
        )
        rated = table.loc[(table["dimension"] == strength.name) & table["adjudicated"]]
        strength_labels |= {
            str(i): label for i, label in zip(rated["item_id"], rated["label"], strict=True)
        }
    agreement = item_agreements(focus, focused).get(decider.name, {})
    judged = frame.loc[frame["dimension"] == preference.name]
    batches = _per_item(judged, "batch")
    sides = _per_item(judged, "display_left")

    kept: list[tuple[ItemText, str, dict[str, Any]]] = []
    non_decisive: list[dict[str, Any]] = []
    counts = {
        "gold": 0,
        "non_decisive": 0,
        "agreement": 0,
        "confidence": 0,
        "strength": 0,
    }
    missing: list[str] = []
    columns = ("item_id", "label", "confidence", "tied", "n_judgments", "votes", "adjudicated")
    records = [
        dict(zip(columns, row, strict=True))
        for row in zip(*(on[c].tolist() for c in columns), strict=True)
    ]
    for record in records:
        unit_id = str(record["item_id"])  # a ranking's pair, else the item
        item_id, first, second = pair_of.get(unit_id, (unit_id, "a", "b"))
        if options.exclude_gold and item_id in source.gold_items:
            counts["gold"] += 1
            continue
        found = agreement.get(unit_id)
        adjudicated = bool(record["adjudicated"])
        confidence = _number(record["confidence"])
        provenance: dict[str, Any] = {
            "item_id": item_id,
            "task_ids": list(source.task_ids.get(item_id, ())),
            "rubric_id": rubric.id,
            "rubric_version": rubric.version,
            "rubric_hash": rubric.content_hash,
            "dimension": preference.name,
            "consensus_label": _label(record["label"]),
            "batch": batches.get(item_id, []),
            "n_votes": int(record["n_judgments"]),
            "votes": dict(record["votes"]),
            "agreement": None if found is None else found.agreement,
            "method": method,
            "confidence": confidence,
            "adjudicated": adjudicated,
            "display_left": _display_left(sides.get(item_id)),
        }
        if ranking:
            provenance |= {"pair_item": unit_id, "pair": [first, second]}
        chosen = None if record["label"] is None else decider.response_of(record["label"])
        text = source.texts.get(item_id)
        if ranking and text is not None:
            text = text.pair(first, second)
        if chosen is None:
            counts["non_decisive"] += 1
            reason = (
                "tied vote" if bool(record["tied"]) and record["label"] is None else "non-decisive"
            )
            empty = ItemText(prompt=None, response_a=None, response_b=None)
            shown = text or empty
            non_decisive.append(
                {
                    "prompt": shown.prompt,
                    "response_a": shown.response_a,
                    "response_b": shown.response_b,
                    "reason": reason,
                    **provenance,
                }
            )
            continue
        if not adjudicated:
            value = None if found is None else found.agreement
            if options.min_agreement is not None and (
                value is None or value < options.min_agreement
            ):
                counts["agreement"] += 1
                continue
            if options.min_confidence is not None and (
                confidence is None or confidence < options.min_confidence
            ):
                counts["confidence"] += 1
                continue
        if margin_source == "confidence":
            margin: float | None = 1.0 if adjudicated else confidence
        elif preference.signed:
            margin = preference.strength_of(record["label"])
        else:
            margin = _number(strength_labels.get(item_id))
        if margin is None:
            counts["strength"] += 1
            continue
        if text is None or not text.complete:
            missing.append(unit_id)
            continue
        chosen_option = first if chosen == "a" else second
        kept.append(
            (
                text,
                chosen,
                {"margin": margin, "margin_source": margin_source, "chosen_response": chosen_option}
                | provenance,
            )
        )

    if missing and not options.skip_missing_text:
        raise JudgmentTableError(
            f"{source.source}: {len(missing)} item(s) to export have no prompt or response text "
            f"({_listed(missing)}); give the texts (a file's prompt, response_a and response_b "
            "columns, response_<option> for a ranking's options, or --items FILE keyed by "
            "item_id), or pass --skip-missing-text to leave them out"
        )
    removals += _item_removals(
        counts,
        missing,
        options=options,
        preference=decider,
        strength=strength if margin_source == "strength" else None,
        method=method,
        unit="pairs" if ranking else "items",
    )
    rows: list[dict[str, Any]] = []
    for text, chosen, provenance in kept:
        if options.format == "trl":
            rows.append(preference_row(text, chosen, provenance, chat=options.chat))
        else:
            rows += kto_rows(text, chosen, provenance, chat=options.chat)
    return Export(
        rows=rows,
        pairs=len(kept),
        non_decisive=non_decisive,
        removals=tuple(removals),
        frame=frame,
        rubric=rubric,
        options=options,
        dimension=preference.name,
        margin_source=margin_source,
        statuses=statuses,
        source=source.source,
    )
