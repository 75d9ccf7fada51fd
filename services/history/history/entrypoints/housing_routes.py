"""The municipality's housing view (`housing:read`): the households linked to the caller's own
municipality, with what housing them needs and nothing more.

The municipality is the token's `municipality` claim, never a parameter: a municipality cannot ask for
another's households, and one linked elsewhere answers 404 exactly like an unknown one, so not even its
existence leaks. An auditor (`audit:read`) reads every municipality's households; no one else reads
this view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from history.domain.housing import HousingHousehold, PermitStatus
from history.entrypoints.access import HousingRead, RuntimeDep, applied_first
from history.service_layer.housing import household_linked_to, households_linked_to
from shared.api import ApiModel
from shared.auth import AuthorisationError, Principal
from shared.domain import NotFound
from shared.http import Problem, authenticated

HOUSING = "housing:read"
AUDIT = "audit:read"


@dataclass(frozen=True, slots=True)
class HousingReader:
    """Whose households the caller may see: one municipality's, or (None) every one's."""

    municipality: str | None


async def housing_reader(principal: Annotated[Principal, Depends(authenticated)]) -> HousingReader:
    if HOUSING in principal.scopes:
        # the claim is the issuer's; anything but a non-empty code names no municipality
        if not isinstance(principal.municipality, str) or not principal.municipality:
            raise Problem(
                403,
                "Not allowed for this client.",
                "the housing view answers a municipality about its own households: the token must name "
                "the municipality (claim 'municipality')",
                code="municipality-claim-missing",
            )
        return HousingReader(municipality=principal.municipality)
    if AUDIT in principal.scopes:
        return HousingReader(municipality=None)
    raise AuthorisationError(
        f"this operation needs scope {HOUSING!r} or {AUDIT!r}; the token has "
        f"{', '.join(sorted(principal.scopes)) or 'none'}"
    )


Reader = Annotated[HousingReader, Depends(housing_reader)]

# Who the caller is and whose households it may see are settled first (a stranger never waits), then the
# answer waits for the events named in `after`.
router = APIRouter(
    prefix="/v1/housing",
    tags=["housing"],
    dependencies=[Depends(housing_reader), Depends(applied_first(HOUSING, AUDIT))],
)


class HousingHouseholdOut(ApiModel):
    """What a municipality needs to house a household: no names, no nationality, no asylum grounds or
    hearing details, no locations (a name, where needed, is opened through intake's vault)."""

    household_id: str
    municipality_code: str = Field(description="The municipality the household is linked to (koppeling)")
    linked_on: datetime = Field(description="When COA linked the household to the municipality")
    household_size: int | None = Field(
        description="Members registered with the household; null until the registration reached the read side"
    )
    permit_status: PermitStatus = Field(
        description="'granted' once the residence permit's fact reached the read side, else 'not-recorded'"
    )
    permit_granted_on: datetime | None = Field(description="When the residence permit was granted")

    @classmethod
    def of(cls, household: HousingHousehold) -> HousingHouseholdOut:
        return cls(
            household_id=household.household_id,
            municipality_code=household.municipality,
            linked_on=household.linked_on,
            household_size=household.household_size,
            permit_status=household.permit_status,
            permit_granted_on=household.permit_granted_on,
        )


class HousingHouseholdsPage(ApiModel):
    count: int
    next: str | None
    previous: str | None
    results: list[HousingHouseholdOut]


@router.get(
    "/households",
    summary="The households linked to the caller's municipality, in the order they were linked (paginated)",
)
async def get_housing_households(
    request: Request,
    runtime: RuntimeDep,
    reader: Reader,
    access: HousingRead,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=500)] = 100,
) -> HousingHouseholdsPage:
    async with runtime.units_of_work() as uow:
        households = await households_linked_to(uow.session, reader.municipality)
    first = (page - 1) * page_size
    shown = households[first : first + page_size]
    await access.read(h.household_id for h in shown)
    return HousingHouseholdsPage(
        count=len(households),
        next=str(request.url.include_query_params(page=page + 1))
        if first + page_size < len(households)
        else None,
        previous=str(request.url.include_query_params(page=page - 1)) if page > 1 else None,
        results=[HousingHouseholdOut.of(h) for h in shown],
    )


@router.get(
    "/households/{household_id}",
    summary="One household linked to the caller's municipality (404 for any other, as for an unknown one)",
)
async def get_housing_household(
    household_id: str, runtime: RuntimeDep, reader: Reader, access: HousingRead
) -> HousingHouseholdOut:
    async with runtime.units_of_work() as uow:
        found = await household_linked_to(uow.session, household_id, reader.municipality)
    if found is None:
        raise NotFound(f"no household {household_id} linked to this municipality")
    await access.read([household_id])
    return HousingHouseholdOut.of(found)
