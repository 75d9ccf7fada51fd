"""The read side: `uvicorn --factory history.entrypoints.app:create_app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from history.entrypoints.routes import router
from history.service_layer.residence import on_resident_placed_or_transferred
from shared.contracts.placement import ResidentPlaced, ResidentTransferred
from shared.runtime import ConsumerSpec, Runtime, ServiceDefinition, create_service_app
from shared.settings import ServiceSettings

EVENT_TOPICS = ["intake.events", "placement.events", "procedure.events", "return.events"]


def consumers(_runtime: Runtime) -> list[ConsumerSpec]:
    return [
        ConsumerSpec(
            name="history",
            topics=EVENT_TOPICS,
            handlers={
                ResidentPlaced: on_resident_placed_or_transferred,
                ResidentTransferred: on_resident_placed_or_transferred,
            },
        )
    ]


DEFINITION = ServiceDefinition(
    name="history",
    title="asielketen history (read side)",
    description="Residence history per person, rebuilt from every agency's events on Kafka. Read-only.",
    migrations=Path(__file__).resolve().parent.parent / "adapters" / "migrations",
    routers=[router],
    consumers=consumers,
    publishes=False,
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings)
