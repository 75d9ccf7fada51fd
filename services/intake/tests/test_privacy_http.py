"""The identity vault over HTTP: AVIM's identification seals a person's identity with the person's own
key; authorised agencies read it (logged), a municipality opens the sealed name an event carried; an
operator erases it (legal basis required), after which nothing of it opens and the search finds no one."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from intake_privacy_fixtures import (
    DATE_OF_BIRTH,
    ERASURE,
    FAMILY_NAME,
    GIVEN_NAMES,
    IDENTIFICATION,
    PASSPORT,
    PERSONAL,
    V_NUMBER,
    Agencies,
    absent,
    every_row,
    intake_settings,
    running_intake,
    runtime_of,
)
from sqlalchemy import text

from shared.contracts.base import Event
from shared.contracts.intake import IdentificationAndRegistrationCompleted, PersonalDataErased
from tests.fixtures import MintToken

PROBLEM = "application/problem+json"


@pytest.fixture
async def intake_app(tmp_path: Path, auth_dir: Path) -> AsyncIterator[FastAPI]:
    async with running_intake(intake_settings(tmp_path, auth_dir)) as app:
        yield app


@pytest.fixture
def agencies(intake_app: FastAPI, token_for: MintToken) -> Agencies:
    return Agencies(intake_app, token_for)


async def _facts(app: FastAPI, person_id: str) -> list[Event]:
    async with runtime_of(app).units_of_work() as uow:
        recorded = await uow.events.read_all()
    return [r.event for r in recorded if r.event.subject == person_id]


async def _sealed_name(app: FastAPI, person_id: str) -> str:
    (identified,) = [
        e for e in await _facts(app, person_id) if isinstance(e, IdentificationAndRegistrationCompleted)
    ]
    assert identified.sealed_name is not None
    return identified.sealed_name


async def test_identification_seals_the_identity_and_the_event_carries_the_name_sealed(
    agencies: Agencies, intake_app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # when AVIM identifies a person with V-number, names, date of birth and a passport
    person_id = await agencies.identified_person()
    # then none of it is in any table in the clear (the vault holds ciphertext), nor in any log line
    rows = await every_row(intake_app)
    for value in PERSONAL:
        assert absent(value, rows), value
        assert value not in caplog.text, value
    # and the event carries the birth year's person only: a reference and the name, sealed
    sealed = await _sealed_name(intake_app, person_id)
    assert sealed.startswith("v1.") and all(absent(value, sealed) for value in PERSONAL)


async def test_the_identity_opens_for_the_ind_and_the_read_is_logged_without_the_data(
    agencies: Agencies, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    person_id = await agencies.identified_person()
    path = f"/v1/persons/{person_id}/identity/_open"
    read = await agencies.call("IND", "POST", path, {"purpose": "procedure"})
    assert read.status_code == 200, read.text
    assert read.json() == {
        "personId": person_id,
        "vNumber": V_NUMBER,
        "givenNames": GIVEN_NAMES,
        "familyName": FAMILY_NAME,
        "dateOfBirth": DATE_OF_BIRTH,
        "documents": [{"kind": "passport", "number": PASSPORT, "issuingCountry": "ERI"}],
    }
    logged = [r.getMessage() for r in caplog.records if "identity of person" in r.getMessage()]
    assert logged and person_id in logged[0] and "IND:" in logged[0] and "procedure" in logged[0]
    assert all(value not in caplog.text for value in PERSONAL)
    # COA and municipalities do not read the whole vault record; a purpose is required
    for agency in ("COA", "GEMEENTE"):
        refused = await agencies.call(agency, "POST", path, {"purpose": "housing"})
        assert (refused.status_code, refused.json()["code"]) == (403, "insufficient-scope")
    assert (await agencies.call("IND", "POST", path, {})).status_code == 400


async def test_a_municipality_opens_the_sealed_name_but_only_for_the_person_it_was_sealed_for(
    agencies: Agencies, intake_app: FastAPI
) -> None:
    person_id = await agencies.identified_person()
    other = await agencies.identified_person({**IDENTIFICATION, "vNumber": "5829301746"})
    sealed = await _sealed_name(intake_app, person_id)
    body = {"field": "name", "sealed": sealed, "purpose": "housing"}
    opened = await agencies.call("GEMEENTE", "POST", f"/v1/persons/{person_id}/sealed-fields/_open", body)
    assert opened.status_code == 200, opened.text
    assert opened.json() == {"personId": person_id, "field": "name", "value": f"{GIVEN_NAMES} {FAMILY_NAME}"}
    # the ciphertext is bound to its person: presented as someone else's it does not open
    moved = await agencies.call("GEMEENTE", "POST", f"/v1/persons/{other}/sealed-fields/_open", body)
    assert (moved.status_code, moved.json()["code"]) == (409, "sealed-value-invalid")
    # and a tampered ciphertext does not open either
    tampered = {**body, "sealed": sealed[:-2] + ("AA" if not sealed.endswith("AA") else "BB")}
    broken = await agencies.call("GEMEENTE", "POST", f"/v1/persons/{person_id}/sealed-fields/_open", tampered)
    assert (broken.status_code, broken.json()["code"]) == (409, "sealed-value-invalid")
    # DT&V has no task that needs the name
    dtv = await agencies.call("DTV", "POST", f"/v1/persons/{person_id}/sealed-fields/_open", body)
    assert dtv.status_code == 403


async def test_only_an_operator_erases_and_only_with_a_legal_basis(agencies: Agencies) -> None:
    person_id = await agencies.identified_person()
    path = f"/v1/persons/{person_id}/erasure"
    for agency in ("AVIM", "IND", "AUDIT"):
        refused = await agencies.call(agency, "POST", path, ERASURE)
        assert (refused.status_code, refused.json()["code"]) == (403, "insufficient-scope"), agency
    without_basis = await agencies.call("OPERATOR", "POST", path, {"ground": "erasure-request"})
    assert without_basis.status_code == 400
    assert [p["name"] for p in without_basis.json()["invalidParams"]] == ["legalBasis"]
    jobs_ground = await agencies.call("OPERATOR", "POST", path, {**ERASURE, "ground": "retention-expired"})
    assert jobs_ground.status_code == 400
    unknown = await agencies.call("OPERATOR", "POST", "/v1/persons/nobody/erasure", ERASURE)
    assert unknown.status_code == 404


async def test_erasure_shreds_the_key_so_nothing_of_the_identity_opens_and_the_history_stays(
    agencies: Agencies, intake_app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    # given an identified person whose name travelled sealed
    person_id = await agencies.identified_person()
    sealed = await _sealed_name(intake_app, person_id)
    # when an operator erases the person's personal data on a request
    erased = await agencies.call("OPERATOR", "POST", f"/v1/persons/{person_id}/erasure", ERASURE)
    assert erased.status_code == 200, erased.text
    assert erased.json()["categories"] == ["identity", "documents"]
    assert erased.json()["actor"].startswith("OPERATOR:")
    # then PersonalDataErased is a fact in the person's history, after the facts that stay
    facts = await _facts(intake_app, person_id)
    assert [type(f).__name__ for f in facts][-1] == "PersonalDataErased"
    assert isinstance(facts[-1], PersonalDataErased) and facts[-1].ground == "erasure-request"
    assert len(facts) == 3  # registered, identified, erased: nothing was rewritten
    # and the key, the records and the index are gone from the vault
    for table in ("person_keys", "identity_records", "v_number_index"):
        async with runtime_of(intake_app).engine.connect() as connection:
            count = (
                await connection.execute(
                    text(f"SELECT count(*) FROM {table} WHERE person_id = :p"), {"p": person_id}
                )
            ).scalar_one()
        assert count == 0, table
    # so nothing opens any more: not the record, not the sealed name that travelled, not the search
    identity = await agencies.call(
        "IND", "POST", f"/v1/persons/{person_id}/identity/_open", {"purpose": "procedure"}
    )
    assert (identity.status_code, identity.json()["code"]) == (410, "personal-data-erased")
    assert identity.headers["content-type"] == PROBLEM
    body = {"field": "name", "sealed": sealed, "purpose": "housing"}
    name = await agencies.call("GEMEENTE", "POST", f"/v1/persons/{person_id}/sealed-fields/_open", body)
    assert (name.status_code, name.json()["code"]) == (410, "personal-data-erased")
    found = await agencies.call("COA", "POST", "/v1/persons/_zoek", {"vNumber": V_NUMBER})
    assert found.status_code == 404
    # the person's pseudonymous facts still read
    person = await agencies.call("COA", "GET", f"/v1/persons/{person_id}")
    assert person.status_code == 200 and person.json()["birthYear"] == 1987
    # erasing twice is refused; the erasure is in the register with its legal basis, and in the log
    again = await agencies.call("OPERATOR", "POST", f"/v1/persons/{person_id}/erasure", ERASURE)
    assert (again.status_code, again.json()["code"]) == (409, "already-erased")
    register = await agencies.call("OPERATOR", "GET", "/v1/erasures")
    assert register.status_code == 200
    (entry,) = [e for e in register.json()["erasures"] if e["personId"] == person_id]
    assert (entry["ground"], entry["legalBasis"]) == ("erasure-request", ERASURE["legalBasis"])
    assert any(
        person_id in r.getMessage() and "erased identity+documents" in r.getMessage() for r in caplog.records
    )
    assert (await agencies.call("AUDIT", "GET", "/v1/erasures")).status_code == 403
