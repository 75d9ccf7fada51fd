"""Field-level access to the chain-wide timeline: each agency's facts are shown whole to readers with that
agency's read scope (its own clients, and auditors); other readers get them without the fields the
contract keeps for its owner (`Event.owner_only_fields`: the IND's ground for accelerating, a hearing's
kind and place). The facts stay in the read model whole; this is applied to every answer, server side.
See docs/security.md (the authorisation matrix)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from shared.contracts.base import TYPE_PREFIX


def owner_read_scope(event_type: str) -> str:
    """`nl.asielketen.procedure.hearing-held` → `procedure:read`: the read scope of the fact's owner."""
    owner = event_type.removeprefix(f"{TYPE_PREFIX}.").split(".", 1)[0]
    return f"{owner}:read"


def visible_data(
    event_type: str, data: dict[str, Any], owner_only_fields: Collection[str], scopes: Collection[str]
) -> dict[str, Any]:
    """The fact's data as this reader may see it."""
    if not owner_only_fields or owner_read_scope(event_type) in scopes:
        return data
    return {name: value for name, value in data.items() if name not in owner_only_fields}
