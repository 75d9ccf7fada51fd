"""The return service over HTTP, in-process: every command with its rule, the whole case with its ETag,
If-Match, and "now" from the service's clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from repatriation.domain.deadlines import DEPARTURE_PERIOD_EXPIRED, VBL_PERIOD_ENDED
from repatriation.domain.return_case import OpenReturnCase
from repatriation.entrypoints.app import create_app
from repatriation.service_layer import handlers
from shared import scheduler
from shared.clock import ManualClock
from shared.contracts.intake import MemberRole
from shared.contracts.procedure import DecisionOutcome
from shared.eventstore import CommandContext
from shared.ids import new_id
from shared.runtime import Runtime
from shared.settings import ServiceSettings
from tests.fixtures import MintToken

FINAL = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
DEADLINE = FINAL + timedelta(days=28)
NOW = FINAL + timedelta(days=2)


@dataclass
class Service:
    app: FastAPI
    client: httpx.AsyncClient

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime


@pytest.fixture
async def service(tmp_path: Path, auth_dir: Path, token_for: MintToken) -> AsyncIterator[Service]:
    settings = ServiceSettings(
        service="return",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/r.db",
        kafka_bootstrap_servers="127.0.0.1:9",
        kafka_create_topics=False,
        auth_jwks_path=auth_dir / "jwks.json",
        environment="test",
    )
    app = create_app(settings, clock=ManualClock(NOW))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://return",
            headers={"Authorization": f"Bearer {token_for('DTV')}"},
        ) as client,
    ):
        yield Service(app, client)


async def open_case(
    service: Service,
    roles: Sequence[MemberRole] = (MemberRole.ADULT,),
    outcome: DecisionOutcome = DecisionOutcome.REJECTED_UNFOUNDED,
) -> tuple[str, str]:
    """A household registered with `roles` whose `outcome` became final at FINAL: (case id, household id)."""
    household_id = new_id()
    async with service.runtime.units_of_work() as uow:
        await handlers.record_household(uow, household_id, [(new_id(), role) for role in roles])
        state = await handlers.open_case(
            uow,
            OpenReturnCase(
                household_id=household_id,
                application_id=new_id(),
                person_ids=(new_id(),),
                outcome=outcome,
                departure_deadline=DEADLINE,
                occurred_at=FINAL,
            ),
            CommandContext(actor="IND:test", correlation_id=new_id()),
        )
        await uow.commit()
    assert state is not None
    return state.case_id, household_id


async def pending(service: Service, kind: str, case_id: str) -> scheduler.Deadline | None:
    async with service.runtime.units_of_work() as uow:
        return await scheduler.pending(uow.session, kind, case_id)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def test_the_whole_case_reads_by_case_and_by_household_with_its_version(service: Service) -> None:
    case_id, household_id = await open_case(service)
    by_case = await service.client.get(f"/v1/return-cases/{case_id}")
    assert by_case.status_code == 200 and by_case.headers["ETag"] == '"1"'
    body = by_case.json()
    assert body["caseId"] == case_id and body["householdId"] == household_id
    assert body["finalOutcome"] == "rejected-unfounded"
    assert body["departureDeadline"] == iso(DEADLINE) and body["departurePeriodExpired"] is False
    assert body["interviews"] == [] and body["localChainDecision"] is None
    assert body["vblPeriodEnded"] is False and body["departure"] is None and body["dublinTransfer"] is None
    assert body["closed"] is False and body["closedAt"] is None
    by_household = await service.client.get(f"/v1/households/{household_id}/return-case")
    assert by_household.json() == body and by_household.headers["ETag"] == '"1"'


async def test_an_unknown_case_is_404(service: Service) -> None:
    assert (await service.client.get(f"/v1/return-cases/{new_id()}")).status_code == 404
    missing = await service.client.post(
        f"/v1/return-cases/{new_id()}/departure-interview", json={"cooperative": True}
    )
    assert missing.status_code == 404 and missing.json()["code"] == "not-found"


async def test_departure_interviews_are_recorded_each_time_at_the_clock_s_now_by_default(
    service: Service,
) -> None:
    case_id, _ = await open_case(service)
    url = f"/v1/return-cases/{case_id}/departure-interview"
    first = await service.client.post(url, json={"cooperative": False})
    second = await service.client.post(
        url, json={"cooperative": True, "occurredAt": iso(FINAL + timedelta(days=1))}
    )
    assert first.status_code == second.status_code == 200
    assert second.headers["ETag"] == '"3"'
    assert second.json()["interviews"] == [
        {"occurredAt": iso(NOW), "cooperative": False},
        {"occurredAt": iso(FINAL + timedelta(days=1)), "cooperative": True},
    ]


async def test_a_fact_after_the_clock_s_now_is_refused(service: Service) -> None:
    case_id, _ = await open_case(service)
    future = await service.client.post(
        f"/v1/return-cases/{case_id}/departure-interview",
        json={"cooperative": True, "occurredAt": iso(NOW + timedelta(minutes=1))},
    )
    assert future.status_code == 409 and future.json()["code"] == "occurred-in-the-future"


async def test_a_family_location_needs_minor_children(service: Service) -> None:
    single, _ = await open_case(service, [MemberRole.ADULT])
    family, _ = await open_case(service, [MemberRole.ADULT, MemberRole.CHILD])
    body = {"option": "family-location"}
    refused = await service.client.post(f"/v1/return-cases/{single}/local-chain-decision", json=body)
    assert refused.status_code == 409 and refused.json()["code"] == "no-minor-children"
    taken = await service.client.post(f"/v1/return-cases/{family}/local-chain-decision", json=body)
    assert taken.status_code == 200
    assert taken.json()["localChainDecision"] == {
        "option": "family-location",
        "until": None,
        "decidedAt": iso(NOW),
    }


async def test_a_vbl_stay_lasts_at_most_12_weeks_its_end_is_scheduled_and_the_lko_decides_once(
    service: Service,
) -> None:
    case_id, _ = await open_case(service)
    url = f"/v1/return-cases/{case_id}/local-chain-decision"
    too_long = await service.client.post(url, json={"option": "vbl", "until": iso(NOW + timedelta(weeks=13))})
    assert too_long.status_code == 409 and too_long.json()["code"] == "vbl-longer-than-12-weeks"
    taken = await service.client.post(url, json={"option": "vbl"})
    assert taken.status_code == 200
    assert taken.json()["localChainDecision"]["until"] == iso(NOW + timedelta(weeks=12))
    deadline = await pending(service, VBL_PERIOD_ENDED, case_id)
    assert deadline is not None and deadline.due_at == NOW + timedelta(weeks=12)
    again = await service.client.post(url, json={"option": "detention"})
    assert again.status_code == 409 and again.json()["code"] == "local-chain-decision-already-taken"


async def test_a_longer_azc_stay_needs_an_end(service: Service) -> None:
    case_id, _ = await open_case(service)
    url = f"/v1/return-cases/{case_id}/local-chain-decision"
    refused = await service.client.post(url, json={"option": "extend-azc-stay"})
    assert refused.status_code == 409 and refused.json()["code"] == "until-required"
    until = iso(NOW + timedelta(weeks=3))
    taken = await service.client.post(url, json={"option": "extend-azc-stay", "until": until})
    assert taken.status_code == 200 and taken.json()["localChainDecision"]["until"] == until


async def test_a_departure_closes_the_case_cancels_its_deadlines_and_nothing_follows(
    service: Service,
) -> None:
    case_id, _ = await open_case(service)
    base = f"/v1/return-cases/{case_id}"
    assert (
        await service.client.post(f"{base}/local-chain-decision", json={"option": "vbl"})
    ).status_code == 200
    left = await service.client.post(
        f"{base}/departure", json={"departureType": "independent", "destinationCountry": "GEO"}
    )
    assert left.status_code == 200
    body = left.json()
    assert body["closed"] is True and body["closedAt"] == iso(NOW)
    assert body["departure"] == {
        "departureType": "independent",
        "destinationCountry": "GEO",
        "occurredAt": iso(NOW),
    }
    assert await pending(service, DEPARTURE_PERIOD_EXPIRED, case_id) is None
    assert await pending(service, VBL_PERIOD_ENDED, case_id) is None
    for path, payload in [
        ("departure-interview", {"cooperative": True}),
        ("departure", {"departureType": "forced"}),
        ("dublin-transfer", {"memberState": "DE"}),
    ]:
        refused = await service.client.post(f"{base}/{path}", json=payload)
        assert refused.status_code == 409 and refused.json()["code"] == "case-closed", path


async def test_a_dublin_transfer_follows_only_a_dublin_decision(service: Service) -> None:
    rejected, _ = await open_case(service)
    dublin, _ = await open_case(service, outcome=DecisionOutcome.DUBLIN_NOT_CONSIDERED)
    refused = await service.client.post(
        f"/v1/return-cases/{rejected}/dublin-transfer", json={"memberState": "DE"}
    )
    assert refused.status_code == 409 and refused.json()["code"] == "not-a-dublin-case"
    done = await service.client.post(f"/v1/return-cases/{dublin}/dublin-transfer", json={"memberState": "DE"})
    assert done.status_code == 200
    assert done.json()["dublinTransfer"] == {"memberState": "DE", "occurredAt": iso(NOW)}
    assert done.json()["closed"] is True
    assert await pending(service, DEPARTURE_PERIOD_EXPIRED, dublin) is None


async def test_commands_honour_if_match(service: Service) -> None:
    case_id, _ = await open_case(service)
    url = f"/v1/return-cases/{case_id}/departure-interview"
    stale = await service.client.post(url, json={"cooperative": True}, headers={"If-Match": '"0"'})
    assert stale.status_code == 412 and stale.json()["code"] == "precondition-failed"
    current = await service.client.post(url, json={"cooperative": True}, headers={"If-Match": '"1"'})
    assert current.status_code == 200 and current.headers["ETag"] == '"2"'


async def test_bodies_are_validated_and_writes_need_the_return_scope(
    service: Service, token_for: MintToken
) -> None:
    case_id, _ = await open_case(service, outcome=DecisionOutcome.DUBLIN_NOT_CONSIDERED)
    base = f"/v1/return-cases/{case_id}"
    for path, payload in [
        ("dublin-transfer", {"memberState": "deu"}),
        ("departure", {"departureType": "independent", "destinationCountry": "GE"}),
        ("local-chain-decision", {"option": "somewhere"}),
        ("departure-interview", {"cooperative": True, "note": "free text is not accepted"}),
    ]:
        invalid = await service.client.post(f"{base}/{path}", json=payload)
        assert invalid.status_code == 400 and invalid.json()["code"] == "invalid-request", path
    ind = {"Authorization": f"Bearer {token_for('IND')}"}
    forbidden = await service.client.post(
        f"{base}/departure-interview", json={"cooperative": True}, headers=ind
    )
    assert forbidden.status_code == 403


async def test_every_command_is_documented_with_an_example(service: Service) -> None:
    spec = (await service.client.get("/openapi.json")).json()
    commands = [path for path in spec["paths"] if path.startswith("/v1/return-cases/{case_id}/")]
    assert sorted(commands) == sorted(
        f"/v1/return-cases/{{case_id}}/{name}"
        for name in ("departure-interview", "local-chain-decision", "departure", "dublin-transfer")
    )
    for path in commands:
        body = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        assert body["example"], path
