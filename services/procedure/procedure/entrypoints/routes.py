"""HTTP routes of procedure."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response
from pydantic import AwareDatetime

from procedure.domain import application
from procedure.domain.application import Application, DetermineReceptionStream, IssueDecision
from procedure.service_layer import handlers
from shared.api import ApiModel
from shared.auth import Principal
from shared.contracts.procedure import AcceleratedGround, DecisionOutcome, ReceptionStream
from shared.http import RequireScope, command_context, parse_if_match
from shared.runtime import Runtime, runtime_of

router = APIRouter(prefix="/v1", tags=["applications"])
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
IfMatch = Annotated[str | None, Header(alias="If-Match", description="ETag of the version you read")]


class ApplicationOut(ApiModel):
    application_id: str
    household_id: str
    person_ids: list[str]
    lodged_at: datetime
    stream: ReceptionStream | None
    ground: AcceleratedGround | None
    outcome: DecisionOutcome | None
    decided_at: datetime | None


class ReceptionStreamIn(ApiModel):
    stream: ReceptionStream
    ground: AcceleratedGround | None = None
    occurred_at: AwareDatetime | None = None


class DecisionIn(ApiModel):
    outcome: DecisionOutcome
    occurred_at: AwareDatetime | None = None


def _out(state: Application) -> ApplicationOut:
    return ApplicationOut(
        application_id=state.application_id,
        household_id=state.household_id,
        person_ids=list(state.person_ids),
        lodged_at=state.lodged_at,
        stream=state.stream,
        ground=state.ground,
        outcome=state.outcome,
        decided_at=state.decided_at,
    )


async def _read(runtime: Runtime, application_id: str, response: Response) -> ApplicationOut:
    async with runtime.units_of_work() as uow:
        loaded = await handlers.get(uow, application_id)
    assert loaded.state is not None
    response.headers["ETag"] = f'"{loaded.version}"'
    return _out(loaded.state)


@router.get("/applications/{application_id}", summary="An asylum application and where it stands")
async def get_application(
    application_id: str,
    response: Response,
    runtime: RuntimeDep,
    _: Annotated[Principal, Depends(RequireScope("procedure:read"))],
) -> ApplicationOut:
    return await _read(runtime, application_id, response)


@router.get("/households/{household_id}/application", summary="The application of a registered household")
async def get_household_application(
    household_id: str,
    response: Response,
    runtime: RuntimeDep,
    _: Annotated[Principal, Depends(RequireScope("procedure:read"))],
) -> ApplicationOut:
    return await _read(runtime, application.application_id_for(household_id), response)


@router.post(
    "/applications/{application_id}/reception-stream",
    summary="Determine the reception stream: accelerated (with its ground) or not accelerated",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"example": {"stream": "accelerated", "ground": "safe-country-of-origin"}}
            }
        }
    },
)
async def determine_reception_stream(
    application_id: str,
    body: ReceptionStreamIn,
    response: Response,
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(RequireScope("procedure:write"))],
    if_match: IfMatch = None,
) -> ApplicationOut:
    command = DetermineReceptionStream(
        application_id=application_id,
        stream=body.stream,
        ground=body.ground,
        occurred_at=body.occurred_at or datetime.now(UTC),
    )
    async with runtime.units_of_work() as uow:
        state, version = await handlers.act(
            uow,
            application_id,
            lambda s: application.determine_stream(s, command),
            command_context(principal),
            if_match=parse_if_match(if_match),
        )
    response.headers["ETag"] = f'"{version}"'
    return _out(state)


@router.post(
    "/applications/{application_id}/decision",
    summary="Issue the decision on the application",
    openapi_extra={"requestBody": {"content": {"application/json": {"example": {"outcome": "granted"}}}}},
)
async def issue_decision(
    application_id: str,
    body: DecisionIn,
    response: Response,
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(RequireScope("procedure:write"))],
    if_match: IfMatch = None,
) -> ApplicationOut:
    command = IssueDecision(
        application_id=application_id, outcome=body.outcome, occurred_at=body.occurred_at or datetime.now(UTC)
    )
    async with runtime.units_of_work() as uow:
        state, version = await handlers.act(
            uow,
            application_id,
            lambda s: application.decide_application(s, command),
            command_context(principal),
            if_match=parse_if_match(if_match),
        )
    response.headers["ETag"] = f'"{version}"'
    return _out(state)
