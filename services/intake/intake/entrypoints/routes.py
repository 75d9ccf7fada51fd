"""HTTP routes of intake: translate HTTP to commands and back, nothing more."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from pydantic import AwareDatetime, Field

from intake.domain.household import Household, NewMember, RegisterHousehold
from intake.service_layer import handlers
from shared.api import ApiModel
from shared.auth import Principal
from shared.contracts.intake import MemberRole, RegistrationChannel
from shared.http import RequireScope, command_context
from shared.ids import new_id
from shared.runtime import Runtime, runtime_of

router = APIRouter(prefix="/v1", tags=["households"])


class MemberIn(ApiModel):
    role: MemberRole
    birth_year: int = Field(ge=1900, le=2100, examples=[1990])
    nationality: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 3166-1 alpha-3", examples=["SYR"])


class RegisterHouseholdIn(ApiModel):
    channel: RegistrationChannel = RegistrationChannel.TER_APEL
    members: list[MemberIn] = Field(min_length=1, max_length=30)
    occurred_at: AwareDatetime | None = Field(
        None, description="When the household reported (valid time); defaults to now"
    )


class MemberOut(ApiModel):
    person_id: str
    role: MemberRole
    birth_year: int
    nationality: str


class HouseholdOut(ApiModel):
    household_id: str
    channel: RegistrationChannel
    members: list[MemberOut]
    registered_at: datetime


def _out(state: Household) -> HouseholdOut:
    return HouseholdOut(
        household_id=state.household_id,
        channel=state.channel,
        members=[
            MemberOut(person_id=m.person_id, role=m.role, birth_year=m.birth_year, nationality=m.nationality)
            for m in state.members
        ],
        registered_at=state.registered_at,
    )


RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


@router.post(
    "/households",
    status_code=status.HTTP_201_CREATED,
    summary="Register a household that reported at a registration channel",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "example": {
                        "channel": "ter-apel",
                        "members": [
                            {"role": "adult", "birthYear": 1988, "nationality": "SYR"},
                            {"role": "child", "birthYear": 2016, "nationality": "SYR"},
                        ],
                    }
                }
            }
        }
    },
)
async def register_household(
    body: RegisterHouseholdIn,
    response: Response,
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(RequireScope("intake:write"))],
) -> HouseholdOut:
    command = RegisterHousehold(
        household_id=new_id(),
        channel=body.channel,
        members=tuple(
            NewMember(person_id=new_id(), role=m.role, birth_year=m.birth_year, nationality=m.nationality)
            for m in body.members
        ),
        occurred_at=body.occurred_at or datetime.now(UTC),
    )
    async with runtime.units_of_work() as uow:
        state = await handlers.register_household(uow, command, command_context(principal))
    response.headers["Location"] = f"/v1/households/{state.household_id}"
    response.headers["ETag"] = '"1"'
    return _out(state)


@router.get("/households/{household_id}", summary="A registered household and its members")
async def get_household(
    household_id: str,
    response: Response,
    runtime: RuntimeDep,
    _: Annotated[Principal, Depends(RequireScope("intake:read"))],
) -> HouseholdOut:
    async with runtime.units_of_work() as uow:
        loaded = await handlers.get_household(uow, household_id)
    assert loaded.state is not None
    response.headers["ETag"] = f'"{loaded.version}"'
    return _out(loaded.state)
