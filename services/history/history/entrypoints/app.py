"""The read side: `uvicorn --factory history.entrypoints.app:create_app`."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from fastapi import FastAPI

from history.domain.housing import HOUSING_EVENTS
from history.entrypoints.dashboard import router as dashboard_router
from history.entrypoints.housing_routes import router as housing_router
from history.entrypoints.routes import router
from history.entrypoints.statistics_routes import router as statistics_router
from history.service_layer.erasure import on_personal_data_erased
from history.service_layer.housing import on_housing_fact
from history.service_layer.moves import on_household_registered
from history.service_layer.occupancy import on_location_fact
from history.service_layer.residence import on_placement_fact
from history.service_layer.timeline import on_any_fact
from shared.consumer import ConsumedEvent, Handler
from shared.contracts import ALL_EVENTS, Event, chain_registry
from shared.contracts.intake import HouseholdRegistered, PersonalDataErased
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
    if len(handlers) == 1:
        return handlers[0]

    async def run(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
        for handler in handlers:
            await handler(uow, consumed)

    return run


def _model_handlers() -> dict[str, dict[type[Event], Handler]]:
    """Each read model and the handlers that write it. In this order they run on one event: the
    timeline last, as it reads the household members it (or an earlier event) recorded."""
    placement = (ResidentPlaced, ResidentTransferred, ResidentLeftReception, ResidentTransferCorrected)
    locations = (LocationRegistered, LocationCapacityChanged, LocationClosed)
    registry = chain_registry()

    async def on_erased(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
        await on_personal_data_erased(uow, consumed, registry)

    timeline: dict[type[Event], Handler] = {model: on_any_fact for model in ALL_EVENTS}
    # The erasure fact itself goes into the timeline too, after the personal fields are dropped.
    timeline[PersonalDataErased] = _in_turn(on_erased, on_any_fact)
    return {
        "residence": {model: on_placement_fact for model in placement},
        "locations": {model: on_location_fact for model in locations},
        "persons": {HouseholdRegistered: on_household_registered},
        # the municipality's housing view: registration (size), link to a municipality, permit
        "housing": {model: on_housing_fact for model in HOUSING_EVENTS},
        "timeline": timeline,  # with erased_persons: which persons' facts lose their personal fields
    }


READ_MODELS = tuple(_model_handlers())


def refuse_unknown_models(models: Collection[str]) -> None:
    unknown = set(models) - set(READ_MODELS)
    if unknown:
        known = ", ".join(READ_MODELS)
        raise ValueError(f"unknown read model(s) {', '.join(sorted(unknown))}; known: {known}")


def all_handlers(models: Collection[str] = READ_MODELS) -> dict[type[Event], Handler]:
    """What the read side does with each fact, for all read models or the ones named (also used by
    `asielketen rebuild`)."""
    refuse_unknown_models(models)
    per_type: dict[type[Event], list[Handler]] = {}
    for model, handlers in _model_handlers().items():
        if model in models:
            for event_type, handler in handlers.items():
                per_type.setdefault(event_type, []).append(handler)
    return {event_type: _in_turn(*handlers) for event_type, handlers in per_type.items()}


def consumers(_runtime: Runtime) -> list[ConsumerSpec]:
    handlers = all_handlers()
    return [ConsumerSpec(name="history", topics=EVENT_TOPICS, handlers=handlers, concurrent_partitions=True)]


DEFINITION = ServiceDefinition(
    name="history",
    title="asielketen history (read side)",
    description="Residence history per person, rebuilt from every agency's events on Kafka. Read-only.",
    migrations=Path(__file__).resolve().parent.parent / "adapters" / "migrations",
    routers=[router, statistics_router, housing_router, dashboard_router],
    consumers=consumers,
    publishes=False,
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings)
