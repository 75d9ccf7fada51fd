"""Versioned integration contracts, one module per publishing service, and the chain-wide registry."""

from shared.contracts.base import Event
from shared.contracts.intake import INTAKE_EVENTS
from shared.contracts.placement import PLACEMENT_EVENTS
from shared.contracts.procedure import PROCEDURE_EVENTS
from shared.contracts.registry import (
    EventRegistry,
    UndecodablePayload,
    UnknownEventType,
    UnsupportedSchemaVersion,
)
from shared.contracts.repatriation import RETURN_EVENTS

ALL_EVENTS: tuple[type[Event], ...] = INTAKE_EVENTS + PLACEMENT_EVENTS + PROCEDURE_EVENTS + RETURN_EVENTS


def chain_registry() -> EventRegistry:
    """A registry of every contract in the chain (upcasters are registered next to their events)."""
    return EventRegistry(ALL_EVENTS)


__all__ = [
    "ALL_EVENTS",
    "Event",
    "EventRegistry",
    "UndecodablePayload",
    "UnknownEventType",
    "UnsupportedSchemaVersion",
    "chain_registry",
]
