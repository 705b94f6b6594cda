"""Strict look-up of keyword options: a misspelt option raises and lists the valid ones."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from connector.errors import OptionError

T = TypeVar("T", bound=str)


def choose(name: str, value: object, valid: Sequence[T]) -> T:
    """Return ``value`` if it is one of ``valid``; raise :class:`OptionError` otherwise.

    >>> choose("level", "ordinal", ("nominal", "ordinal"))
    'ordinal'
    """
    for option in valid:
        if isinstance(value, str) and value == option:
            return option
    raise OptionError(name, value, valid)
