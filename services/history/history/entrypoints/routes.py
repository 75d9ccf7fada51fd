"""HTTP queries of the read side."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from history.service_layer.residence import residence_history
from history.service_layer.timeline import person_timeline
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
    end_reason: str | None


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
                end_reason=s.end_reason,
            )
            for s in found
        ],
    )


class TimelineEntryOut(ApiModel):
    """One fact about the person, shaped after the ZGW audittrail resource (uuid → eventId, bron →
    source, actie → type, aanmaakdatum → recordedAt), with the valid time and the causal chain added."""

    event_id: str
    type: str
    source: str
    actor: str
    occurred_at: datetime
    recorded_at: datetime
    correlation_id: str
    causation_id: str | None
    legal_basis: str
    data: dict[str, Any]


class TimelineOut(ApiModel):
    person_id: str
    entries: list[TimelineEntryOut]


@router.get(
    "/persons/{person_id}/timeline",
    tags=["timeline"],
    summary="Every fact about a person from every agency, in valid-time order, with who and why",
)
async def get_timeline(
    person_id: str,
    runtime: RuntimeDep,
    _: Annotated[Principal, Depends(RequireScope("history:read"))],
) -> TimelineOut:
    async with runtime.units_of_work() as uow:
        rows = await person_timeline(uow.session, person_id)
    if not rows:
        raise NotFound(f"no facts about person {person_id}")
    return TimelineOut(
        person_id=person_id,
        entries=[
            TimelineEntryOut(
                event_id=row["event_id"],
                type=row["event_type"],
                source=row["source"],
                actor=row["actor"],
                occurred_at=row["occurred_at"],
                recorded_at=row["recorded_at"],
                correlation_id=row["correlation_id"],
                causation_id=row["causation_id"],
                legal_basis=row["legal_basis"],
                data=dict(row["data"]),
            )
            for row in rows
        ],
    )
