"""HTTP routes of placement for a household's reception: read it, assess the child's interest, transfer,
execute a proposed transfer, record housing; and the placement recommendation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response, status

from placement.domain.reception import AssessChildInterest
from placement.entrypoints.schemas import (
    AssessmentCreated,
    AssessmentIn,
    AssessmentOut,
    ExcludedOut,
    ExecutionIn,
    HousingIn,
    LocationOut,
    MemberOut,
    MoveCorrectionIn,
    MoveCorrectionOut,
    OpenProposalOut,
    ReceptionOut,
    RecommendationIn,
    RecommendationOut,
    RecommendedOut,
    TransferIn,
)
from placement.service_layer import locations as location_service
from placement.service_layer import reception as reception_service
from shared.access import AccessRecorder, reads_personal_data
from shared.auth import Principal
from shared.contracts.placement import LEGAL_BASIS_RECEPTION, ReceptionEndReason
from shared.eventstore.access_log import ProcessingActivity
from shared.http import RequireScope, command_context, parse_if_match
from shared.ids import new_id
from shared.runtime import Runtime, runtime_of

router = APIRouter(prefix="/v1", tags=["reception"])
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
Reader = Annotated[Principal, Depends(RequireScope("placement:read"))]
Writer = Annotated[Principal, Depends(RequireScope("placement:write"))]
# Why placement serves a household's reception (the access log names it with every read).
RECEPTION = ProcessingActivity("reception", LEGAL_BASIS_RECEPTION)
ReceptionRead = Annotated[AccessRecorder, Depends(reads_personal_data(RECEPTION))]
IfMatch = Annotated[str | None, Header(alias="If-Match", description="ETag of the reception you read")]


async def _reception(runtime: Runtime, household_id: str, response: Response) -> ReceptionOut:
    async with runtime.units_of_work() as uow:
        loaded = await reception_service.get_reception(uow, household_id)
        state = loaded.state
        assert state is not None
        current, _ = await location_service.get_location(uow, state.location_id)
    response.headers["ETag"] = f'"{loaded.version}"'
    return ReceptionOut(
        household_id=state.household_id,
        members=[MemberOut(person_id=m.person_id, role=m.role) for m in state.members],
        location=LocationOut.of(current),
        moves=state.moves,
        forced_moves=state.forced_moves,
        forced_moves_of_children=state.forced_moves_with_children,
        process_moved=state.process_moved,
        assessments=[
            AssessmentOut(assessment_id=a.assessment_id, justification=a.justification, used=a.used)
            for a in state.assessments.values()
        ],
        proposals=[
            OpenProposalOut(
                proposal_id=p.proposal_id,
                to_location_id=p.to_location_id,
                proposed_for=p.proposed_for,
                reason=p.reason,
                forced=p.forced,
            )
            for p in state.proposals.values()
        ],
        linked_municipality=state.linked_municipality,
        ended=state.ended,
    )


@router.get(
    "/households/{household_id}/reception", summary="Where a household stays, how it moved, what is open"
)
async def get_reception(
    household_id: str, response: Response, runtime: RuntimeDep, _: Reader, access: ReceptionRead
) -> ReceptionOut:
    reception = await _reception(runtime, household_id, response)
    await access.read([reception.household_id, *(m.person_id for m in reception.members)])
    return reception


@router.post(
    "/households/{household_id}/child-interest-assessments",
    status_code=status.HTTP_201_CREATED,
    summary="Record a child-interest assessment (before any forced move of a household with children)",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "example": {
                        "firstDegreeFamilyNearby": False,
                        "medicalNecessity": False,
                        "schoolContinuity": True,
                        "justification": "location-closure-without-alternative",
                    }
                }
            }
        }
    },
)
async def assess_child_interest(
    household_id: str, body: AssessmentIn, runtime: RuntimeDep, principal: Writer
) -> AssessmentCreated:
    command = AssessChildInterest(
        assessment_id=new_id(),
        first_degree_family_nearby=body.first_degree_family_nearby,
        medical_necessity=body.medical_necessity,
        school_continuity=body.school_continuity,
        justification=body.justification,
        occurred_at=body.occurred_at or runtime.clock.now(),
    )
    async with runtime.units_of_work() as uow:
        assessment_id = await reception_service.assess_child_interest(
            uow, household_id, command, command_context(principal)
        )
    return AssessmentCreated(assessment_id=assessment_id)


@router.post(
    "/households/{household_id}/transfers",
    summary="Transfer a household (to a named location, or the best recommended one)",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"example": {"purpose": "htl", "reason": "measure", "forced": True}}
            }
        }
    },
)
async def transfer(
    household_id: str,
    body: TransferIn,
    response: Response,
    runtime: RuntimeDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> ReceptionOut:
    async with runtime.units_of_work() as uow:
        await reception_service.transfer(
            uow,
            household_id,
            target_id=body.to_location_id,
            purpose=body.purpose,
            reason=body.reason,
            forced=body.forced,
            assessment_id=body.assessment_id,
            occurred_at=body.occurred_at or runtime.clock.now(),
            context=command_context(principal),
            if_match=parse_if_match(if_match),
        )
    return await _reception(runtime, household_id, response)


@router.post(
    "/households/{household_id}/moves/{event_id}/correction",
    summary="Correct when a registered move happened (one correction per member of the move)",
    openapi_extra={
        "requestBody": {"content": {"application/json": {"example": {"occurredAt": "2026-02-03T14:00:00Z"}}}}
    },
)
async def correct_move(
    household_id: str, event_id: str, body: MoveCorrectionIn, runtime: RuntimeDep, principal: Writer
) -> MoveCorrectionOut:
    """`event_id` is the id of any member's `resident-transferred` fact of the move (as the read side's
    timeline shows it). The move keeps its place among the person's moves; counts do not change."""
    async with runtime.units_of_work() as uow:
        corrected = await reception_service.correct_move(
            uow, household_id, event_id, body.occurred_at, runtime.clock.now(), command_context(principal)
        )
    return MoveCorrectionOut(
        household_id=household_id, occurred_at=body.occurred_at, corrected_event_ids=corrected
    )


