"""The access log (Logboek Dataverwerkingen): every read of a person's data leaves one record per person,
every command one per subject it wrote, in the command's own transaction; auditors query it per person,
per client and per request; nobody can change or delete it. Told with intake in-process, on SQLite and
on PostgreSQL (Kafka unreachable: nothing here needs it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from intake_privacy_fixtures import intake_settings, running_intake

from shared.eventstore.schema import access_log, events
from tests.fixtures import MintToken, NewDatabase

FAMILY = [
    {"role": "adult", "relation": "head", "birthYear": 1988, "nationality": "SYR"},
    {"role": "child", "relation": "child", "birthYear": 2016, "nationality": "SYR"},
]
REGISTRATION = {"channel": "ter-apel", "arrivalGroup": "first-application", "members": FAMILY}


@pytest.fixture
async def intake_app(
    sqlite_or_postgres_database: NewDatabase, tmp_path: Path, auth_dir: Path
) -> AsyncIterator[FastAPI]:
    database_url = await sqlite_or_postgres_database("access_log")
    async with running_intake(intake_settings(tmp_path, auth_dir, database_url=database_url)) as app:
        yield app


@pytest.fixture
async def client(intake_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=intake_app), base_url="http://intake"
    ) as http:
        yield http


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


async def register(client: httpx.AsyncClient, token_for: MintToken) -> dict[str, Any]:
    response = await client.post("/v1/households", json=REGISTRATION, headers=bearer(token_for("AVIM")))
    assert response.status_code == 201, response.text
    household: dict[str, Any] = response.json()
    return household


async def audit(client: httpx.AsyncClient, token_for: MintToken, **search: str) -> list[dict[str, Any]]:
    response = await client.post("/v1/access-log/_zoek", json=search, headers=bearer(token_for("AUDIT")))
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


async def test_a_read_of_a_person_leaves_exactly_one_record_that_the_auditor_finds(
    client: httpx.AsyncClient, token_for: MintToken
) -> None:
    # given a registered household
    household = await register(client, token_for)
    child = household["members"][1]["personId"]

    # when COA reads the child's registered facts, under a correlation id of its own
    response = await client.get(
        f"/v1/persons/{child}",
        headers=bearer(token_for("COA", client_id="coa-planning"), **{"X-Correlation-ID": "coa-trace-1"}),
    )
    assert response.status_code == 200

    # then the auditor finds exactly one read record for the child: who, which operation, why, which trace
    reads = await audit(client, token_for, dataSubjectId=child, kind="read")
    assert len(reads) == 1
    record = reads[0]
    assert record["agency"] == "COA"
    assert record["clientId"] == "coa-planning"
    assert record["name"] == "GET /v1/persons/{person_id}"  # the route, never the concrete path
    assert record["service"] == "intake"
    assert record["processingActivity"] == "registration"
    assert record["legalBasis"].startswith("Vreemdelingenwet 2000 art. 107")
    assert record["traceId"] == "coa-trace-1"
    # and the same record is found per client and per request
    assert await audit(client, token_for, clientId="coa-planning") == reads
    assert await audit(client, token_for, traceId="coa-trace-1") == reads


async def test_a_read_of_a_household_records_each_member_once_under_one_operation(
    client: httpx.AsyncClient, token_for: MintToken
) -> None:
    household = await register(client, token_for)
    members = [m["personId"] for m in household["members"]]

    response = await client.get(
        f"/v1/households/{household['householdId']}",
        headers=bearer(token_for("IND"), **{"X-Correlation-ID": "ind-household-read"}),
    )
    assert response.status_code == 200

    records = await audit(client, token_for, traceId="ind-household-read")
    assert sorted(r["dataSubjectId"] for r in records) == sorted([household["householdId"], *members])
    assert len({r["operationId"] for r in records}) == 1
    assert {r["kind"] for r in records} == {"read"}


async def test_a_read_that_finds_nobody_records_nothing(
    client: httpx.AsyncClient, token_for: MintToken
) -> None:
    response = await client.get(
        "/v1/persons/nobody-by-this-id", headers=bearer(token_for("IND"), **{"X-Correlation-ID": "miss"})
    )
    assert response.status_code == 404
    assert await audit(client, token_for, traceId="miss") == []


async def test_a_command_records_its_writes_in_its_own_transaction_under_the_events_trace(
    client: httpx.AsyncClient, token_for: MintToken, intake_app: FastAPI
) -> None:
    # when AVIM registers a household
    response = await client.post(
        "/v1/households",
        json=REGISTRATION,
        headers=bearer(token_for("AVIM"), **{"X-Correlation-ID": "avim-registration"}),
    )
    household = response.json()

    # then one write record per subject of the events it appended (the household, each member)
    writes = await audit(client, token_for, traceId="avim-registration")
    assert {r["kind"] for r in writes} == {"write"}
    assert sorted(r["dataSubjectId"] for r in writes) == sorted(
        [household["householdId"], *(m["personId"] for m in household["members"])]
    )
    assert {r["agency"] for r in writes} == {"AVIM"}
    assert all(r["processingActivity"].startswith("nl.asielketen.intake.") for r in writes)
    # and the events carry the same trace, so an auditor goes from a record to what was written
    async with intake_app.state.runtime.engine.connect() as connection:
        subjects = (
            await connection.execute(
                sa.select(events.c.subject).where(events.c.correlation_id == "avim-registration")
            )
        ).scalars()
        assert set(subjects) == {r["dataSubjectId"] for r in writes}


async def test_a_refused_command_records_nothing(client: httpx.AsyncClient, token_for: MintToken) -> None:
    response = await client.post(
        "/v1/households",
        json={**REGISTRATION, "members": [{**FAMILY[1], "relation": "head"}]},  # a child cannot be head alone
        headers=bearer(token_for("AVIM"), **{"X-Correlation-ID": "refused"}),
    )
    assert response.status_code == 409, response.text
    assert await audit(client, token_for, traceId="refused") == []


async def test_the_log_cannot_be_changed_or_deleted(
    client: httpx.AsyncClient, token_for: MintToken, intake_app: FastAPI
) -> None:
    await register(client, token_for)
    engine = intake_app.state.runtime.engine
    for statement in (sa.update(access_log).values(client_id="someone-else"), sa.delete(access_log)):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            async with engine.begin() as connection:
                await connection.execute(statement)
    async with engine.connect() as connection:
        kept = (await connection.execute(sa.select(sa.func.count()).select_from(access_log))).scalar_one()
    assert kept == 3  # the household and its two members, untouched


async def test_only_auditors_query_the_log_and_their_searches_for_a_person_are_recorded_too(
    client: httpx.AsyncClient, token_for: MintToken
) -> None:
    household = await register(client, token_for)
    head = household["members"][0]["personId"]

    refused = await client.post(
        "/v1/access-log/_zoek", json={"dataSubjectId": head}, headers=bearer(token_for("AVIM"))
    )
    assert refused.status_code == 403

    await audit(client, token_for, dataSubjectId=head)
    audits = await audit(client, token_for, dataSubjectId=head, kind="read")
    assert [r["processingActivity"] for r in audits] == ["access-log-audit"]
    assert audits[0]["agency"] == "AUDIT"


async def test_a_search_with_an_empty_period_is_refused_with_the_reason(
    client: httpx.AsyncClient, token_for: MintToken
) -> None:
    response = await client.post(
        "/v1/access-log/_zoek",
        json={"recordedFrom": "2026-05-01T00:00:00Z", "recordedUntil": "2026-04-01T00:00:00Z"},
        headers=bearer(token_for("AUDIT")),
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "recordedUntil" in response.json()["detail"]


async def test_a_period_without_a_time_zone_is_refused_and_named(
    client: httpx.AsyncClient, token_for: MintToken
) -> None:
    response = await client.post(
        "/v1/access-log/_zoek",
        json={"recordedFrom": "2026-05-01T00:00:00"},
        headers=bearer(token_for("AUDIT")),
    )
    assert response.status_code == 400
    assert "recordedFrom" in response.text
