"""The intake service: `uvicorn --factory intake.entrypoints.app:create_app`."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI

from intake.entrypoints import person_routes, routes
from shared.runtime import Runtime, ServiceDefinition, create_service_app
from shared.settings import ServiceSettings


async def keep_statement_parameters_out_of_logs(_runtime: Runtime) -> None:
    """aiosqlite logs every statement with its parameters at DEBUG, so LOG_LEVEL=DEBUG would write the
    vault's V-numbers into the log. Intake holds the vault: its database driver never logs below INFO."""
    driver = logging.getLogger("aiosqlite")
    driver.setLevel(max(driver.level, logging.INFO))  # its own level, so a DEBUG root does not reach it


DEFINITION = ServiceDefinition(
    name="intake",
    title="asielketen intake",
    description="Registration of arrivals: IND pre-registration, AVIM identification and registration, "
    "COA arrival. Publishes households and persons on `intake.events`; keeps V-numbers in its identity "
    "vault and never publishes them.",
    migrations=Path(__file__).resolve().parent.parent / "adapters" / "migrations",
    routers=[routes.router, person_routes.router],
    on_start=keep_statement_parameters_out_of_logs,
    openapi_tags=[
        {"name": "households", "description": "Registration and pre-registration of households"},
        {
            "name": "persons",
            "description": "Identification and registration, corrections, and finding a person by V-number",
        },
    ],
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings)