@router.post(
    "/households/{household_id}/transfer-proposals/{proposal_id}/execution",
    summary="Carry out a proposed transfer (on its proposed date unless another is given)",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"example": {"assessmentId": "0190a1b2-0000-7000-8000-000000000001"}}
            }
        }
    },
)
async def execute_proposal(
    household_id: str,
    proposal_id: str,
    body: ExecutionIn,
    response: Response,
    runtime: RuntimeDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> ReceptionOut:
    async with runtime.units_of_work() as uow:
        await reception_service.execute_proposal(
            uow,
            household_id,
            proposal_id,
            body.assessment_id,
            body.occurred_at,
            command_context(principal),
            if_match=parse_if_match(if_match),
        )
    return await _reception(runtime, household_id, response)


@router.post(
    "/households/{household_id}/housing",
    summary="The linked municipality housed the household: its reception ends",
)
async def housed(
    household_id: str,
    body: HousingIn,
    response: Response,
    runtime: RuntimeDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> ReceptionOut:
    async with runtime.units_of_work() as uow:
        await reception_service.end_reception(
            uow,
            household_id,
            ReceptionEndReason.HOUSED,
            body.occurred_at or runtime.clock.now(),
            command_context(principal),
            if_match=parse_if_match(if_match),
        )
    return await _reception(runtime, household_id, response)


@router.post(
    "/placement-recommendations",
    tags=["recommendation"],
    summary="Rank candidate locations for a household, with the reasons for each rank",
    description="Hard constraints first (type, room, closing, open water with children), then fewest moves, "
    "staying near (family, province, school region), the province's share of the national target, and "
    "avoiding locations flagged to be avoided.",
    responses={404: {"description": "The `householdId` names no household this service knows"}},
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "example": {"purpose": "process-not-accelerated", "size": 4, "hasChildren": True}
                }
            }
        }
    },
)
async def recommend(body: RecommendationIn, runtime: RuntimeDep, _: Reader) -> RecommendationOut:
    async with runtime.units_of_work() as uow:
        if body.household_id is not None:
            loaded = await reception_service.get_reception(uow, body.household_id)
            assert loaded.state is not None
            current, _version = await location_service.get_location(uow, loaded.state.location_id)
            household = await reception_service.profile(uow, loaded.state, current)
        else:
            household = await reception_service.profile(
                uow, None, None, size=body.size or 1, has_children=bool(body.has_children)
            )
        ranking = await reception_service.rank(uow, household, body.purpose)
    return RecommendationOut(
        purpose=body.purpose,
        recommended=[
            RecommendedOut(rank=r.rank, location=LocationOut.of(r.location), reasons=list(r.reasons))
            for r in ranking.recommended
        ],
        excluded=[
            ExcludedOut(location=LocationOut.of(e.location), reasons=list(e.reasons))
            for e in ranking.excluded
        ],
    )
