"""The placement service: `uvicorn --factory placement.entrypoints.app:create_app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from placement.entrypoints import location_routes, reception_routes
from placement.entrypoints.reactions import SYSTEM_ACTOR, consumers
from placement.service_layer import locations as location_service
from shared.clock import Clock
from shared.eventstore import CommandContext
from shared.ids import new_id
from shared.runtime import Runtime, ServiceDefinition, create_service_app
from shared.settings import ServiceSettings


async def seed_locations(runtime: Runtime) -> None:
    async with runtime.units_of_work() as uow:
        await location_service.seed_locations(
            uow, CommandContext(actor=SYSTEM_ACTOR, correlation_id=new_id())
        )


DEFINITION = ServiceDefinition(
    name="placement",
    title="asielketen placement",
    description="COA reception: locations and capacity, placements and transfers under the 2024 "
    "Uitvoeringsagenda's rules (one process move; htl and ibo from the main forms; children near no open "
    "water and moved by force at most once), closures, recommendations, municipality linking and the end "
    "of reception. Reacts to intake, procedure and return; publishes on `placement.events`.",
    migrations=Path(__file__).resolve().parent.parent / "adapters" / "migrations",
    routers=[location_routes.router, reception_routes.router],
    consumers=consumers,
    on_start=seed_locations,
)


def create_app(settings: ServiceSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings, clock)
