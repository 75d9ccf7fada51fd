"""Helpers for intake's privacy tests: the service in-process with a vault key (and, when asked, a
clock and retention periods), and the steps that bring a person to identification."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from intake.entrypoints.app import create_app
from shared.clock import Clock
from shared.runtime import Runtime
from shared.settings import IntakeSettings
from tests.fixtures import MintToken
from tests.helpers import VAULT_TEST_KEY

V_NUMBER = "4817263590"
GIVEN_NAMES = "Zerihun Tesfay"
FAMILY_NAME = "Gebremariam"
DATE_OF_BIRTH = "1987-11-23"
PASSPORT = "EP9137264"
IDENTIFICATION: dict[str, Any] = {
    "vNumber": V_NUMBER,
    "givenNames": GIVEN_NAMES,
    "familyName": FAMILY_NAME,
    "dateOfBirth": DATE_OF_BIRTH,
    "documents": [{"kind": "passport", "number": PASSPORT, "issuingCountry": "ERI"}],
    "biometricsCaptured": True,
    "documentsRetained": 1,
}
PERSONAL = (V_NUMBER, GIVEN_NAMES, FAMILY_NAME, DATE_OF_BIRTH, PASSPORT)
ERASURE = {"ground": "erasure-request", "legalBasis": "AVG art. 17 lid 1 onder a; verzoek 2026-0042"}


def intake_settings(tmp_path: Path, auth_dir: Path, **overrides: Any) -> IntakeSettings:
    values: dict[str, Any] = {
        "service": "intake",
        "vault_master_key": VAULT_TEST_KEY,
        "database_url": f"sqlite+aiosqlite:///{tmp_path}/intake.db",
        "kafka_bootstrap_servers": "127.0.0.1:9",
        "kafka_create_topics": False,
        "auth_jwks_path": auth_dir / "jwks.json",
        "environment": "test",
    }
    values.update(overrides)
    return IntakeSettings(**values)


@asynccontextmanager
async def running_intake(settings: IntakeSettings, clock: Clock | None = None) -> AsyncIterator[FastAPI]:
    app = create_app(settings, clock)
    async with app.router.lifespan_context(app):
        yield app


def runtime_of(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


class Agencies:
    """The intake API as each agency calls it."""

    def __init__(self, app: FastAPI, token_for: MintToken) -> None:
        self.app = app
        self._token_for = token_for

    async def call(self, agency: str, method: str, path: str, body: Any = None) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            headers = {"Authorization": f"Bearer {self._token_for(agency)}"}
            return await client.request(method, path, json=body, headers=headers)

    async def identified_person(self, identification: dict[str, Any] | None = None) -> str:
        """Register a one-adult household, pre-register it, identify the adult; the person id."""
        body = {
            "channel": "ter-apel",
            "arrivalGroup": "first-application",
            "members": [{"role": "adult", "relation": "head", "birthYear": 1987, "nationality": "ERI"}],
        }
        created = await self.call("IND", "POST", "/v1/households", body)
        assert created.status_code == 201, created.text
        household_id = created.json()["householdId"]
        person_id: str = created.json()["members"][0]["personId"]
        pre = await self.call(
            "IND", "POST", f"/v1/households/{household_id}/pre-registration", {"language": "ti"}
        )
        assert pre.status_code == 200, pre.text
        identified = await self.call(
            "AVIM", "POST", f"/v1/persons/{person_id}/identification", identification or IDENTIFICATION
        )
        assert identified.status_code == 200, identified.text
        return person_id


async def every_row(app: FastAPI) -> str:
    """Every row of every table of intake's database, as text (bytes as hex)."""
    async with runtime_of(app).engine.connect() as connection:
        names = [
            n for (n,) in await connection.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
        ]
        dumps = [repr((await connection.execute(text(f'SELECT * FROM "{name}"'))).all()) for name in names]
    return "\n".join(dumps)


def absent(needle: str, haystack: str) -> bool:
    """Neither the text nor its bytes in hex (how a binary column prints) is in `haystack`."""
    return needle not in haystack and needle.encode().hex() not in haystack
