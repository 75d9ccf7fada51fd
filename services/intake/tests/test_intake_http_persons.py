"""Persons over HTTP, in-process: AVIM's identification (the V-number goes to the vault and nowhere
else), the search by V-number, corrections, reads with a per-person ETag, and their refusals."""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from intake_privacy_fixtures import intake_settings, running_intake
from sqlalchemy import text

from intake.domain.identity import Identity
from intake.entrypoints.privacy_routes import privacy_from
from shared.domain import RuleViolation
from shared.ids import new_id
from shared.runtime import Runtime
from tests.fixtures import MintToken

PROBLEM = "application/problem+json"
V_NUMBER = "2345678901"
FAMILY = [
    {"role": "adult", "relation": "head", "birthYear": 1988, "nationality": "SYR"},
    {"role": "child", "relation": "child", "birthYear": 2016, "nationality": "SYR"},
]
IDENTIFICATION = {"vNumber": V_NUMBER, "biometricsCaptured": True, "documentsRetained": 2}


# The app in-process on a fresh SQLite file, Kafka unreachable: commands work without a broker (the
# outbox keeps what would be published).
@pytest.fixture
async def intake_app(tmp_path: Path, auth_dir: Path) -> AsyncIterator[FastAPI]:
    async with running_intake(intake_settings(tmp_path, auth_dir)) as app:
        yield app


@pytest.fixture
async def client(intake_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=intake_app), base_url="http://intake"
    ) as http:
        yield http


def _auth(token_for: MintToken, agency: str = "AVIM") -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(agency)}"}


async def _household(
    client: httpx.AsyncClient, token_for: MintToken, *, pre_register: bool
) -> dict[str, Any]:
    body = {"channel": "ter-apel", "arrivalGroup": "first-application", "members": FAMILY}
    created = await client.post("/v1/households", json=body, headers=_auth(token_for, "IND"))
    assert created.status_code == 201, created.text
    household: dict[str, Any] = created.json()
    if pre_register:
        done = await client.post(
            f"/v1/households/{household['householdId']}/pre-registration",
            json={"language": "ar"},
            headers=_auth(token_for, "IND"),
        )
        assert done.status_code == 200, done.text
    return household


def _problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert (response.json()["status"], response.json()["code"]) == (status, code)


async def _rows(app: FastAPI, table: str) -> str:
    runtime: Runtime = app.state.runtime
    async with runtime.engine.connect() as connection:
        return repr((await connection.execute(text(f"SELECT * FROM {table}"))).all())


async def test_identification_needs_pre_registration(client: httpx.AsyncClient, token_for: MintToken) -> None:
    household = await _household(client, token_for, pre_register=False)
    head = household["members"][0]["personId"]
    response = await client.post(
        f"/v1/persons/{head}/identification", json=IDENTIFICATION, headers=_auth(token_for)
    )
    _problem(response, 409, "not-pre-registered")


