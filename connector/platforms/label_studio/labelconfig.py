"""Rubric → Label Studio labeling config, the check of an existing config, and result parsing.

The form annotators see is generated from the rubric, so the control and the metric's level of
measurement cannot drift apart. Tasks show the prompt and two responses side by side as
``$response_left`` / ``$response_right``; the connector records which canonical response
(``a`` or ``b``) it put on the left, and maps the annotator's ``left``/``right`` choice back.

- preference → ``<Choices>`` with aliases ``left``, ``right`` and the rubric's non-decisive
  values (``<Pairwise>`` can only record left/right, so no tie);
- signed preference scale (``signed: true``, e.g. -3 … 3) → ``<Choices>`` whose aliases are the
  values as the form shows them (negative: the *left* response is better, "Left response is
  much better" … "About the same" … "Right response is much better"); parsing mirrors the value
  (:meth:`~connector.rubric.Dimension.mirrored`) when the task showed response_b on the left;
- rating with values 1..N → ``<Rating maxRating="N">``; any other rating or choice →
  ``<Choices>`` whose aliases are the values;
- ranking → a ``<List>`` named ``<name>_responses`` showing the task data's
  ``$<name>_responses`` (a list of ``{"id": option, "title", "body"}``, one per response the
  rubric's values name) and a ``<Ranker>`` named after the dimension; its result
  (``{"ranker": {"<name>": [ids best first]}}``: keyed by the Ranker's own name in rank mode,
  per ``web/libs/editor/src/tags/control/Ranker.jsx`` of Label Studio) becomes the ranking
  ``"b>a>c>d"`` (:mod:`connector.judgments.rankings`). The Ranker records an order, never a
  tie.

A rubric without a preference dimension rates one response (``$response``). Every control is
required, except ratings that qualify a preference (e.g. its strength), which stay empty when the
annotator answered a non-decisive value such as ``tie``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from connector.errors import ConnectorError
from connector.judgments.rankings import RankingError, format_ranking, parse_ranking
from connector.rubric import Dimension, Rubric, Value, signed_text

__all__ = [
    "LabelConfigError",
    "ResultError",
    "check_label_config",
    "generate_label_config",
    "parse_result",
    "ranking_list",
]

LEFT, RIGHT = "left", "right"
PREFERENCE_LABELS = {LEFT: "Left response is better", RIGHT: "Right response is better"}


class LabelConfigError(ConnectorError, ValueError):
    """A rubric cannot be expressed as, or does not match, a Label Studio labeling config."""


class ResultError(ConnectorError, ValueError):
    """An annotation result does not fit the rubric (it is quarantined, never used)."""


@dataclass(frozen=True, slots=True)
class _Control:
    tag: str  # "Choices" | "Rating" | "Ranker"
    options: tuple[str, ...]  # aliases for Choices, "1".."N" for Rating, option ids for Ranker


def _is_scale(dimension: Dimension) -> bool:
    values = dimension.values
    return all(isinstance(v, int) and not isinstance(v, bool) for v in values) and list(
        values
    ) == list(range(1, len(values) + 1))


def _control(dimension: Dimension) -> _Control:
    if dimension.kind == "ranking":
        return _Control("Ranker", tuple(str(v) for v in dimension.values))
    if dimension.signed:
        return _Control("Choices", tuple(str(v) for v in dimension.values))
    if dimension.kind == "preference":
        extra = tuple(str(v) for v in dimension.values if v not in dimension.responses)
        return _Control("Choices", (LEFT, RIGHT, *extra))
    if dimension.kind == "rating" and _is_scale(dimension):
        return _Control("Rating", tuple(str(v) for v in dimension.values))
    return _Control("Choices", tuple(str(v) for v in dimension.values))


def _label(dimension: Dimension, alias: str) -> str:
    if dimension.signed:
        value = next(v for v in dimension.values if str(v) == alias)
        return signed_text(dimension, value, first="Left response", second="Right response")
    if dimension.kind == "preference" and alias in PREFERENCE_LABELS:
        return PREFERENCE_LABELS[alias]
    return alias.replace("_", " ").capitalize()


def ranking_list(dimension: Dimension) -> str:
    """The name of a ranking dimension's ``<List>``, and of the task data field it shows."""
    return f"{dimension.name}_responses"


def generate_label_config(rubric: Rubric) -> str:
    """The labeling config (XML) for a rubric: one control per dimension."""
    pairwise = any(d.kind == "preference" for d in rubric.dimensions)
    ranking_only = all(d.kind == "ranking" for d in rubric.dimensions)
    view = ElementTree.Element("View")
    ElementTree.SubElement(view, "Header", value="Prompt")
    ElementTree.SubElement(view, "Text", name="prompt", value="$prompt")
    if pairwise:
        pair = ElementTree.SubElement(view, "View", style="display: flex; gap: 1em")
        for side in (LEFT, RIGHT):
            column = ElementTree.SubElement(pair, "View", style="flex: 1")
            ElementTree.SubElement(column, "Header", value=f"{side.capitalize()} response")
            ElementTree.SubElement(
                column, "Text", name=f"response_{side}", value=f"$response_{side}"
            )
    elif not ranking_only:
        ElementTree.SubElement(view, "Header", value="Response")
        ElementTree.SubElement(view, "Text", name="response", value="$response")
    for dimension in rubric.dimensions:
        control = _control(dimension)
        required = "false" if pairwise and dimension.kind == "rating" else "true"
        ElementTree.SubElement(view, "Header", value=dimension.question)
        if control.tag == "Ranker":
            name = ranking_list(dimension)
            ElementTree.SubElement(view, "List", name=name, value=f"${name}", title="Responses")
            ElementTree.SubElement(view, "Ranker", name=dimension.name, toName=name)
            continue
        if control.tag == "Rating":
            ElementTree.SubElement(
                view,
                "Rating",
                name=dimension.name,
                toName="prompt",
                maxRating=str(len(control.options)),
                required=required,
            )
            continue
        choices = ElementTree.SubElement(
            view,
            "Choices",
            name=dimension.name,
            toName="prompt",
            choice="single-radio",
            required=required,
        )
        for alias in control.options:
            ElementTree.SubElement(choices, "Choice", value=_label(dimension, alias), alias=alias)
    ElementTree.indent(view)
    return ElementTree.tostring(view, encoding="unicode")


