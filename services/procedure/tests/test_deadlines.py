"""The "decision-final" deadline: a negative decision schedules it at its appeal deadline, an appeal
cancels it, and when it passes the decision becomes final at the deadline itself (not when the poll
noticed), once, also after a restart."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from procedure.domain.application import stream_id
from procedure.domain.commands import LodgeApplication
from procedure.domain.decision import DECISION_FINAL
from procedure.entrypoints.app import create_app
from procedure.service_layer import handlers
from shared import scheduler
from shared.clock import ManualClock
from shared.contracts.procedure import DecisionBecameFinal, DecisionIssued
from shared.eventstore import CommandContext
from shared.ids import new_id
from shared.runtime import Runtime
from shared.settings import ServiceSettings
from tests.fixtures import MintToken, eventually

pytest_plugins = ["services.procedure.tests.procedure_fixtures"]
Fixture = Any  # the callables procedure_fixtures hands out (lodge, post, prepared, recorded)


def runtime_of(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


async def pending(app: FastAPI, application_id: str) -> scheduler.Deadline | None:
    async with runtime_of(app).units_of_work() as uow:
        return await scheduler.pending(uow.session, DECISION_FINAL, application_id)


async def fire_due(app: FastAPI) -> None:
    deadlines = runtime_of(app).scheduler
    assert deadlines is not None  # procedure declares its deadlines, so the runtime runs a scheduler
    await deadlines.fire_due()


async def finals(recorded: Fixture, application_id: str) -> list[Any]:
    return [r for r in await recorded(application_id) if isinstance(r.event, DecisionBecameFinal)]


async def test_a_negative_decision_becomes_final_at_its_appeal_deadline(
    app: FastAPI, clock: ManualClock, prepared: Fixture, post: Fixture, recorded: Fixture
) -> None:
    application_id = await prepared("rejected-unfounded", people=2)
    decided = await post(application_id, "decision", {"outcome": "rejected-unfounded"})
    due = datetime.fromisoformat(str(decided["decision"]["appealDeadline"]))
    scheduled = await pending(app, application_id)
    assert scheduled is not None and scheduled.due_at == due
    # not before its time
    clock.current = due - timedelta(seconds=1)
    await fire_due(app)
    assert await finals(recorded, application_id) == []
    # when the clock passes the deadline (and the poll comes late)
    clock.current = due + timedelta(hours=5)
    await fire_due(app)
    # then the decision is final at the deadline, and the departure period (28 days) runs from there
    [final] = await finals(recorded, application_id)
    assert final.event.occurred_at == due
    assert final.event.departure_deadline == due + timedelta(days=28)
    assert final.event.outcome.value == "rejected-unfounded" and len(final.event.person_ids) == 2
    decision = next(r for r in await recorded(application_id) if isinstance(r.event, DecisionIssued))
    assert final.envelope.correlationid == decision.envelope.correlationid
    assert final.envelope.causationid == decision.envelope.id
    assert final.envelope.actor == "IND:procedure-service"
    assert await pending(app, application_id) is None
    # firing again emits nothing more
    await fire_due(app)
    clock.advance(timedelta(days=30))
    await fire_due(app)
    assert len(await finals(recorded, application_id)) == 1
    late = await post(application_id, "appeal", {"suspensive": True}, status=409)
    assert late["code"] in {"decision-final", "appeal-period-expired"}


async def test_a_grant_schedules_nothing(app: FastAPI, prepared: Fixture, post: Fixture) -> None:
    application_id = await prepared(None)
    await post(application_id, "decision", {"outcome": "granted"})
    assert await pending(app, application_id) is None


async def test_an_appeal_cancels_the_deadline(
    app: FastAPI, clock: ManualClock, prepared: Fixture, post: Fixture, recorded: Fixture
) -> None:
    application_id = await prepared()
    await post(application_id, "decision", {"outcome": "rejected-manifestly-unfounded"})
    assert await pending(app, application_id) is not None
    clock.advance(timedelta(days=2))
    await post(application_id, "appeal", {"suspensive": True})
    assert await pending(app, application_id) is None
    clock.advance(timedelta(days=30))
    await fire_due(app)
    assert await finals(recorded, application_id) == []


async def test_a_new_negative_decision_after_annulment_schedules_its_own_deadline(
    app: FastAPI, clock: ManualClock, prepared: Fixture, post: Fixture
) -> None:
    application_id = await prepared()
    await post(application_id, "decision", {"outcome": "rejected-manifestly-unfounded"})
    await post(application_id, "appeal", {"suspensive": True})
    clock.advance(timedelta(days=60))
    await post(application_id, "appeal-ruling", {"outcome": "well-founded"})
    assert await pending(app, application_id) is None
    await post(application_id, "intended-decision", {"intendedOutcome": "rejected-unfounded"})
    redecided = await post(application_id, "decision", {"outcome": "rejected-unfounded"})
    scheduled = await pending(app, application_id)
    assert scheduled is not None
    assert scheduled.due_at == datetime.fromisoformat(redecided["decision"]["appealDeadline"])
    assert scheduled.due_at == clock.now() + timedelta(days=7)


async def test_the_service_fires_due_deadlines_by_itself(
    app: FastAPI, clock: ManualClock, prepared: Fixture, post: Fixture, recorded: Fixture
) -> None:
    application_id = await prepared()
    await post(application_id, "decision", {"outcome": "inadmissible"})
    clock.advance(timedelta(days=8))

    async def final_recorded() -> bool:
        return len(await finals(recorded, application_id)) == 1

    await eventually(final_recorded, timeout=10, what="the scheduler's own poll to fire the deadline")


async def test_a_due_deadline_still_fires_after_a_restart(
    settings: ServiceSettings, clock: ManualClock, token_for: MintToken
) -> None:
    # given a negative decision taken by one run of the service
    first = create_app(settings, clock=clock)
    async with first.router.lifespan_context(first):
        async with runtime_of(first).units_of_work() as uow:
            lodged = await handlers.lodge(
                uow,
                LodgeApplication(household_id=new_id(), person_ids=(new_id(),), occurred_at=clock.now()),
                CommandContext(actor="IND:test", correlation_id=new_id()),
            )
        application_id = lodged.application_id
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=first),
            base_url="http://procedure",
            headers={"Authorization": f"Bearer {token_for('IND')}"},
        ) as client:
            base = f"/v1/applications/{application_id}"
            for path, body in [
                ("track", {"track": "1-dublin"}),
                ("reception-stream", {"stream": "not-accelerated"}),
                ("hearings", {"kind": "registration", "site": "on-location"}),
                ("intended-decision", {"intendedOutcome": "inadmissible"}),
                ("decision", {"outcome": "inadmissible"}),
            ]:
                response = await client.post(f"{base}/{path}", json=body)
                assert response.status_code == 200, response.text
        due = response.json()["decision"]["appealDeadline"]
    # when the service is down while the deadline passes, and starts again
    clock.advance(timedelta(days=10))
    second = create_app(settings, clock=clock)
    async with second.router.lifespan_context(second):
        await fire_due(second)
        async with runtime_of(second).units_of_work() as uow:
            stream = await uow.events.read_stream(stream_id(application_id))
    # then the decision became final, at the deadline
    [final] = [r.event for r in stream if isinstance(r.event, DecisionBecameFinal)]
    assert final.occurred_at == datetime.fromisoformat(due)