async def test_the_v_number_is_kept_sealed_in_the_vault_and_nowhere_else(
    client: httpx.AsyncClient, token_for: MintToken, intake_app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # given a pre-registered household; when AVIM identifies its head
    household = await _household(client, token_for, pre_register=True)
    head = household["members"][0]["personId"]
    response = await client.post(
        f"/v1/persons/{head}/identification", json=IDENTIFICATION, headers=_auth(token_for)
    )
    # then the person is identified, and the answer does not repeat the V-number
    assert response.status_code == 200, response.text
    assert response.json()["identified"] is True and response.headers["ETag"] == '"2"'
    assert V_NUMBER not in response.text
    # and the vault holds the person's record sealed, the event only a reference to it
    assert head in await _rows(intake_app, "identity_records")
    assert head in await _rows(intake_app, "person_keys")
    events = await _rows(intake_app, "events")
    assert "identification-and-registration-completed" in events
    runtime: Runtime = intake_app.state.runtime
    async with runtime.engine.connect() as connection:
        ref = (await connection.execute(text("SELECT v_number_ref FROM v_number_index"))).scalar_one()
        tables_in_use = [
            name
            for (name,) in await connection.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
        ]
    assert ref in events
    # nowhere in the clear: not in any table (the vault's included), not in any log line
    for table in tables_in_use:
        assert V_NUMBER not in await _rows(intake_app, table), table
        assert V_NUMBER.encode().hex() not in await _rows(intake_app, table), table
    assert V_NUMBER not in caplog.text
    assert all(V_NUMBER not in repr(record.args) for record in caplog.records)


async def test_a_person_is_identified_once_and_a_v_number_belongs_to_one_person(
    client: httpx.AsyncClient, token_for: MintToken
) -> None:
    household = await _household(client, token_for, pre_register=True)
    head, child = (m["personId"] for m in household["members"])
    url = "/v1/persons/{}/identification"
    first = await client.post(url.format(head), json=IDENTIFICATION, headers=_auth(token_for))
    assert first.status_code == 200
    again = await client.post(
        url.format(head), json={**IDENTIFICATION, "vNumber": "3456789012"}, headers=_auth(token_for)
    )
    _problem(again, 409, "already-identified")
    taken = await client.post(url.format(child), json=IDENTIFICATION, headers=_auth(token_for))
    _problem(taken, 409, "v-number-in-use")
    own = await client.post(
        url.format(child), json={**IDENTIFICATION, "vNumber": "3456789012"}, headers=_auth(token_for)
    )
    assert own.status_code == 200
    malformed = await client.post(
        url.format(child), json={**IDENTIFICATION, "vNumber": "12345"}, headers=_auth(token_for)
    )
    _problem(malformed, 400, "invalid-request")
    assert "12345" not in malformed.text


async def test_a_person_is_found_by_v_number_in_the_body_and_the_search_is_logged(
    client: httpx.AsyncClient, token_for: MintToken, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    household = await _household(client, token_for, pre_register=True)
    head = household["members"][0]["personId"]
    await client.post(f"/v1/persons/{head}/identification", json=IDENTIFICATION, headers=_auth(token_for))
    found = await client.post(
        "/v1/persons/_zoek", json={"vNumber": V_NUMBER}, headers=_auth(token_for, "COA")
    )
    assert found.status_code == 200
    assert found.json() == {"personId": head, "householdId": household["householdId"]}
    assert any(head in r.getMessage() and "COA" in r.getMessage() for r in caplog.records)
    assert V_NUMBER not in caplog.text
    missing = await client.post(
        "/v1/persons/_zoek", json={"vNumber": "9999999999"}, headers=_auth(token_for, "COA")
    )
    _problem(missing, 404, "not-found")
    assert "9999999999" not in missing.text


async def test_a_person_reads_with_current_facts_and_an_etag(
    client: httpx.AsyncClient, token_for: MintToken
) -> None:
    household = await _household(client, token_for, pre_register=False)
    child = household["members"][1]["personId"]
    read = await client.get(f"/v1/persons/{child}", headers=_auth(token_for, "COA"))
    assert read.status_code == 200 and read.headers["ETag"] == '"1"'
    assert read.json() == {
        "personId": child,
        "householdId": household["householdId"],
        "relation": "child",
        "role": "child",
        "birthYear": 2016,
        "nationality": "SYR",
        "identified": False,
        "identifiedAt": None,
        "corrections": 0,
    }


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/persons/nobody", None),
        ("POST", "/v1/persons/nobody/identification", IDENTIFICATION),
        (
            "POST",
            "/v1/persons/nobody/corrections",
            {"field": "role", "value": "adult", "reason": "interview"},
        ),
    ],
)
async def test_an_unknown_person_is_a_404(
    client: httpx.AsyncClient, token_for: MintToken, method: str, path: str, body: dict[str, Any] | None
) -> None:
    _problem(await client.request(method, path, json=body, headers=_auth(token_for)), 404, "not-found")


