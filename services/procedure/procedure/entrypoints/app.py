"""The procedure service: `uvicorn --factory procedure.entrypoints.app:create_app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from procedure.entrypoints.reactions import consumers
from procedure.entrypoints.routes import router
from shared.runtime import ServiceDefinition, create_service_app
from shared.settings import ServiceSettings

DEFINITION = ServiceDefinition(
    name="procedure",
    title="asielketen procedure",
    description="The IND asylum procedure: application, reception stream, decision. Reacts to intake; "
    "publishes outcome codes on `procedure.events`.",
    migrations=Path(__file__).resolve().parent.parent / "adapters" / "migrations",
    routers=[router],
    consumers=consumers,
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings)
