"""Annotator groups (tiers such as ``expert`` and ``crowd``): the one rule of what a valid set
of groups is, read by the configuration (a project's ``groups``) and by the report's
``--groups FILE`` alike (:mod:`connector.report.tiers` computes the figures)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from connector.errors import ConnectorError

__all__ = ["REFERENCE_GROUP", "GroupsError", "check_groups"]

REFERENCE_GROUP = "expert"
"""The group whose consensus every other annotator is compared with."""


class GroupsError(ConnectorError, ValueError):
    """Annotator groups that cannot be used (the message names the file, group and annotator)."""


def check_groups(
    groups: Mapping[str, Collection[str]], *, where: str
) -> dict[str, tuple[str, ...]]:
    """Groups as ``{name: (annotator, ...)}``, each annotator in one group only.

    Raises:
        GroupsError: a group name or member that is not a non-empty string, an empty group, or
            an annotator in two groups (which tier they are would be ambiguous).
    """
    checked: dict[str, tuple[str, ...]] = {}
    seen: dict[str, str] = {}
    for name, members in groups.items():
        if not isinstance(name, str) or not name.strip():
            raise GroupsError(f"{where}: a group name must be a non-empty string, not {name!r}")
        if not isinstance(members, list | tuple) or not all(
            isinstance(m, str) and m.strip() for m in members
        ):
            raise GroupsError(
                f"{where}: group {name!r} must be a list of annotator names, not {members!r}"
            )
        listed = tuple(dict.fromkeys(m.strip() for m in members))
        if not listed:
            raise GroupsError(f"{where}: group {name!r} has no annotator")
        for member in listed:
            if member in seen:
                raise GroupsError(
                    f"{where}: annotator {member!r} is in groups {seen[member]!r} and {name!r}; "
                    "put each annotator in one group"
                )
            seen[member] = name
        checked[name] = listed
    return checked
