"""HTTP routes of intake for households: translate HTTP to commands and back, nothing more.

Reads carry an `ETag` (the household's stream version); commands on an existing household honour
`If-Match` with it (412 when stale).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response, status

from intake.domain.identification import PreRegister
from intake.domain.registration import NewMember, RegisterHousehold
from intake.entrypoints.schemas import HouseholdOut, PreRegistrationIn, RegisterHouseholdIn, household_out
from intake.service_layer import handlers
from shared.access import AccessRecorder, reads_personal_data
from shared.auth import Principal
from shared.contracts.intake import LEGAL_BASIS_REGISTRATION
from shared.eventstore.access_log import ProcessingActivity
from shared.http import RequireScope, command_context, parse_if_match
from shared.ids import new_id
from shared.runtime import Runtime, runtime_of

router = APIRouter(prefix="/v1", tags=["households"])
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
IfMatch = Annotated[str | None, Header(alias="If-Match", description="ETag of the version you read")]
Writer = Annotated[Principal, Depends(RequireScope("intake:write"))]
Reader = Annotated[Principal, Depends(RequireScope("intake:read"))]
# Why intake serves a person's registered facts (the access log names it with every read).
REGISTRATION = ProcessingActivity("registration", LEGAL_BASIS_REGISTRATION)
RegistrationRead = Annotated[AccessRecorder, Depends(reads_personal_data(REGISTRATION))]


def _loaded(loaded: handlers.Loaded, response: Response) -> HouseholdOut:
    assert loaded.state is not None
    response.headers["ETag"] = f'"{loaded.version}"'
    return household_out(loaded.state)


@router.post(
    "/households",
    status_code=status.HTTP_201_CREATED,
    summary="Register a household that reported at a registration channel",
    description="Publishes HouseholdRegistered (v2) and one PersonRegistered per member. The first "
    "member is the head; every other member's relation is stated relative to the head.",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "example": {
                        "channel": "ter-apel",
                        "arrivalGroup": "first-application",
                        "members": [
                            {"role": "adult", "relation": "head", "birthYear": 1988, "nationality": "SYR"},
                            {"role": "child", "relation": "child", "birthYear": 2016, "nationality": "SYR"},
                        ],
                        "familyElsewhere": [],
                    }
                }
            }
        }
    },
)
async def register_household(
    body: RegisterHouseholdIn, response: Response, runtime: RuntimeDep, principal: Writer
) -> HouseholdOut:
    command = RegisterHousehold(
        household_id=new_id(),
        channel=body.channel,
        arrival_group=body.arrival_group,
        members=tuple(
            NewMember(
                person_id=new_id(),
                role=m.role,
                relation=m.relation,
                birth_year=m.birth_year,
                nationality=m.nationality,
            )
            for m in body.members
        ),
        family_elsewhere=tuple(body.family_elsewhere),
        occurred_at=body.occurred_at or datetime.now(UTC),
    )
    async with runtime.units_of_work() as uow:
        loaded = await handlers.register_household(uow, command, command_context(principal))
    response.headers["Location"] = f"/v1/households/{command.household_id}"
    return _loaded(loaded, response)


@router.get(
    "/households/{household_id}",
    summary="A registered household: its members' current facts and where intake stands",
)
async def get_household(
    household_id: str, response: Response, runtime: RuntimeDep, _: Reader, access: RegistrationRead
) -> HouseholdOut:
    async with runtime.units_of_work() as uow:
        loaded = await handlers.get_household(uow, household_id)
    household = _loaded(loaded, response)
    await access.read([household.household_id, *(m.person_id for m in household.members)])
    return household


@router.post(
    "/households/{household_id}/pre-registration",
    summary="Record the IND's pre-registration (voorregistratie) of the household, once",
    description="Publishes PreRegistrationCompleted. AVIM can identify the members only after this.",
    openapi_extra={"requestBody": {"content": {"application/json": {"example": {"language": "ar"}}}}},
)
async def pre_register(
    household_id: str,
    body: PreRegistrationIn,
    response: Response,
    runtime: RuntimeDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> HouseholdOut:
    expected = parse_if_match(if_match)
    command = PreRegister(
        household_id=household_id, language=body.language, occurred_at=body.occurred_at or datetime.now(UTC)
    )
    async with runtime.units_of_work() as uow:
        loaded = await handlers.pre_register(uow, command, command_context(principal), if_match=expected)
    return _loaded(loaded, response)