async def test_corrections_change_the_current_facts_and_refuse_what_changes_nothing(
    client: httpx.AsyncClient, token_for: MintToken
) -> None:
    household = await _household(client, token_for, pre_register=False)
    child = household["members"][1]["personId"]
    url, headers = f"/v1/persons/{child}/corrections", _auth(token_for, "IND")
    corrected = await client.post(
        url, json={"field": "birth-year", "value": "2015", "reason": "document-found"}, headers=headers
    )
    assert corrected.status_code == 200, corrected.text
    assert (corrected.json()["birthYear"], corrected.json()["corrections"]) == (2015, 1)
    assert corrected.headers["ETag"] == '"2"'
    read = await client.get(f"/v1/households/{household['householdId']}", headers=headers)
    assert read.json()["members"][1]["birthYear"] == 2015
    same = await client.post(
        url, json={"field": "birth-year", "value": "2015", "reason": "clerical-error"}, headers=headers
    )
    _problem(same, 409, "correction-changes-nothing")
    too_young = await client.post(
        url, json={"field": "role", "value": "adult", "reason": "interview"}, headers=headers
    )
    _problem(too_young, 409, "adult-too-young")
    malformed = await client.post(
        url, json={"field": "nationality", "value": "syr", "reason": "interview"}, headers=headers
    )
    _problem(malformed, 400, "invalid-request")
    assert [p["name"] for p in malformed.json()["invalidParams"]] == ["value"]
    # an age assessment corrects role and birth year together
    assessed = await client.post(
        url,
        json={
            "field": "role",
            "value": "adult",
            "reason": "age-assessment",
            "alsoCorrect": [{"field": "birth-year", "value": "2004"}],
        },
        headers=headers,
    )
    assert assessed.status_code == 200, assessed.text
    assert (assessed.json()["role"], assessed.json()["birthYear"]) == ("adult", 2004)
    assert assessed.headers["ETag"] == '"4"'


async def test_person_commands_honour_if_match_per_person(
    client: httpx.AsyncClient, token_for: MintToken
) -> None:
    household = await _household(client, token_for, pre_register=True)
    head, child = (m["personId"] for m in household["members"])
    child_etag = (await client.get(f"/v1/persons/{child}", headers=_auth(token_for))).headers["ETag"]
    # a change to the head does not make the client's copy of the child stale
    identified = await client.post(
        f"/v1/persons/{head}/identification", json=IDENTIFICATION, headers=_auth(token_for)
    )
    assert identified.status_code == 200
    correction = {"field": "nationality", "value": "IRQ", "reason": "document-found"}
    url = f"/v1/persons/{child}/corrections"
    current = await client.post(url, json=correction, headers={**_auth(token_for), "If-Match": child_etag})
    assert current.status_code == 200 and current.headers["ETag"] == '"2"'
    # but a change to the child itself does
    stale = await client.post(
        url, json={**correction, "value": "TUR"}, headers={**_auth(token_for), "If-Match": child_etag}
    )
    _problem(stale, 412, "precondition-failed")
    stale_identification = await client.post(
        f"/v1/persons/{child}/identification",
        json={**IDENTIFICATION, "vNumber": "3456789012"},
        headers={**_auth(token_for), "If-Match": child_etag},
    )
    _problem(stale_identification, 412, "precondition-failed")


async def test_the_vault_refuses_a_second_holder_even_when_both_passed_the_look_up(
    client: httpx.AsyncClient, token_for: MintToken, intake_app: FastAPI
) -> None:
    # given two people identified at the same moment with one V-number: both looked it up and found
    # no holder, so decide let both through; the vault's unique blind index is what stops the second
    household = await _household(client, token_for, pre_register=True)
    head, child = (m["personId"] for m in household["members"])
    runtime: Runtime = intake_app.state.runtime
    privacy = privacy_from(runtime)
    async with runtime.units_of_work() as uow:
        vault = privacy.vault(uow)
        await vault.deposit(vault.seal(head, Identity(v_number=V_NUMBER)), new_id(), datetime.now(UTC))
        await uow.commit()
    async with runtime.units_of_work() as uow:
        vault = privacy.vault(uow)
        with pytest.raises(RuleViolation) as refused:
            await vault.deposit(vault.seal(child, Identity(v_number=V_NUMBER)), new_id(), datetime.now(UTC))
    # then it is the same 409 rule, and neither the error nor its traceback quotes the V-number
    assert refused.value.code == "v-number-in-use"
    assert V_NUMBER not in "".join(traceback.format_exception(refused.value))
