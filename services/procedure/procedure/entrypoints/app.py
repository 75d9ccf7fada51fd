"""The procedure service: `uvicorn --factory procedure.entrypoints.app:create_app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from procedure.entrypoints import decision_routes, routes
from procedure.entrypoints.deadlines import deadlines
from procedure.entrypoints.reactions import consumers
from shared.clock import Clock
from shared.runtime import ServiceDefinition, create_service_app
from shared.settings import ServiceSettings

DEFINITION = ServiceDefinition(
    name="procedure",
    title="asielketen procedure",
    description="The IND asylum procedure: application, track, reception stream, rest and preparation "
    "period, hearings, intended decision and view, extended procedure, Dublin claims, decision, appeal, "
    "finality and permit. Reacts to intake; publishes outcome codes on `procedure.events`.",
    migrations=Path(__file__).resolve().parent.parent / "adapters" / "migrations",
    routers=[routes.router, routes.commands, decision_routes.router],
    consumers=consumers,
    deadlines=deadlines,
    openapi_tags=[
        {"name": "applications", "description": "The application and the steps up to the hearings"},
        {"name": "decision", "description": "Intended decision, view, decision, appeal and ruling"},
    ],
)


def create_app(settings: ServiceSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings, clock)
