"""The departure period and the VBL stay end by themselves: the scheduler raises the fact at the
deadline's own time, once, not after a departure, and still after a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from repatriation.domain import return_case
from repatriation.domain.return_case import OpenReturnCase
from repatriation.entrypoints.app import create_app
from repatriation.service_layer import handlers
from shared.clock import ManualClock
from shared.contracts import Event
from shared.contracts.procedure import DecisionOutcome
from shared.contracts.repatriation import DeparturePeriodExpired, VblPeriodEnded
from shared.eventstore import CommandContext
from shared.ids import new_id
from shared.runtime import Runtime
from shared.scheduler import DeadlineScheduler
from shared.settings import ServiceSettings
from tests.fixtures import MintToken

FINAL = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
DEADLINE = FINAL + timedelta(days=28)
NOW = FINAL + timedelta(days=2)

Started = Callable[[], AbstractAsyncContextManager[FastAPI]]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def started(tmp_path: Path, auth_dir: Path, clock: ManualClock) -> Started:
    """Starts the service on one database file; each call is a fresh process, as after a restart."""
    settings = ServiceSettings(
        service="return",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/r.db",
        kafka_bootstrap_servers="127.0.0.1:9",
        kafka_create_topics=False,
        auth_jwks_path=auth_dir / "jwks.json",
        environment="test",
    )

    @asynccontextmanager
    async def start() -> AsyncIterator[FastAPI]:
        app = create_app(settings, clock=clock)
        async with app.router.lifespan_context(app):
            yield app

    return start


def runtime_of(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


def scheduler_of(app: FastAPI) -> DeadlineScheduler:
    deadlines = runtime_of(app).scheduler
    assert deadlines is not None, "the return service schedules deadlines"
    return deadlines


async def open_case(app: FastAPI) -> str:
    async with runtime_of(app).units_of_work() as uow:
        state = await handlers.open_case(
            uow,
            OpenReturnCase(
                household_id=new_id(),
                application_id=new_id(),
                person_ids=(new_id(),),
                outcome=DecisionOutcome.REJECTED_MANIFESTLY_UNFOUNDED,
                departure_deadline=DEADLINE,
                occurred_at=FINAL,
            ),
            CommandContext(actor="IND:test", correlation_id=new_id()),
        )
        await uow.commit()
    assert state is not None
    return state.case_id


async def facts(app: FastAPI, case_id: str, kind: type[Event]) -> list[Event]:
    async with runtime_of(app).units_of_work() as uow:
        recorded = await uow.events.read_stream(return_case.stream_id(case_id))
    return [r.event for r in recorded if isinstance(r.event, kind)]


async def call(
    app: FastAPI, token: str, method: str, path: str, body: dict[str, object] | None = None
) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://return") as client:
        return await client.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})


async def test_the_departure_period_expires_at_its_deadline_once(
    started: Started, clock: ManualClock, token_for: MintToken
) -> None:
    async with started() as app:
        case_id = await open_case(app)
        assert await scheduler_of(app).fire_due() == 0  # not yet due
        clock.advance(DEADLINE - NOW + timedelta(hours=5))  # noticed five hours late
        await scheduler_of(app).fire_due()
        assert await scheduler_of(app).fire_due() == 0  # fired already: never twice
        (expired,) = await facts(app, case_id, DeparturePeriodExpired)
        assert expired.occurred_at == DEADLINE  # the valid time is the deadline, not the poll
        body = (await call(app, token_for("DTV"), "GET", f"/v1/return-cases/{case_id}")).json()
        assert body["departurePeriodExpired"] is True
        assert body["departurePeriodExpiredAt"] == DEADLINE.isoformat().replace("+00:00", "Z")


async def test_a_departure_before_the_deadline_cancels_it(
    started: Started, clock: ManualClock, token_for: MintToken
) -> None:
    async with started() as app:
        case_id = await open_case(app)
        path = f"/v1/return-cases/{case_id}/departure"
        left = await call(app, token_for("DTV"), "POST", path, {"departureType": "independent"})
        assert left.status_code == 200
        clock.advance(timedelta(days=60))
        assert await scheduler_of(app).fire_due() == 0
        assert await facts(app, case_id, DeparturePeriodExpired) == []


async def test_a_restarted_service_still_fires_a_deadline_that_came_while_it_was_down(
    started: Started, clock: ManualClock
) -> None:
    async with started() as app:
        case_id = await open_case(app)
    clock.advance(timedelta(days=30))  # the deadline passes while nothing runs
    async with started() as app:
        await scheduler_of(app).fire_due()
        (expired,) = await facts(app, case_id, DeparturePeriodExpired)
        assert expired.occurred_at == DEADLINE


async def test_a_vbl_stay_ends_at_its_until(
    started: Started, clock: ManualClock, token_for: MintToken
) -> None:
    async with started() as app:
        case_id = await open_case(app)
        until = NOW + timedelta(weeks=8)
        path = f"/v1/return-cases/{case_id}/local-chain-decision"
        taken = await call(app, token_for("DTV"), "POST", path, {"option": "vbl", "until": until.isoformat()})
        assert taken.status_code == 200
        clock.advance(timedelta(weeks=9))
        await scheduler_of(app).fire_due()
        (ended,) = await facts(app, case_id, VblPeriodEnded)
        assert ended.occurred_at == until
        (expired,) = await facts(app, case_id, DeparturePeriodExpired)  # the earlier deadline fired too
        assert expired.occurred_at == DEADLINE
