"""Fixtures for procedure's HTTP and deadline tests: the app in-process on an SQLite file, with a
manual clock the test moves, an HTTP client, and applications lodged through the service layer (in
production lodging is a reaction to intake's HouseholdRegistered).

A plugin module, loaded by `pytest_plugins` in the test modules that use it, rather than a
conftest.py: mypy names files here after `services/procedure`, so a conftest.py here would be a second
`tests.conftest` beside the root one and stop the whole type check."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from procedure.domain.application import stream_id
from procedure.domain.commands import LodgeApplication
from procedure.entrypoints.app import create_app
from procedure.service_layer import handlers
from shared.clock import ManualClock
from shared.eventstore import CommandContext, RecordedEvent
from shared.ids import new_id
from shared.runtime import Runtime
from shared.settings import ServiceSettings
from tests.fixtures import MintToken

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def settings(tmp_path: Path, auth_dir: Path) -> ServiceSettings:
    return ServiceSettings(
        service="procedure",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/p.db",
        kafka_bootstrap_servers="127.0.0.1:9",
        kafka_create_topics=False,
        auth_jwks_path=auth_dir / "jwks.json",
        environment="test",
    )


@pytest.fixture
async def app(settings: ServiceSettings, clock: ManualClock) -> AsyncIterator[FastAPI]:
    service = create_app(settings, clock=clock)
    async with service.router.lifespan_context(service):
        yield service


@pytest.fixture
async def client(app: FastAPI, token_for: MintToken) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://procedure",
        headers={"Authorization": f"Bearer {token_for('IND')}"},
    ) as http:
        yield http


async def lodge_in(runtime: Runtime, at: datetime, people: int = 1) -> str:
    household_id = new_id()
    command = LodgeApplication(
        household_id=household_id, person_ids=tuple(new_id() for _ in range(people)), occurred_at=at
    )
    async with runtime.units_of_work() as uow:
        state = await handlers.lodge(uow, command, CommandContext(actor="IND:test", correlation_id=new_id()))
    return state.application_id


Lodge = Callable[..., Awaitable[str]]


@pytest.fixture
def lodge(app: FastAPI, clock: ManualClock) -> Lodge:
    """`await lodge()` → the id of a new application, lodged now (or `at=`), with `people` members."""

    async def make(at: datetime | None = None, people: int = 1) -> str:
        return await lodge_in(app.state.runtime, at or clock.now(), people)

    return make


Post = Callable[..., Awaitable[dict[str, object]]]


@pytest.fixture
def post(client: httpx.AsyncClient) -> Post:
    """`await post(application_id, "track", {"track": "4-general"}, status=200)` → the response body,
    after checking the status (and the problem+json type of an error)."""

    async def send(
        application_id: str,
        path: str,
        body: dict[str, object] | None = None,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> dict[str, object]:
        response = await client.post(
            f"/v1/applications/{application_id}/{path}", json=body, headers=headers or {}
        )
        assert response.status_code == status, response.text
        if status >= 400:
            assert response.headers["content-type"] == "application/problem+json"
        result: dict[str, object] = response.json()
        return result

    return send


@pytest.fixture
def prepared(lodge: Lodge, post: Post) -> Lodge:
    """`await prepared("rejected-manifestly-unfounded")` → a track-2 application, accelerated, heard,
    with that intended decision issued (or none for `None`): ready for the decision."""

    async def make(intended: str | None = "rejected-manifestly-unfounded", people: int = 1) -> str:
        application_id = await lodge(people=people)
        await post(application_id, "track", {"track": "2-safe-country-or-protected"})
        await post(
            application_id, "reception-stream", {"stream": "accelerated", "ground": "safe-country-of-origin"}
        )
        await post(application_id, "hearings", {"kind": "registration", "site": "on-location"})
        if intended is not None:
            await post(application_id, "intended-decision", {"intendedOutcome": intended})
        return application_id

    return make


Recorded = Callable[[str], Awaitable[list[RecordedEvent]]]


@pytest.fixture
def recorded(app: FastAPI) -> Recorded:
    """`await recorded(application_id)` → the application's stream as stored (envelopes and events)."""

    async def read(application_id: str) -> list[RecordedEvent]:
        runtime: Runtime = app.state.runtime
        async with runtime.units_of_work() as uow:
            return await uow.events.read_stream(stream_id(application_id))

    return read