def check_label_config(config: str, rubric: Rubric, *, project: str = "?") -> None:
    """Raise :class:`LabelConfigError` naming the first control that does not match the rubric."""
    try:
        root = ElementTree.fromstring(config)
    except ElementTree.ParseError as exc:
        raise LabelConfigError(
            f"Label Studio project {project}: labeling config is not XML: {exc}"
        ) from exc
    controls = {
        el.get("name"): el for el in root.iter() if el.tag in ("Choices", "Rating", "Ranker")
    }
    where = f"Label Studio project {project}"
    for dimension in rubric.dimensions:
        expected = _control(dimension)
        element = controls.get(dimension.name)
        if element is None:
            raise LabelConfigError(
                f"{where}: no control named {dimension.name!r} (rubric {rubric.id} "
                f"v{rubric.version} needs a {expected.tag}); controls found: "
                f"{sorted(str(k) for k in controls)}"
            )
        if element.tag != expected.tag:
            raise LabelConfigError(
                f"{where}: control {dimension.name!r} is a {element.tag}, but rubric "
                f"{rubric.id} v{rubric.version} needs a {expected.tag}"
            )
        if expected.tag == "Ranker":
            lists = {el.get("name") for el in root.iter("List")}
            if element.get("toName") not in lists:
                raise LabelConfigError(
                    f"{where}: ranker {dimension.name!r} ranks {element.get('toName')!r}, which "
                    f"is not a <List> of the config (rubric {rubric.id} v{rubric.version} "
                    f'needs <List name="{ranking_list(dimension)}">)'
                )
            continue
        if expected.tag == "Rating":
            found = element.get("maxRating", "5")
            if found != str(len(expected.options)):
                raise LabelConfigError(
                    f"{where}: control {dimension.name!r} has maxRating={found}, but rubric "
                    f"{rubric.id} v{rubric.version} has a 1..{len(expected.options)} scale"
                )
            continue
        offered = tuple(c.get("alias") or c.get("value") or "" for c in element.iter("Choice"))
        if sorted(offered) != sorted(expected.options):
            raise LabelConfigError(
                f"{where}: control {dimension.name!r} offers choices {list(offered)}, but rubric "
                f"{rubric.id} v{rubric.version} expects {list(expected.options)}"
            )


def parse_result(result: dict[str, Any], dimension: Dimension, display_left: str | None) -> Value:
    """The rubric value of one Label Studio result item.

    Args:
        result: one element of an annotation's ``result`` list (``from_name`` == dimension).
        display_left: which canonical response (``a``/``b``) the task showed on the left.

    Raises:
        ResultError: wrong type, several or no choices, or a value outside the rubric.
    """
    kind = result.get("type")
    value = result.get("value")
    if not isinstance(value, dict):
        raise ResultError(f"result for {dimension.name!r} has no value object")
    if dimension.kind == "ranking":
        return _ranking(kind, value, dimension)
    if kind == "rating":
        rating = value.get("rating")
        if (
            isinstance(rating, bool)
            or not isinstance(rating, int | float)
            or rating not in dimension.values
        ):
            raise ResultError(
                f"rating {rating!r} for {dimension.name!r} is not one of {list(dimension.values)}"
            )
        return int(rating)
    if kind != "choices":
        raise ResultError(f"result type {kind!r} for {dimension.name!r} is not choices or rating")
    picked = value.get("choices")
    if not isinstance(picked, list) or len(picked) != 1 or not isinstance(picked[0], str):
        raise ResultError(f"{dimension.name!r} needs exactly one choice, got {picked!r}")
    choice = picked[0]
    if dimension.signed:
        for candidate in dimension.values:
            if str(candidate) == choice:
                return candidate if (display_left or "a") == "a" else dimension.mirrored(candidate)
    elif dimension.kind == "preference" and choice in (LEFT, RIGHT):
        left = display_left or "a"
        right = "b" if left == "a" else "a"
        return dimension.value_for(left if choice == LEFT else right)
    for candidate in dimension.values:
        if str(candidate) == choice and (
            dimension.kind != "preference" or candidate not in dimension.responses
        ):
            return candidate
    options = list(_control(dimension).options)
    raise ResultError(f"choice {choice!r} for {dimension.name!r} is not one of {options}")


def _ranking(kind: object, value: dict[str, Any], dimension: Dimension) -> str:
    """A ``<Ranker>`` result as the ranking string: ``value.ranker`` holds the ids in the new
    order under the Ranker's own name (rank mode: no buckets; or directly, as a list)."""
    if kind != "ranker":
        raise ResultError(f"result type {kind!r} for {dimension.name!r} is not ranker")
    ranked = value.get("ranker")
    if isinstance(ranked, dict):
        ranked = ranked.get(dimension.name)
    if not isinstance(ranked, list) or not all(isinstance(i, str) for i in ranked):
        raise ResultError(
            f"ranker result for {dimension.name!r} holds no list of response ids, got "
            f"{value.get('ranker')!r}"
        )
    try:
        return format_ranking(parse_ranking(ranked, dimension), dimension)
    except RankingError as exc:
        raise ResultError(str(exc)) from None
