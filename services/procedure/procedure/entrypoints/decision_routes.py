"""HTTP routes of procedure from the intended decision on: view, extended procedure, decision, appeal,
ruling. The appeal and the ruling are the court's facts, recorded by the IND in its case."""

from __future__ import annotations

from fastapi import APIRouter, Response

from procedure.domain import decision, hearings, preparation
from procedure.domain.commands import (
    IssueDecision,
    IssueIntendedDecision,
    LodgeAppeal,
    ReferToExtendedProcedure,
    RuleOnAppeal,
    SubmitView,
)
from procedure.entrypoints.common import (
    COMMAND_RESPONSES,
    IfMatch,
    RuntimeDep,
    Writer,
    example,
    execute,
    valid_time,
)
from procedure.entrypoints.schemas import (
    AppealIn,
    AppealRulingIn,
    ApplicationOut,
    Command,
    DecisionIn,
    IntendedDecisionIn,
)

router = APIRouter(prefix="/v1", tags=["decision"], responses=COMMAND_RESPONSES)


@router.post(
    "/applications/{application_id}/intended-decision",
    summary="Issue the intended decision (voornemen) to reject, after the hearings",
    openapi_extra=example({"intendedOutcome": "rejected-unfounded"}),
)
async def issue_intended_decision(
    application_id: str,
    body: IntendedDecisionIn,
    response: Response,
    runtime: RuntimeDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> ApplicationOut:
    command = IssueIntendedDecision(
        intended_outcome=body.intended_outcome, occurred_at=valid_time(runtime, body.occurred_at)
    )
    return await execute(
        runtime,
        application_id,
        lambda state: hearings.issue_intended_decision(state, command),
        principal,
        if_match,
        response,
    )


@router.post(
    "/applications/{application_id}/view",
    summary="Record the applicant's written view (zienswijze) on the intended decision",
    openapi_extra=example({"occurredAt": "2026-04-02T09:00:00Z"}),
)
async def submit_view(
    application_id: str,
    response: Response,
    runtime: RuntimeDep,
    principal: Writer,
    body: Command | None = None,
    if_match: IfMatch = None,
) -> ApplicationOut:
    command = SubmitView(occurred_at=valid_time(runtime, body.occurred_at if body else None))
    return await execute(
        runtime,
        application_id,
        lambda state: hearings.submit_view(state, command),
        principal,
        if_match,
        response,
    )


@router.post(
    "/applications/{application_id}/extended-procedure",
    summary="Refer the application to the extended asylum procedure (more research needed)",
    description="The person stays where they are. A decision in the extended procedure has a four-week "
    "appeal period (one week for manifestly unfounded, inadmissible and Dublin outcomes).",
    openapi_extra=example({"occurredAt": "2026-03-20T09:00:00Z"}),
)
async def refer_to_extended_procedure(
    application_id: str,
    response: Response,
    runtime: RuntimeDep,
    principal: Writer,
    body: Command | None = None,
    if_match: IfMatch = None,
) -> ApplicationOut:
    command = ReferToExtendedProcedure(occurred_at=valid_time(runtime, body.occurred_at if body else None))
    return await execute(
        runtime,
        application_id,
        lambda state: preparation.refer_to_extended_procedure(state, command),
        principal,
        if_match,
        response,
    )


@router.post(
    "/applications/{application_id}/decision",
    summary="Issue the decision; the departure and appeal periods follow from the outcome",
    description="A grant also grants the residence permit (five years). A negative decision becomes "
    "final when its appeal period passes without an appeal.",
    openapi_extra=example({"outcome": "rejected-unfounded"}),
)
async def issue_decision(
    application_id: str,
    body: DecisionIn,
    response: Response,
    runtime: RuntimeDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> ApplicationOut:
    command = IssueDecision(outcome=body.outcome, occurred_at=valid_time(runtime, body.occurred_at))
    return await execute(
        runtime,
        application_id,
        lambda state: decision.issue_decision(state, command),
        principal,
        if_match,
        response,
    )


@router.post(
    "/applications/{application_id}/appeal",
    summary="Record an appeal against the negative decision, within the appeal period",
    openapi_extra=example({"suspensive": True}),
)
async def lodge_appeal(
    application_id: str,
    body: AppealIn,
    response: Response,
    runtime: RuntimeDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> ApplicationOut:
    now = runtime.clock.now()  # a rule input: the appeal period must not have passed
    command = LodgeAppeal(suspensive=body.suspensive, occurred_at=body.occurred_at or now, now=now)
    return await execute(
        runtime,
        application_id,
        lambda state: decision.lodge_appeal(state, command),
        principal,
        if_match,
        response,
    )


@router.post(
    "/applications/{application_id}/appeal-ruling",
    summary="Record the court's ruling: unfounded (the decision is final) or well-founded (decide again)",
    openapi_extra=example({"outcome": "unfounded"}),
)
async def rule_on_appeal(
    application_id: str,
    body: AppealRulingIn,
    response: Response,
    runtime: RuntimeDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> ApplicationOut:
    command = RuleOnAppeal(outcome=body.outcome, occurred_at=valid_time(runtime, body.occurred_at))
    return await execute(
        runtime,
        application_id,
        lambda state: decision.rule_on_appeal(state, command),
        principal,
        if_match,
        response,
    )
