"""The intake service: `uvicorn --factory intake.entrypoints.app:create_app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from intake.entrypoints.routes import router
from shared.runtime import ServiceDefinition, create_service_app
from shared.settings import ServiceSettings

DEFINITION = ServiceDefinition(
    name="intake",
    title="asielketen intake",
    description="Registration of arrivals: IND pre-registration, AVIM identification and registration, "
    "COA arrival. Publishes households and persons on `intake.events`.",
    migrations=Path(__file__).resolve().parent.parent / "adapters" / "migrations",
    routers=[router],
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings)
