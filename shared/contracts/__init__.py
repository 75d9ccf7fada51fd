"""Versioned integration contracts, one module per publishing service, and the chain-wide registry."""

from shared.contracts.base import Event
from shared.contracts.intake import INTAKE_EVENTS, INTAKE_UPCASTERS
from shared.contracts.placement import PLACEMENT_EVENTS, PLACEMENT_UPCASTERS
from shared.contracts.procedure import PROCEDURE_EVENTS, PROCEDURE_UPCASTERS
from shared.contracts.registry import (
    EventRegistry,
    UndecodablePayload,
    UnknownEventType,
    UnsupportedSchemaVersion,
)
from shared.contracts.repatriation import RETURN_EVENTS

ALL_EVENTS: tuple[type[Event], ...] = INTAKE_EVENTS + PLACEMENT_EVENTS + PROCEDURE_EVENTS + RETURN_EVENTS


def chain_registry() -> EventRegistry:
    """A registry of every contract in the chain, with the upcasters defined next to their events."""
    registry = EventRegistry(ALL_EVENTS)
    for type_name, from_version, upcaster in INTAKE_UPCASTERS + PLACEMENT_UPCASTERS + PROCEDURE_UPCASTERS:
        registry.register_upcaster(type_name, from_version, upcaster)
    return registry


__all__ = [
    "ALL_EVENTS",
    "Event",
    "EventRegistry",
    "UndecodablePayload",
    "UnknownEventType",
    "UnsupportedSchemaVersion",
    "chain_registry",
]
