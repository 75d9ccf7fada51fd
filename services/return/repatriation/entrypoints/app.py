"""The return service: `uvicorn --factory repatriation.entrypoints.app:create_app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from repatriation.entrypoints.reactions import consumers
from repatriation.entrypoints.routes import router
from shared.runtime import ServiceDefinition, create_service_app
from shared.settings import ServiceSettings

DEFINITION = ServiceDefinition(
    name="return",
    title="asielketen return (DT&V)",
    description="Return cases after a rejection. Reacts to procedure; publishes on `return.events`.",
    migrations=Path(__file__).resolve().parent.parent / "adapters" / "migrations",
    routers=[router],
    consumers=consumers,
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings)
