"""The placement service: `uvicorn --factory placement.entrypoints.app:create_app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from placement.entrypoints.reactions import SYSTEM_ACTOR, consumers
from placement.entrypoints.routes import router
from placement.service_layer import handlers
from shared.eventstore import CommandContext
from shared.ids import new_id
from shared.runtime import Runtime, ServiceDefinition, create_service_app
from shared.settings import ServiceSettings


async def seed_locations(runtime: Runtime) -> None:
    async with runtime.units_of_work() as uow:
        await handlers.seed_locations(uow, CommandContext(actor=SYSTEM_ACTOR, correlation_id=new_id()))


DEFINITION = ServiceDefinition(
    name="placement",
    title="asielketen placement",
    description="COA reception: locations and capacity, placements, transfers, municipality linking. "
    "Reacts to intake and procedure; publishes on `placement.events`.",
    migrations=Path(__file__).resolve().parent.parent / "adapters" / "migrations",
    routers=[router],
    consumers=consumers,
    on_start=seed_locations,
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings)
