"""Label Studio adjudication project: its labeling config, task data, and rulings read back.

The adjudication project is a separate project (``adjudication_project_id``). Each task shows
one item and one dimension (``$asked``), the prompt, the responses in canonical order (A, B:
a ruling ``a`` means response A as shown), the judgments (``$judgments``, each annotator by a
neutral label), and a form with one ``<Choices name="ruling_<dimension>">`` per dimension of
the rubric and a required ``<TextArea name="reason">``. Only the choice of the task's own
dimension is read; a missing choice, a value outside the dimension's or an empty reason is
reported with the task and annotation id, never stored as a ruling.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

from connector.platforms.adjudication import (
    REASON,
    AdjudicationTask,
    PulledRuling,
    judgments_text,
    ruling_question,
)
from connector.platforms.base import objects_with_ids, parse_timestamp
from connector.platforms.label_studio.labelconfig import LabelConfigError
from connector.rubric import Dimension, Rubric, Value

__all__ = [
    "adjudication_label_config",
    "adjudication_task_data",
    "check_adjudication_config",
    "parse_rulings",
]

PLATFORM = "label-studio"
_SIDES = {"a": "Response A is better", "b": "Response B is better"}


def _choice_text(dimension: Dimension, value: Value) -> str:
    """``Response A is better`` for the value naming response_a; on a signed scale, where
    several values name one response, the value leads (``-3: Response A is better``)."""
    side = dimension.response_of(value)
    if side is None:
        return str(value).replace("_", " ").capitalize()
    return f"{value}: {_SIDES[side]}" if dimension.signed else _SIDES[side]


def adjudication_label_config(rubric: Rubric) -> str:
    """The labeling config (XML) of an adjudication project for ``rubric``."""
    pairwise = any(d.kind == "preference" for d in rubric.dimensions)
    view = ElementTree.Element("View")
    ElementTree.SubElement(view, "Header", value="Rule on")
    ElementTree.SubElement(view, "Text", name="asked", value="$asked")
    ElementTree.SubElement(view, "Header", value="Prompt")
    ElementTree.SubElement(view, "Text", name="prompt", value="$prompt")
    if pairwise:
        pair = ElementTree.SubElement(view, "View", style="display: flex; gap: 1em")
        for side in ("a", "b"):
            column = ElementTree.SubElement(pair, "View", style="flex: 1")
            ElementTree.SubElement(column, "Header", value=f"Response {side.upper()}")
            ElementTree.SubElement(
                column, "Text", name=f"response_{side}", value=f"$response_{side}"
            )
    else:
        ElementTree.SubElement(view, "Header", value="Response")
        ElementTree.SubElement(view, "Text", name="response_a", value="$response_a")
    ElementTree.SubElement(view, "Header", value="Judgments")
    ElementTree.SubElement(view, "Text", name="judgments", value="$judgments")
    for dimension in rubric.dimensions:
        ElementTree.SubElement(
            view, "Header", value=f"Ruling on {dimension.name} (only if asked above)"
        )
        choices = ElementTree.SubElement(
            view,
            "Choices",
            name=ruling_question(dimension.name),
            toName="prompt",
            choice="single-radio",
            required="false",
        )
        for value in dimension.values:
            ElementTree.SubElement(
                choices, "Choice", value=_choice_text(dimension, value), alias=str(value)
            )
    ElementTree.SubElement(view, "Header", value="Reason for the ruling")
    ElementTree.SubElement(
        view, "TextArea", name=REASON, toName="prompt", required="true", maxSubmissions="1"
    )
    ElementTree.indent(view)
    return ElementTree.tostring(view, encoding="unicode")


def check_adjudication_config(config: str, rubric: Rubric, *, project: str) -> None:
    """Raise :class:`LabelConfigError` naming what the adjudication project's config lacks."""
    where = f"Label Studio adjudication project {project}"
    try:
        root = ElementTree.fromstring(config)
    except ElementTree.ParseError as exc:
        raise LabelConfigError(f"{where}: labeling config is not XML: {exc}") from exc
    controls = {el.get("name"): el for el in root.iter() if el.tag in ("Choices", "TextArea")}
    hint = (
        "name a new, empty project as adjudication_project_id: the connector sets up its "
        "form on the first `iaa-connector adjudication queue`"
    )
    for dimension in rubric.dimensions:
        name = ruling_question(dimension.name)
        element = controls.get(name)
        if element is None or element.tag != "Choices":
            raise LabelConfigError(f"{where}: no Choices named {name!r}; {hint}")
        offered = sorted(c.get("alias") or c.get("value") or "" for c in element.iter("Choice"))
        if offered != sorted(str(v) for v in dimension.values):
            raise LabelConfigError(
                f"{where}: {name!r} offers {offered}, but dimension {dimension.name!r} has "
                f"values {[str(v) for v in dimension.values]}; {hint}"
            )
    reason = controls.get(REASON)
    if reason is None or reason.tag != "TextArea":
        raise LabelConfigError(f"{where}: no TextArea named {REASON!r}; {hint}")


