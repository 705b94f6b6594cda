"""The names of the input formats :func:`~connector.judgments.load_judgments` reads.

Kept apart from the readers (no pandas here), so the command line can list them in its help
without importing the readers.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["INPUT_FORMATS", "PLATFORM_FORMATS", "InputFormat", "PlatformFormat"]

PlatformFormat = Literal["prodigy", "labelbox", "surge", "scale", "mturk"]
PLATFORM_FORMATS: tuple[PlatformFormat, ...] = ("prodigy", "labelbox", "surge", "scale", "mturk")
InputFormat = Literal[
    "canonical", "label-studio", "argilla", "prodigy", "labelbox", "surge", "scale", "mturk"
]
INPUT_FORMATS: tuple[InputFormat, ...] = ("canonical", "label-studio", "argilla", *PLATFORM_FORMATS)
