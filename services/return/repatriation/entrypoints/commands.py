"""HTTP commands of the return service (DT&V). Each answers with the whole case and its new ETag, and
honours If-Match. "Now" comes from the service's clock, so a rule that needs it can be tested at any
moment; `occurredAt` (valid time) defaults to it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Response

from repatriation.domain.return_case import ReturnCase
from repatriation.domain.return_steps import (
    CompleteDublinTransfer,
    HoldDepartureInterview,
    RealiseDeparture,
    TakeLocalChainDecision,
)
from repatriation.entrypoints.schemas import (
    DepartureIn,
    DepartureInterviewIn,
    DublinTransferIn,
    LocalChainDecisionIn,
    ReturnCaseOut,
)
from repatriation.service_layer import handlers
from shared.auth import Principal
from shared.http import RequireScope, command_context, parse_if_match
from shared.runtime import Runtime, runtime_of

router = APIRouter(prefix="/v1/return-cases/{case_id}", tags=["return cases"])
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
Writer = Annotated[Principal, Depends(RequireScope("return:write"))]
IfMatch = Annotated[str | None, Header(alias="If-Match", description="ETag of the version you read")]


def _example(body: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"content": {"application/json": {"example": body}}}}


def _answer(response: Response, state: ReturnCase, version: int) -> ReturnCaseOut:
    response.headers["ETag"] = f'"{version}"'
    return ReturnCaseOut.of(state)


@router.post(
    "/departure-interview",
    summary="Record a departure interview (vertrekgesprek); there may be several",
    openapi_extra=_example({"cooperative": True, "occurredAt": "2026-06-03T10:00:00Z"}),
)
async def hold_departure_interview(
    case_id: str,
    body: DepartureInterviewIn,
    response: Response,
    runtime: RuntimeDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> ReturnCaseOut:
    now = runtime.clock.now()
    command = HoldDepartureInterview(
        cooperative=body.cooperative, occurred_at=body.occurred_at or now, now=now
    )
    async with runtime.units_of_work() as uow:
        state, version = await handlers.hold_departure_interview(
            uow, case_id, command, command_context(principal), if_match=parse_if_match(if_match)
        )
    return _answer(response, state, version)


@router.post(
    "/local-chain-decision",
    summary="Record the local chain decision (LKO): end reception, a longer azc stay, detention, the VBL "
    "(at most 12 weeks) or a family location (households with minor children); once per case",
    openapi_extra=_example({"option": "vbl", "until": "2026-08-20T00:00:00Z"}),
)
async def take_local_chain_decision(
    case_id: str,
    body: LocalChainDecisionIn,
    response: Response,
    runtime: RuntimeDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> ReturnCaseOut:
    now = runtime.clock.now()
    command = TakeLocalChainDecision(
        option=body.option, until=body.until, occurred_at=body.occurred_at or now, now=now
    )
    async with runtime.units_of_work() as uow:
        state, version = await handlers.take_local_chain_decision(
            uow, case_id, command, command_context(principal), if_match=parse_if_match(if_match)
        )
    return _answer(response, state, version)


@router.post(
    "/departure",
    summary="Record the departure (independent, forced or without supervision); closes the case",
    openapi_extra=_example({"departureType": "independent", "destinationCountry": "GEO"}),
)
async def realise_departure(
    case_id: str,
    body: DepartureIn,
    response: Response,
    runtime: RuntimeDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> ReturnCaseOut:
    now = runtime.clock.now()
    command = RealiseDeparture(
        departure_type=body.departure_type,
        destination_country=body.destination_country,
        occurred_at=body.occurred_at or now,
        now=now,
    )
    async with runtime.units_of_work() as uow:
        state, version = await handlers.realise_departure(
            uow, case_id, command, command_context(principal), if_match=parse_if_match(if_match)
        )
    return _answer(response, state, version)


@router.post(
    "/dublin-transfer",
    summary="Record the transfer to the responsible member state after a Dublin decision; closes the case",
    openapi_extra=_example({"memberState": "DE"}),
)
async def complete_dublin_transfer(
    case_id: str,
    body: DublinTransferIn,
    response: Response,
    runtime: RuntimeDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> ReturnCaseOut:
    now = runtime.clock.now()
    command = CompleteDublinTransfer(
        member_state=body.member_state, occurred_at=body.occurred_at or now, now=now
    )
    async with runtime.units_of_work() as uow:
        state, version = await handlers.complete_dublin_transfer(
            uow, case_id, command, command_context(principal), if_match=parse_if_match(if_match)
        )
    return _answer(response, state, version)
