"""HTTP routes of placement."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from pydantic import AwareDatetime, Field

from placement.adapters import locations as location_table
from placement.domain.location import Location, RegisterLocation
from placement.service_layer import handlers
from shared.api import ApiModel
from shared.auth import Principal
from shared.contracts.intake import MemberRole
from shared.contracts.placement import LocationType
from shared.http import RequireScope, command_context
from shared.ids import new_id
from shared.runtime import Runtime, runtime_of

router = APIRouter(prefix="/v1")
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


class LocationIn(ApiModel):
    name: str = Field(min_length=1, max_length=200, examples=["azc Gilze"])
    location_type: LocationType
    municipality: str = Field(min_length=1, max_length=100, examples=["Gilze en Rijen"])
    province: str = Field(min_length=1, max_length=50, examples=["Noord-Brabant"])
    capacity: int = Field(ge=0, le=100_000, examples=[600])
    occurred_at: AwareDatetime | None = None


class LocationOut(ApiModel):
    location_id: str
    name: str
    location_type: LocationType
    municipality: str
    province: str
    capacity: int
    occupied: int
    free_places: int


class MemberOut(ApiModel):
    person_id: str
    role: MemberRole


class ReceptionOut(ApiModel):
    household_id: str
    members: list[MemberOut]
    location: LocationOut
    moves: int
    forced_moves: int
    linked_municipality: str | None


def _location_out(state: Location) -> LocationOut:
    return LocationOut(
        location_id=state.location_id,
        name=state.name,
        location_type=state.location_type,
        municipality=state.municipality,
        province=state.province,
        capacity=state.capacity,
        occupied=state.occupied,
        free_places=state.free_places,
    )


@router.get("/locations", tags=["locations"], summary="All reception locations with their occupancy")
async def list_locations(
    runtime: RuntimeDep, _: Annotated[Principal, Depends(RequireScope("placement:read"))]
) -> list[LocationOut]:
    async with runtime.units_of_work() as uow:
        return [_location_out(state) for state in await location_table.all_locations(uow.session)]


@router.post(
    "/locations",
    tags=["locations"],
    status_code=status.HTTP_201_CREATED,
    summary="Register a reception location",
)
async def register_location(
    body: LocationIn,
    response: Response,
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(RequireScope("placement:write"))],
) -> LocationOut:
    command = RegisterLocation(
        location_id=new_id(),
        name=body.name,
        location_type=body.location_type,
        municipality=body.municipality,
        province=body.province,
        capacity=body.capacity,
        occurred_at=body.occurred_at or datetime.now(UTC),
    )
    async with runtime.units_of_work() as uow:
        state = await handlers.register_location(uow, command, command_context(principal))
    response.headers["Location"] = f"/v1/locations/{state.location_id}"
    return _location_out(state)


@router.get(
    "/households/{household_id}/reception",
    tags=["reception"],
    summary="Where a household stays now, and how often it moved",
)
async def get_reception(
    household_id: str,
    response: Response,
    runtime: RuntimeDep,
    _: Annotated[Principal, Depends(RequireScope("placement:read"))],
) -> ReceptionOut:
    async with runtime.units_of_work() as uow:
        loaded = await handlers.get_reception(uow, household_id)
        assert loaded.state is not None
        found = await location_table.get(uow.session, loaded.state.location_id)
    assert found is not None
    state = loaded.state
    response.headers["ETag"] = f'"{loaded.version}"'
    return ReceptionOut(
        household_id=state.household_id,
        members=[MemberOut(person_id=m.person_id, role=m.role) for m in state.members],
        location=_location_out(found[0]),
        moves=state.moves,
        forced_moves=state.forced_moves,
        linked_municipality=state.linked_municipality,
    )
