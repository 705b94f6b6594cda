"""Training rows of one preference pair: TRL's paired ``prompt``/``chosen``/``rejected`` row and
KTO's two unpaired ``prompt``/``completion``/``label`` rows.

Each builder is a function of (texts, chosen response, provenance) alone, so the export's
consensus pairs and pairs implied by other judgments (a ranking's) are written the same way.
With ``chat`` the texts are message lists in TRL's conversational format: the prompt
``[{"role": "user", "content": ...}]``, a response ``[{"role": "assistant", "content": ...}]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connector.consensus.texts import ItemText

__all__ = ["kto_rows", "preference_row"]


def preference_row(
    text: ItemText, chosen: str, provenance: Mapping[str, Any], *, chat: bool
) -> dict[str, Any]:
    """One TRL preference row: ``prompt``, ``chosen``, ``rejected`` (``chosen`` is ``"a"`` or
    ``"b"``, the response the consensus prefers), then ``provenance`` as given."""
    better, worse = _responses(text, chosen)
    return {
        "prompt": _user(text.prompt, chat),
        "chosen": _assistant(better, chat),
        "rejected": _assistant(worse, chat),
        **provenance,
    }


def kto_rows(
    text: ItemText, chosen: str, provenance: Mapping[str, Any], *, chat: bool
) -> list[dict[str, Any]]:
    """Two unpaired KTO rows of one pair: the chosen response with ``label`` True, the
    rejected one with ``label`` False, each with ``provenance``."""
    better, worse = _responses(text, chosen)
    return [
        {
            "prompt": _user(text.prompt, chat),
            "completion": _assistant(completion, chat),
            "label": label,
            **provenance,
        }
        for completion, label in ((better, True), (worse, False))
    ]


def _responses(text: ItemText, chosen: str) -> tuple[str | None, str | None]:
    if chosen not in ("a", "b"):
        raise ValueError(f"chosen must be 'a' or 'b', not {chosen!r}")
    a, b = text.response_a, text.response_b
    return (a, b) if chosen == "a" else (b, a)


def _user(prompt: str | None, chat: bool) -> Any:
    return [{"role": "user", "content": prompt}] if chat else prompt


def _assistant(response: str | None, chat: bool) -> Any:
    return [{"role": "assistant", "content": response}] if chat else response
