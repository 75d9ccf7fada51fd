"""HTTP queries of the read side."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends

from history.service_layer.residence import residence_history
from shared.api import ApiModel
from shared.auth import Principal
from shared.domain import NotFound
from shared.http import RequireScope
from shared.runtime import Runtime, runtime_of

router = APIRouter(prefix="/v1", tags=["residence history"])
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


class StayOut(ApiModel):
    location_id: str
    location_name: str
    location_type: str
    municipality: str
    province: str
    valid_from: datetime
    valid_to: datetime | None
    reason: str
    forced: bool


class ResidenceHistoryOut(ApiModel):
    person_id: str
    household_id: str
    stays: list[StayOut]


@router.get(
    "/persons/{person_id}/residence-history",
    summary="Where a person stayed: location, type, valid from, valid to",
)
async def get_residence_history(
    person_id: str,
    runtime: RuntimeDep,
    _: Annotated[Principal, Depends(RequireScope("history:read"))],
) -> ResidenceHistoryOut:
    async with runtime.units_of_work() as uow:
        found = await residence_history(uow.session, person_id)
    if not found:
        raise NotFound(f"no residence history for person {person_id}")
    return ResidenceHistoryOut(
        person_id=person_id,
        household_id=found[-1].household_id,
        stays=[
            StayOut(
                location_id=s.location_id,
                location_name=s.location_name,
                location_type=s.location_type,
                municipality=s.municipality,
                province=s.province,
                valid_from=s.valid_from,
                valid_to=s.valid_to,
                reason=s.reason,
                forced=s.forced,
            )
            for s in found
        ],
    )
