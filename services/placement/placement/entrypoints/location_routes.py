"""HTTP routes of placement for locations: the registry, capacity, closure."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from placement.adapters import locations as location_table
from placement.domain.location import AnnounceClosure, ChangeCapacity, RegisterLocation
from placement.entrypoints.schemas import (
    CapacityIn,
    ClosureIn,
    ClosureOut,
    LocationIn,
    LocationOut,
    ProposalOut,
)
from placement.service_layer import locations as location_service
from shared.auth import Principal
from shared.http import RequireScope, command_context
from shared.ids import new_id
from shared.runtime import Runtime, runtime_of

router = APIRouter(prefix="/v1", tags=["locations"])
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
Reader = Annotated[Principal, Depends(RequireScope("placement:read"))]
Writer = Annotated[Principal, Depends(RequireScope("placement:write"))]


@router.get("/locations", summary="All reception locations with their occupancy and features")
async def list_locations(runtime: RuntimeDep, _: Reader) -> list[LocationOut]:
    async with runtime.units_of_work() as uow:
        return [LocationOut.of(state) for state in await location_table.all_locations(uow.session)]


@router.get("/locations/{location_id}", summary="One reception location")
async def get_location(location_id: str, response: Response, runtime: RuntimeDep, _: Reader) -> LocationOut:
    async with runtime.units_of_work() as uow:
        state, version = await location_service.get_location(uow, location_id)
    response.headers["ETag"] = f'"{version}"'
    return LocationOut.of(state)


@router.post(
    "/locations",
    status_code=status.HTTP_201_CREATED,
    summary="Register a reception location",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "example": {
                        "name": "azc Gilze",
                        "locationType": "azc-regulier",
                        "municipality": "Gilze en Rijen",
                        "province": "Noord-Brabant",
                        "capacity": 600,
                        "nearOpenWater": False,
                        "schoolNearby": True,
                        "medicalFacilities": False,
                    }
                }
            }
        }
    },
)
async def register_location(
    body: LocationIn, response: Response, runtime: RuntimeDep, principal: Writer
) -> LocationOut:
    command = RegisterLocation(
        location_id=new_id(),
        name=body.name,
        location_type=body.location_type,
        municipality=body.municipality,
        province=body.province,
        capacity=body.capacity,
        near_open_water=body.near_open_water,
        school_nearby=body.school_nearby,
        medical_facilities=body.medical_facilities,
        occurred_at=body.occurred_at or runtime.clock.now(),
    )
    async with runtime.units_of_work() as uow:
        state = await location_service.register_location(uow, command, command_context(principal))
    response.headers["Location"] = f"/v1/locations/{state.location_id}"
    return LocationOut.of(state)


@router.post(
    "/locations/{location_id}/capacity",
    summary="Change a location's capacity (never below occupancy)",
    openapi_extra={"requestBody": {"content": {"application/json": {"example": {"capacity": 450}}}}},
)
async def change_capacity(
    location_id: str, body: CapacityIn, runtime: RuntimeDep, principal: Writer
) -> LocationOut:
    command = ChangeCapacity(capacity=body.capacity, occurred_at=body.occurred_at or runtime.clock.now())
    async with runtime.units_of_work() as uow:
        state = await location_service.change_capacity(uow, location_id, command, command_context(principal))
    return LocationOut.of(state)


@router.post(
    "/locations/{location_id}/closure",
    summary="Announce a closure: every household staying there gets a proposed transfer",
    description="Households with children are proposed a date in the first school holiday before the closure "
    "(COA's guideline quoted in the 2024 letter); the others move on the closing date.",
    openapi_extra={
        "requestBody": {"content": {"application/json": {"example": {"closesAt": "2027-01-15T09:00:00Z"}}}}
    },
)
async def announce_closure(
    location_id: str, body: ClosureIn, runtime: RuntimeDep, principal: Writer
) -> ClosureOut:
    command = AnnounceClosure(closes_at=body.closes_at, occurred_at=body.occurred_at or runtime.clock.now())
    async with runtime.units_of_work() as uow:
        plan = await location_service.announce_closure(uow, location_id, command, command_context(principal))
    return ClosureOut(
        location=LocationOut.of(plan.location),
        proposals=[
            ProposalOut(
                proposal_id=proposal_id, household_id=household_id, to_location_id=target, proposed_for=when
            )
            for household_id, proposal_id, target, when in plan.proposals
        ],
        households_without_place=plan.without_place,
    )


@router.post("/locations/{location_id}/closed", summary="Close an empty location")
async def close_location(location_id: str, runtime: RuntimeDep, principal: Writer) -> LocationOut:
    async with runtime.units_of_work() as uow:
        state = await location_service.close_location(
            uow, location_id, datetime.now(UTC), command_context(principal)
        )
    return LocationOut.of(state)
