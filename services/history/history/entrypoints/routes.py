"""HTTP queries of the read side."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from history.domain.moves import Move, children_policy
from history.domain.need_to_know import visible_data
from history.domain.stays import Stay
from history.entrypoints.access import (
    PERSON_LEVEL,
    ChildrenPolicyRead,
    MovesRead,
    ResidenceHistoryRead,
    RuntimeDep,
    TimelineRead,
    applied_first,
)
from history.entrypoints.moments import DateMeans, MomentParser
from history.service_layer.erasure import erased_since
from history.service_layer.moves import all_moves
from history.service_layer.residence import HistoryQuery, residence_history
from history.service_layer.timeline import person_timeline
from shared.access import AccessRecorder
from shared.api import ApiModel
from shared.auth import Principal
from shared.contracts.registry import UnknownEventType
from shared.domain import NotFound
from shared.http import RequireScope
from shared.runtime import Runtime

router = APIRouter(
    prefix="/v1", tags=["residence history"], dependencies=[Depends(applied_first(PERSON_LEVEL))]
)


class StayOut(ApiModel):
    location_id: str
    location_name: str
    location_type: str
    municipality: str
    province: str
    valid_from: datetime
    valid_to: datetime | None
    reason: str
    forced: bool = Field(description="Whether the move that started this stay was forced")
    end_reason: str | None
    event_id: str = Field(description="The fact that started the stay (a move's member fact)")
    recorded_at: datetime = Field(description="When the chain learned of the move that started the stay")
    registered_valid_from: datetime = Field(description="The valid time first registered for that move")
    corrected_at: datetime | None = Field(description="When its valid time was corrected, if it was")

    @classmethod
    def of(cls, stay: Stay) -> StayOut:
        return cls(
            location_id=stay.location_id,
            location_name=stay.location_name,
            location_type=stay.location_type,
            municipality=stay.municipality,
            province=stay.province,
            valid_from=stay.valid_from,
            valid_to=stay.valid_to,
            reason=stay.reason,
            forced=stay.forced,
            end_reason=stay.end_reason,
            event_id=stay.event_id,
            recorded_at=stay.recorded_at,
            registered_valid_from=stay.registered_valid_from,
            corrected_at=stay.corrected_at,
        )


class ResidenceHistoryOut(ApiModel):
    person_id: str
    household_id: str
    valid_at: datetime | None = Field(None, description="The valid moment asked for (geldigOp)")
    known_at: datetime | None = Field(None, description="The knowledge moment asked for (beschikbaarOp)")
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    stays: list[StayOut]


VALID_AT = "Where was the person at this moment (a date means the end of that day, UTC)"
KNOWN_AT = "As the chain knew it at this moment: only facts recorded until then (a date: end of day)"
VALID_FROM = "Stays overlapping the period from this moment (a date: start of day)"
VALID_TO = "Stays overlapping the period until this moment, exclusive (a date: start of day)"


class ResidenceHistorySearch(ApiModel):
    """Search by POST (Dutch API Design Rules): the person id travels in the body, not the URL."""

    person_id: str = Field(min_length=1, max_length=36)
    valid_at: str | None = Field(None, description=VALID_AT, examples=["2026-02-03"])
    known_at: str | None = Field(None, description=KNOWN_AT, examples=["2026-03-01T00:00:00Z"])
    valid_from: str | None = Field(None, description=VALID_FROM)
    valid_to: str | None = Field(None, description=VALID_TO)


def _history_query(
    valid_at: str | None, known_at: str | None, valid_from: str | None, valid_to: str | None
) -> HistoryQuery:
    parser = MomentParser()
    query = HistoryQuery(
        valid_at=parser.parse("validAt", valid_at, DateMeans.END_OF_DAY),
        known_at=parser.parse("knownAt", known_at, DateMeans.END_OF_DAY),
        valid_from=parser.parse("validFrom", valid_from, DateMeans.START_OF_DAY),
        valid_to=parser.parse("validTo", valid_to, DateMeans.START_OF_DAY),
    )
    if valid_at and (valid_from or valid_to):
        parser.fail("validAt", "exclusive", "ask for one moment (validAt) or a period (validFrom/validTo)")
    if query.valid_from and query.valid_to and query.valid_to <= query.valid_from:
        parser.fail("validTo", "before-valid-from", "validTo must lie after validFrom")
    parser.raise_if_invalid()
    return query


async def _answer(
    runtime: Runtime, access: AccessRecorder, person_id: str, query: HistoryQuery
) -> ResidenceHistoryOut:
    async with runtime.units_of_work() as uow:
        found = await residence_history(uow.session, person_id, query)
    if found is None:
        raise NotFound(f"no residence history for person {person_id}")
    await access.read([person_id])
    return ResidenceHistoryOut(
        person_id=person_id,
        household_id=found.household_id,
        valid_at=query.valid_at,
        known_at=query.known_at,
        valid_from=query.valid_from,
        valid_to=query.valid_to,
        stays=[StayOut.of(s) for s in found.stays],
    )


@router.get(
    "/persons/{person_id}/residence-history",
    summary="Where a person stayed: at a valid moment, as known at a moment, or over a period",
)
async def get_residence_history(
    person_id: str,
    runtime: RuntimeDep,
    _: Annotated[Principal, Depends(RequireScope("history:read"))],
    access: ResidenceHistoryRead,
    valid_at: Annotated[str | None, Query(alias="validAt", description=VALID_AT)] = None,
    known_at: Annotated[str | None, Query(alias="knownAt", description=KNOWN_AT)] = None,
    valid_from: Annotated[str | None, Query(alias="validFrom", description=VALID_FROM)] = None,
    valid_to: Annotated[str | None, Query(alias="validTo", description=VALID_TO)] = None,
) -> ResidenceHistoryOut:
    return await _answer(runtime, access, person_id, _history_query(valid_at, known_at, valid_from, valid_to))


@router.post(
    "/residence-history/_zoek",
    summary="Search a person's residence history by POST (no identifier in the URL)",
    responses={404: {"description": "No residence history for this person"}},
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "example": {
                        "personId": "0190a1b2-0000-7000-8000-000000000001",
                        "validAt": "2026-02-03",
                        "knownAt": "2026-03-01T00:00:00Z",
                    }
                }
            }
        }
    },
)
async def search_residence_history(
    body: ResidenceHistorySearch,
    runtime: RuntimeDep,
    _: Annotated[Principal, Depends(RequireScope("history:read"))],
    access: ResidenceHistoryRead,
) -> ResidenceHistoryOut:
    query = _history_query(body.valid_at, body.known_at, body.valid_from, body.valid_to)
    return await _answer(runtime, access, body.person_id, query)


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
    personal_data_erased_at: datetime | None = Field(
        description="When intake erased the person's identity (crypto-shredding); the facts stay, without "
        "their personal fields (sealed name, V-number reference)"
    )
    entries: list[TimelineEntryOut]


def _owner_only_fields(runtime: Runtime, event_type: str, data: dict[str, Any]) -> tuple[str, ...]:
    try:
        return runtime.registry.model_for(event_type).owner_only_fields
    except UnknownEventType:  # stored by a newer version (rolled back since): its owner's readers only
        return tuple(data)


@router.get(
    "/persons/{person_id}/timeline",
    tags=["timeline"],
    summary="Every fact about a person from every agency, in valid-time order, with who and why",
)
async def get_timeline(
    person_id: str,
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(RequireScope("history:read"))],
    access: TimelineRead,
) -> TimelineOut:
    async with runtime.units_of_work() as uow:
        rows = await person_timeline(uow.session, person_id)
        erased_at = await erased_since(uow.session, person_id)
    if not rows:
        raise NotFound(f"no facts about person {person_id}")
    await access.read([person_id])
    return TimelineOut(
        person_id=person_id,
        personal_data_erased_at=erased_at,
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
                # without the fields the fact's owner keeps to itself, unless the reader holds its scope
                data=visible_data(
                    row["event_type"],
                    dict(row["data"]),
                    _owner_only_fields(runtime, row["event_type"], dict(row["data"])),
                    principal.scopes,
                ),
            )
            for row in rows
        ],
    )


class MoveOut(ApiModel):
    event_id: str
    person_id: str
    household_id: str
    occurred_at: datetime
    recorded_at: datetime
    from_location_id: str
    from_location_type: str
    from_province: str
    to_location_id: str
    to_location_name: str
    to_location_type: str
    to_province: str
    reason: str
    forced: bool
    involves_children: bool
    child: bool = Field(description="The person was under 18 in the year of the move (by birth year)")
    age: int | None = Field(description="Age by birth year in the year of the move")
    in_school_holiday: bool = Field(description="In a school holiday of the province moved from")
    out_of_region: bool = Field(description="The province changed")

    @classmethod
    def of(cls, move: Move) -> MoveOut:
        return cls(
            **{name: getattr(move, name) for name in Move.__dataclass_fields__},
            out_of_region=move.out_of_region,
        )


class MovesPage(ApiModel):
    count: int
    next: str | None
    previous: str | None
    results: list[MoveOut]


def _in_place(move: Move, province: str | None, location_type: str | None) -> bool:
    return (province is None or province in (move.from_province, move.to_province)) and (
        location_type is None or move.to_location_type == location_type
    )


def _page_url(request: Request, page: int) -> str:
    return str(request.url.include_query_params(page=page))


PageNumber = Annotated[int, Query(ge=1)]
PageSize = Annotated[int, Query(alias="pageSize", ge=1, le=500)]


@router.get("/moves", tags=["moves"], summary="Moves, filtered, in valid-time order (paginated)")
async def get_moves(
    request: Request,
    runtime: RuntimeDep,
    _: Annotated[Principal, Depends(RequireScope("history:read"))],
    access: MovesRead,
    valid_from: Annotated[str | None, Query(alias="validFrom", description=VALID_FROM)] = None,
    valid_to: Annotated[str | None, Query(alias="validTo", description=VALID_TO)] = None,
    known_at: Annotated[str | None, Query(alias="knownAt", description=KNOWN_AT)] = None,
    province: Annotated[str | None, Query(description="Moved from or to this province")] = None,
    location_type: Annotated[
        str | None, Query(alias="locationType", description="Moved to this type")
    ] = None,
    forced: bool | None = None,
    reason: str | None = None,
    involves_children: Annotated[bool | None, Query(alias="involvesChildren")] = None,
    page: PageNumber = 1,
    page_size: PageSize = 100,
) -> MovesPage:
    query = _history_query(None, known_at, valid_from, valid_to)
    async with runtime.units_of_work() as uow:
        moves = await all_moves(
            uow.session, known_at=query.known_at, valid_from=query.valid_from, valid_to=query.valid_to
        )
    selected = [
        m
        for m in moves
        if _in_place(m, province, location_type)
        and (forced is None or m.forced == forced)
        and (reason is None or m.reason == reason)
        and (involves_children is None or m.involves_children == involves_children)
    ]
    first = (page - 1) * page_size
    shown = selected[first : first + page_size]
    await access.read(m.person_id for m in shown)
    return MovesPage(
        count=len(selected),
        next=_page_url(request, page + 1) if first + page_size < len(selected) else None,
        previous=_page_url(request, page - 1) if page > 1 else None,
        results=[MoveOut.of(m) for m in shown],
    )


class ForcedMovesOut(ApiModel):
    person_id: str
    household_id: str
    forced_moves: list[MoveOut]


class ChildrenPolicyOut(ApiModel):
    """The letter of 2024: at most one forced move for a child; moves in school holidays; near where
    they were. Each list is complete for the period asked."""

    valid_from: datetime | None
    valid_to: datetime | None
    known_at: datetime | None
    children_moved_by_force_more_than_once: list[ForcedMovesOut]
    school_age_moves_outside_holidays: list[MoveOut]
    out_of_region_moves: list[MoveOut]


@router.get(
    "/children-policy",
    tags=["moves"],
    summary="Children moved by force more than once, school-age moves outside holidays, moves out of region",
)
async def get_children_policy(
    runtime: RuntimeDep,
    _: Annotated[Principal, Depends(RequireScope("history:read"))],
    access: ChildrenPolicyRead,
    valid_from: Annotated[str | None, Query(alias="validFrom", description=VALID_FROM)] = None,
    valid_to: Annotated[str | None, Query(alias="validTo", description=VALID_TO)] = None,
    known_at: Annotated[str | None, Query(alias="knownAt", description=KNOWN_AT)] = None,
    province: Annotated[str | None, Query(description="Moves from or to this province")] = None,
    location_type: Annotated[
        str | None, Query(alias="locationType", description="Moves to this type")
    ] = None,
) -> ChildrenPolicyOut:
    query = _history_query(None, known_at, valid_from, valid_to)
    async with runtime.units_of_work() as uow:
        moves = await all_moves(
            uow.session, known_at=query.known_at, valid_from=query.valid_from, valid_to=query.valid_to
        )
    # The policy is judged on all moves (a child's two forced moves may be in two provinces); the
    # filters then keep the entries with a move in the place asked about.
    policy = children_policy(moves)

    def here(move: Move) -> bool:
        return _in_place(move, province, location_type)

    answer = ChildrenPolicyOut(
        valid_from=query.valid_from,
        valid_to=query.valid_to,
        known_at=query.known_at,
        children_moved_by_force_more_than_once=[
            ForcedMovesOut(
                person_id=f.person_id,
                household_id=f.household_id,
                forced_moves=[MoveOut.of(m) for m in f.forced_moves],
            )
            for f in policy.forced_more_than_once
            if any(here(m) for m in f.forced_moves)
        ],
        school_age_moves_outside_holidays=[
            MoveOut.of(m) for m in policy.school_age_outside_holidays if here(m)
        ],
        out_of_region_moves=[MoveOut.of(m) for m in policy.out_of_region if here(m)],
    )
    await access.read(
        [entry.person_id for entry in answer.children_moved_by_force_more_than_once]
        + [m.person_id for m in answer.school_age_moves_outside_holidays]
        + [m.person_id for m in answer.out_of_region_moves]
    )
    return answer