def adjudication_task_data(task: AdjudicationTask) -> dict[str, Any]:
    """What the senior annotator sees: opaque key, the question, item and judgments."""
    return {
        "key": task.key,
        "dimension": task.dimension,
        "asked": f"{task.dimension}: {task.question}",
        "prompt": task.prompt,
        "response_a": task.response_a,
        "response_b": task.response_b or "",
        "judgments": judgments_text(task),
    }


def _author(user: Any, users: Mapping[int, str]) -> str:
    if isinstance(user, int) and not isinstance(user, bool):
        return users.get(user, str(user))
    if isinstance(user, dict):
        return str(user.get("email") or user.get("id") or "unknown")
    return "unknown"


def _text_of(results: list[Any], name: str) -> str:
    for result in results:
        if isinstance(result, dict) and result.get("from_name") == name:
            value = result.get("value") or {}
            found = value.get("text") if isinstance(value, dict) else None
            if isinstance(found, list):
                return "\n".join(str(t) for t in found).strip()
            if isinstance(found, str):
                return found.strip()
    return ""


def _choice_of(results: list[Any], name: str) -> list[Any] | None:
    for result in results:
        if isinstance(result, dict) and result.get("from_name") == name:
            value = result.get("value") or {}
            picked = value.get("choices") if isinstance(value, dict) else None
            return picked if isinstance(picked, list) else []
    return None


def parse_rulings(
    tasks: Iterable[Any], rubric: Rubric, *, users: Mapping[int, str]
) -> list[PulledRuling]:
    """Every non-cancelled annotation on the tasks, as a ruling or a ruling with a problem."""
    found: list[PulledRuling] = []
    for task in tasks:
        task_id = str(task.get("id"))
        data = task.get("data") if isinstance(task.get("data"), dict) else {}
        key, asked = data.get("key"), data.get("dimension")
        if not isinstance(key, str) or not isinstance(asked, str):
            continue  # not a task the connector created
        dimension = next((d for d in rubric.dimensions if d.name == asked), None)
        for annotation_id, annotation in objects_with_ids(
            task,
            "annotations",
            noun="annotation",
            owner_noun="task",
            identifier=lambda v: None if v is None else str(v),
            platform=PLATFORM,
            task_id=task_id,
        ):
            if annotation.get("was_cancelled"):
                continue
            results = annotation.get("result")
            results = results if isinstance(results, list) else []
            stamp = annotation.get("updated_at") or annotation.get("created_at")
            ruled_at = parse_timestamp(stamp) if isinstance(stamp, str) else datetime.now(UTC)
            reason = _text_of(results, REASON)
            value: Value | None = None
            problem: str | None = None
            if dimension is None:
                problem = f"dimension {asked!r} is not in rubric {rubric.ref}"
            else:
                picked = _choice_of(results, ruling_question(asked))
                if not picked:
                    problem = f"no choice under {ruling_question(asked)!r} (the dimension asked)"
                else:
                    value = next((v for v in dimension.values if str(v) == str(picked[0])), None)
                    if value is None or len(picked) != 1:
                        problem = (
                            f"choice {picked!r} is not one of {asked!r}'s values "
                            f"{[str(v) for v in dimension.values]}"
                        )
                        value = None
            if problem is None and not reason:
                problem = "no reason given (the form's reason is required)"
                value = None
            found.append(
                PulledRuling(
                    task_key=key,
                    annotation_id=annotation_id,
                    dimension=asked,
                    value=value,
                    reason=reason,
                    ruled_by=_author(annotation.get("completed_by"), users),
                    ruled_at=ruled_at,
                    problem=problem,
                )
            )
    return found
