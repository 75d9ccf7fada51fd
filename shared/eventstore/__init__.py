"""Event store, unit of work and their tables (see each module for its contract)."""

from shared.eventstore.store import CommandContext, ConcurrencyConflict, EventStore, RecordedEvent
from shared.eventstore.unit_of_work import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "CommandContext",
    "ConcurrencyConflict",
    "EventStore",
    "RecordedEvent",
    "UnitOfWork",
    "UnitOfWorkFactory",
]
