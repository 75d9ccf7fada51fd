"""HTTP routes of intake for persons: identification, corrections, reads and the search by V-number.

A person's `ETag` is the version of the facts about that person (not of the whole household), so a
change to a sibling does not make a client's copy stale. The V-number travels only in request bodies:
the search is a POST (no personal identifier in a URL, where proxies and access logs would keep it).
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Response

from intake.domain.correction import CorrectRegistration, FieldValue
from intake.domain.identification import IdentifyPerson
from intake.entrypoints.privacy_routes import PrivacyDep
from intake.entrypoints.routes import IfMatch, Reader, RegistrationRead, RuntimeDep, Writer
from intake.entrypoints.schemas import (
    CorrectionIn,
    FindPersonIn,
    IdentificationIn,
    PersonOut,
    PersonRefOut,
    person_out,
)
from intake.service_layer import handlers
from shared.http import command_context, parse_if_match
from shared.ids import new_id

router = APIRouter(prefix="/v1", tags=["persons"])


def _loaded(loaded: handlers.LoadedPerson, response: Response) -> PersonOut:
    response.headers["ETag"] = f'"{loaded.person.version}"'
    return person_out(loaded.household.household_id, loaded.person)


@router.get("/persons/{person_id}", summary="A person's current registered facts (never the V-number)")
async def get_person(
    person_id: str, response: Response, runtime: RuntimeDep, _: Reader, access: RegistrationRead
) -> PersonOut:
    async with runtime.units_of_work() as uow:
        loaded = await handlers.get_person(uow, person_id)
    person = _loaded(loaded, response)
    await access.read([person_id])
    return person


@router.post(
    "/persons/_zoek",
    summary="Find a person by V-number (zoeken); the V-number is in the body, never in the URL",
    description="404 when no person holds the V-number. Every successful search is logged with the "
    "caller and the person found (not the V-number).",
    openapi_extra={"requestBody": {"content": {"application/json": {"example": {"vNumber": "1234567890"}}}}},
    responses={404: {"description": "No person holds this V-number"}},
)
async def find_person(
    body: FindPersonIn, runtime: RuntimeDep, privacy: PrivacyDep, principal: Reader, access: RegistrationRead
) -> PersonRefOut:
    async with runtime.units_of_work() as uow:
        person_id, household_id = await handlers.find_person(uow, body.v_number, principal.actor, privacy)
    await access.read([person_id])
    return PersonRefOut(person_id=person_id, household_id=household_id)


@router.post(
    "/persons/{person_id}/identification",
    summary="Record AVIM's identification and registration (I&R) of a person, once",
    description="Seals the V-number, names, date of birth and document references into intake's identity "
    "vault with the person's own key, and publishes IdentificationAndRegistrationCompleted (v2) with an "
    "opaque `v_number_ref` and the name sealed (`sealed_name`). None of it is echoed back. The household "
    "must be pre-registered.",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "example": {
                        "vNumber": "1234567890",
                        "givenNames": "Amira",
                        "familyName": "Haddad",
                        "dateOfBirth": "1988-04-12",
                        "documents": [{"kind": "passport", "number": "N1234567", "issuingCountry": "SYR"}],
                        "biometricsCaptured": True,
                        "documentsRetained": 1,
                    }
                }
            }
        }
    },
)
async def identify_person(
    person_id: str,
    body: IdentificationIn,
    response: Response,
    runtime: RuntimeDep,
    privacy: PrivacyDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> PersonOut:
    expected = parse_if_match(if_match)
    command = IdentifyPerson(
        person_id=person_id,
        v_number_ref=new_id(),
        biometrics_captured=body.biometrics_captured,
        documents_retained=body.documents_retained,
        occurred_at=body.occurred_at or datetime.now(UTC),
    )
    async with runtime.units_of_work() as uow:
        loaded = await handlers.identify_person(
            uow,
            command,
            body.identity(),
            command_context(principal),
            privacy,
            recorded_at=runtime.clock.now(),
            if_match=expected,
        )
    return _loaded(loaded, response)


@router.post(
    "/persons/{person_id}/corrections",
    summary="Correct a registered fact about a person (birth year, nationality or role)",
    description="Publishes one RegistrationCorrected per corrected field. Fields corrected together "
    "(`alsoCorrect`) are checked as a whole: role and birth year must fit each other.",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "example": {
                        "field": "role",
                        "value": "adult",
                        "reason": "age-assessment",
                        "alsoCorrect": [{"field": "birth-year", "value": "2005"}],
                    }
                }
            }
        }
    },
)
async def correct_registration(
    person_id: str,
    body: CorrectionIn,
    response: Response,
    runtime: RuntimeDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> PersonOut:
    expected = parse_if_match(if_match)
    command = CorrectRegistration(
        person_id=person_id,
        changes=(
            FieldValue(field=body.field, value=body.value),
            *(FieldValue(field=c.field, value=c.value) for c in body.also_correct),
        ),
        reason=body.reason,
        occurred_at=body.occurred_at or datetime.now(UTC),
    )
    async with runtime.units_of_work() as uow:
        loaded = await handlers.correct_registration(
            uow, command, command_context(principal), if_match=expected
        )
    return _loaded(loaded, response)
