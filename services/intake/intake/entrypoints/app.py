"""The intake service: `uvicorn --factory intake.entrypoints.app:create_app`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from fastapi import FastAPI

from intake.entrypoints import person_routes, privacy_routes, routes
from intake.entrypoints.privacy_routes import privacy_from
from intake.service_layer.privacy import RETENTION, retention_handler, seal_legacy_vault
from shared.clock import Clock
from shared.runtime import Runtime, ServiceDefinition, create_service_app
from shared.scheduler import DeadlineHandler
from shared.settings import IntakeSettings


async def on_start(runtime: Runtime) -> None:
    keep_statement_parameters_out_of_logs()
    async with runtime.units_of_work() as uow:
        await seal_legacy_vault(uow, privacy_from(runtime))


def keep_statement_parameters_out_of_logs() -> None:
    """aiosqlite logs every statement with its parameters at DEBUG, so LOG_LEVEL=DEBUG would write the
    vault's ciphertexts and blind indexes into the log. Intake holds the vault: its database driver
    never logs below INFO."""
    driver = logging.getLogger("aiosqlite")
    driver.setLevel(max(driver.level, logging.INFO))  # its own level, so a DEBUG root does not reach it


def deadlines(runtime: Runtime) -> Mapping[str, DeadlineHandler]:
    """The retention job: each category of a person's vault data is erased when its period ends."""
    return {RETENTION: retention_handler(privacy_from(runtime))}


DEFINITION = ServiceDefinition(
    name="intake",
    title="asielketen intake",
    description="Registration of arrivals: IND pre-registration, AVIM identification and registration, "
    "COA arrival. Publishes households and persons on `intake.events`; keeps V-numbers, names, dates of "
    "birth and document references in its identity vault, encrypted with a key per person, and never "
    "publishes them in the clear. Erasure deletes the person's key.",
    migrations=Path(__file__).resolve().parent.parent / "adapters" / "migrations",
    routers=[routes.router, person_routes.router, privacy_routes.router],
    on_start=on_start,
    deadlines=deadlines,
    settings=IntakeSettings.load,
    openapi_tags=[
        {"name": "households", "description": "Registration and pre-registration of households"},
        {
            "name": "persons",
            "description": "Identification and registration, corrections, and finding a person by V-number",
        },
        {
            "name": "privacy",
            "description": "Reading the identity vault (logged), opening sealed fields, erasure and the "
            "erasure register",
        },
    ],
)


def create_app(settings: IntakeSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings, clock)
