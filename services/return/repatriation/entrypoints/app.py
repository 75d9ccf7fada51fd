"""The return service: `uvicorn --factory repatriation.entrypoints.app:create_app`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from fastapi import FastAPI

from repatriation.domain.deadlines import DEPARTURE_PERIOD_EXPIRED, VBL_PERIOD_ENDED
from repatriation.entrypoints.commands import router as commands_router
from repatriation.entrypoints.reactions import consumers
from repatriation.entrypoints.routes import router
from repatriation.service_layer import handlers
from shared.clock import Clock
from shared.runtime import Runtime, ServiceDefinition, create_service_app
from shared.scheduler import DeadlineHandler
from shared.settings import ServiceSettings


def deadlines(_runtime: Runtime) -> Mapping[str, DeadlineHandler]:
    """The deadlines the scheduler fires for this service, by kind (key: the case id)."""
    return {
        DEPARTURE_PERIOD_EXPIRED: handlers.departure_period_expired,
        VBL_PERIOD_ENDED: handlers.vbl_period_ended,
    }


DEFINITION = ServiceDefinition(
    name="return",
    title="asielketen return (DT&V)",
    description="Return cases after a final rejection: departure interviews, the local chain decision, "
    "the departure period and VBL deadlines, departures and Dublin transfers. Reacts to intake and "
    "procedure; publishes on `return.events`.",
    migrations=Path(__file__).resolve().parent.parent / "adapters" / "migrations",
    routers=[router, commands_router],
    consumers=consumers,
    deadlines=deadlines,
)


def create_app(settings: ServiceSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings, clock)
