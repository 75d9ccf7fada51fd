"""At the HTTP edge: a command that loses a race for the same application gets 409, one sent with a
stale If-Match gets 412, and in both cases nothing of the losing command is written.

On PostgreSQL, where writers really run concurrently (on SQLite every transaction holds the write lock
from its start, so two commands cannot interleave at all)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import httpx
import pytest
from fastapi import FastAPI

from procedure.domain import preparation
from procedure.domain.commands import DetermineReceptionStream, LodgeApplication
from procedure.entrypoints.app import create_app
from procedure.service_layer import handlers
from shared.contracts.procedure import AcceleratedGround, ReceptionStream
from shared.eventstore import CommandContext, EventStore, UnitOfWork, UnitOfWorkFactory
from shared.ids import new_id
from shared.runtime import Runtime
from shared.settings import ServiceSettings
from tests.fixtures import MintToken, NewDatabase

SYSTEM = CommandContext(actor="IND:test", correlation_id=new_id())


@pytest.fixture
async def app(new_postgres_database: NewDatabase, auth_dir: Path) -> AsyncIterator[FastAPI]:
    settings = ServiceSettings(
        service="procedure",
        database_url=await new_postgres_database("procedure"),
        kafka_bootstrap_servers="127.0.0.1:9",
        kafka_create_topics=False,
        auth_jwks_path=auth_dir / "jwks.json",
        environment="test",
    )
    service = create_app(settings)
    async with service.router.lifespan_context(service):
        yield service


async def _lodged(runtime: Runtime) -> str:
    household_id = new_id()
    async with runtime.units_of_work() as uow:
        state = await handlers.lodge(
            uow,
            LodgeApplication(
                household_id=household_id, person_ids=(new_id(),), occurred_at=datetime.now(UTC)
            ),
            SYSTEM,
        )
    return state.application_id


class _CompetitorFirst(UnitOfWork):
    """A unit of work whose appends are each preceded by another writer's committed append."""

    async def __aenter__(self) -> UnitOfWork:
        await super().__aenter__()
        real = self.events
        outer = self

        class Racing(EventStore):
            async def append(self, stream_id, expected_version, new_events, context):  # type: ignore[no-untyped-def]
                async with UnitOfWork(
                    outer._sessions, outer._registry, source=outer._source, topic=outer._topic
                ) as rival:
                    state = (await handlers.load(rival, stream_id.removeprefix("application-"))).state
                    assert state is not None
                    await rival.events.append(
                        stream_id,
                        expected_version,
                        preparation.determine_stream(
                            state,
                            DetermineReceptionStream(
                                stream=ReceptionStream.NOT_ACCELERATED,
                                ground=None,
                                occurred_at=datetime.now(UTC),
                            ),
                        ),
                        SYSTEM,
                    )
                    await rival.commit()
                return await real.append(stream_id, expected_version, new_events, context)

        self._events = Racing(self.session, self._registry, source=self._source, topic=self._topic)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await super().__aexit__(exc_type, exc, tb)


class _CompetitorFirstFactory(UnitOfWorkFactory):
    def __call__(self) -> UnitOfWork:
        return _CompetitorFirst(self.sessions, self.registry, source=self.source, topic=self.topic)


async def test_a_command_that_loses_the_race_gets_409_and_writes_nothing(
    app: FastAPI, token_for: MintToken
) -> None:
    runtime: Runtime = app.state.runtime
    application_id = await _lodged(runtime)
    factory = runtime.units_of_work
    runtime.units_of_work = _CompetitorFirstFactory(
        factory.sessions, factory.registry, source=factory.source, topic=factory.topic
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://procedure"
    ) as client:
        response = await client.post(
            f"/v1/applications/{application_id}/reception-stream",
            json={"stream": "accelerated", "ground": AcceleratedGround.SAFE_COUNTRY_OF_ORIGIN.value},
            headers={"Authorization": f"Bearer {token_for('IND')}"},
        )
    runtime.units_of_work = factory
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "concurrency-conflict"
    async with runtime.units_of_work() as uow:
        loaded = await handlers.load(uow, application_id)
    assert loaded.version == 2  # lodged + the rival's determination; the loser wrote nothing
    assert loaded.state is not None and loaded.state.stream is ReceptionStream.NOT_ACCELERATED


async def test_a_stale_if_match_gets_412_and_a_current_one_succeeds(
    app: FastAPI, token_for: MintToken
) -> None:
    application_id = await _lodged(app.state.runtime)
    headers = {"Authorization": f"Bearer {token_for('IND')}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://procedure"
    ) as client:
        read = await client.get(f"/v1/applications/{application_id}", headers=headers)
        assert read.headers["ETag"] == '"1"'
        stale = await client.post(
            f"/v1/applications/{application_id}/reception-stream",
            json={"stream": "not-accelerated"},
            headers={**headers, "If-Match": '"0"'},
        )
        assert stale.status_code == 412
        assert stale.json()["code"] == "precondition-failed"
        current = await client.post(
            f"/v1/applications/{application_id}/reception-stream",
            json={"stream": "not-accelerated"},
            headers={**headers, "If-Match": read.headers["ETag"]},
        )
        assert current.status_code == 200
        assert current.headers["ETag"] == '"2"'
