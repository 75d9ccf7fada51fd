"""Over HTTP (in-process, SQLite): a closure proposes transfers dated in the school holiday, a second
forced move of a child is refused with a problem that names the rule, and goes through when justified."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from placement_builders import a_household_after_its_stream

from placement.entrypoints.app import create_app
from shared.clock import ManualClock
from shared.contracts.procedure import ReceptionStream
from shared.ids import new_id
from shared.runtime import Runtime
from shared.settings import ServiceSettings
from tests.fixtures import MintToken

TODAY = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday, no school holiday anywhere


@pytest.fixture
async def app(tmp_path: Path, auth_dir: Path) -> AsyncIterator[FastAPI]:
    settings = ServiceSettings(
        service="placement",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/placement.db",
        kafka_bootstrap_servers="127.0.0.1:9",
        kafka_create_topics=False,
        auth_jwks_path=auth_dir / "jwks.json",
        environment="test",
    )
    service = create_app(settings, ManualClock(TODAY))
    async with service.router.lifespan_context(service):
        yield service


@pytest.fixture
async def coa(app: FastAPI, token_for: MintToken) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://placement",
        headers={"Authorization": f"Bearer {token_for('COA')}"},
    ) as client:
        yield client


async def another_accelerated_azc(coa: httpx.AsyncClient) -> str:
    """COA opens a second azc for the accelerated procedure (the seed has one, Budel)."""
    created = await coa.post(
        "/v1/locations",
        json={
            "name": "azc versneld Echt",
            "locationType": "azc-versneld",
            "municipality": "Echt-Susteren",
            "province": "Limburg",
            "capacity": 400,
            "schoolNearby": True,
        },
    )
    assert created.status_code == 201, created.text
    return str(created.json()["locationId"])


async def a_family_moved_to_the_accelerated_azc(runtime: Runtime, children: int = 2) -> str:
    return await a_household_after_its_stream(runtime, TODAY, 1, children, ReceptionStream.ACCELERATED)


async def test_a_closure_dates_the_transfer_of_a_family_in_the_next_school_holiday(
    app: FastAPI, coa: httpx.AsyncClient
) -> None:
    household_id = await a_family_moved_to_the_accelerated_azc(app.state.runtime)
    new_azc = await another_accelerated_azc(coa)
    reception: dict[str, Any] = (await coa.get(f"/v1/households/{household_id}/reception")).json()
    assert reception["location"]["locationType"] == "azc-versneld" and reception["forcedMovesOfChildren"] == 1

    closure = await coa.post(
        f"/v1/locations/{reception['location']['locationId']}/closure",
        json={"closesAt": "2027-01-15T09:00:00Z"},
    )
    assert closure.status_code == 200, closure.text
    proposal = next(p for p in closure.json()["proposals"] if p["householdId"] == household_id)
    assert proposal["toLocationId"] == new_azc
    assert proposal["proposedFor"].startswith("2026-12-19")  # the first day of the Christmas holiday


async def test_a_second_forced_move_of_a_child_is_refused_unless_justified(
    app: FastAPI, coa: httpx.AsyncClient
) -> None:
    household_id = await a_family_moved_to_the_accelerated_azc(app.state.runtime)
    await another_accelerated_azc(coa)
    location_id = (await coa.get(f"/v1/households/{household_id}/reception")).json()["location"]["locationId"]
    closure = (
        await coa.post(f"/v1/locations/{location_id}/closure", json={"closesAt": "2027-01-15T09:00:00Z"})
    ).json()
    proposal_id = next(p["proposalId"] for p in closure["proposals"] if p["householdId"] == household_id)
    execute = f"/v1/households/{household_id}/transfer-proposals/{proposal_id}/execution"

    plain = await coa.post(
        f"/v1/households/{household_id}/child-interest-assessments",
        json={"firstDegreeFamilyNearby": False, "medicalNecessity": False, "schoolContinuity": True},
    )
    refused = await coa.post(execute, json={"assessmentId": plain.json()["assessmentId"]})
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "second-forced-move-of-child"
    assert "moved by force at most once" in refused.json()["detail"]

    justified = await coa.post(
        f"/v1/households/{household_id}/child-interest-assessments",
        json={
            "firstDegreeFamilyNearby": False,
            "medicalNecessity": False,
            "schoolContinuity": True,
            "justification": "location-closure-without-alternative",
        },
    )
    done = await coa.post(execute, json={"assessmentId": justified.json()["assessmentId"]})
    assert done.status_code == 200, done.text
    assert done.json()["forcedMovesOfChildren"] == 2 and done.json()["proposals"] == []


async def test_unknown_and_ended_cases_answer_404_and_409(coa: httpx.AsyncClient) -> None:
    missing = await coa.post(
        f"/v1/households/{new_id()}/transfers", json={"reason": "own-request", "forced": False}
    )
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    unknown_location = await coa.post(
        f"/v1/locations/{new_id()}/closure", json={"closesAt": "2027-01-15T09:00:00Z"}
    )
    assert unknown_location.status_code == 404


async def test_the_recommendation_endpoint_ranks_with_reasons(coa: httpx.AsyncClient) -> None:
    answer = await coa.post(
        "/v1/placement-recommendations",
        json={"purpose": "process-not-accelerated", "size": 4, "hasChildren": True},
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["recommended"] and all(
        r["location"]["locationType"] == "azc-regulier" for r in body["recommended"]
    )
    assert all(r["reasons"] for r in body["recommended"])
    assert [r["rank"] for r in body["recommended"]] == list(range(1, len(body["recommended"]) + 1))
    floating = next(e for e in body["excluded"] if e["location"]["name"] == "Zaandam drijvende flats")
    assert "near open water: no children are placed here" in floating["reasons"]
