"""The read side: `uvicorn --factory history.entrypoints.app:create_app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from history.entrypoints.dashboard import router as dashboard_router
from history.entrypoints.routes import router
from history.entrypoints.statistics_routes import router as statistics_router
from history.service_layer.moves import on_household_registered
from history.service_layer.occupancy import on_location_fact
from history.service_layer.residence import on_placement_fact
from history.service_layer.timeline import on_any_fact
from shared.consumer import ConsumedEvent, Handler
from shared.contracts import ALL_EVENTS, Event
from shared.contracts.intake import HouseholdRegistered
from shared.contracts.placement import (
    LocationCapacityChanged,
    LocationClosed,
    LocationRegistered,
    ResidentLeftReception,
    ResidentPlaced,
    ResidentTransferCorrected,
    ResidentTransferred,
)
from shared.eventstore import UnitOfWork
from shared.runtime import ConsumerSpec, Runtime, ServiceDefinition, create_service_app
from shared.settings import ServiceSettings

EVENT_TOPICS = ["intake.events", "placement.events", "procedure.events", "return.events"]


def _in_turn(*handlers: Handler) -> Handler:
    async def run(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
        for handler in handlers:
            await handler(uow, consumed)

    return run


def all_handlers() -> dict[type[Event], Handler]:
    """What the read side does with each fact (also used by `asielketen rebuild`)."""
    handlers: dict[type[Event], Handler] = {model: on_any_fact for model in ALL_EVENTS}
    for model in (ResidentPlaced, ResidentTransferred, ResidentLeftReception, ResidentTransferCorrected):
        handlers[model] = _in_turn(on_placement_fact, on_any_fact)
    handlers[HouseholdRegistered] = _in_turn(on_household_registered, on_any_fact)
    for location_model in (LocationRegistered, LocationCapacityChanged, LocationClosed):
        handlers[location_model] = _in_turn(on_location_fact, on_any_fact)
    return handlers


def consumers(_runtime: Runtime) -> list[ConsumerSpec]:
    handlers = all_handlers()
    return [ConsumerSpec(name="history", topics=EVENT_TOPICS, handlers=handlers)]


DEFINITION = ServiceDefinition(
    name="history",
    title="asielketen history (read side)",
    description="Residence history per person, rebuilt from every agency's events on Kafka. Read-only.",
    migrations=Path(__file__).resolve().parent.parent / "adapters" / "migrations",
    routers=[router, statistics_router, dashboard_router],
    consumers=consumers,
    publishes=False,
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings)
