"""HTTP routes of procedure: reading an application, and the steps before the intended decision."""

from __future__ import annotations

from fastapi import APIRouter, Response

from procedure.domain import application, dublin, hearings, preparation
from procedure.domain.commands import (
    AcceptDublinClaim,
    AssignTrack,
    DetermineReceptionStream,
    ExtendDecisionDeadline,
    HoldHearing,
    SendDublinClaim,
    StartRestAndPreparationPeriod,
)
from procedure.entrypoints.common import (
    COMMAND_RESPONSES,
    IfMatch,
    ProcedureRead,
    Reader,
    RuntimeDep,
    Writer,
    example,
    execute,
    read,
    valid_time,
)
from procedure.entrypoints.schemas import (
    ApplicationOut,
    Command,
    DeadlineExtensionIn,
    DublinClaimIn,
    HearingIn,
    ReceptionStreamIn,
    RestAndPreparationPeriodIn,
    TrackIn,
)

router = APIRouter(prefix="/v1", tags=["applications"], responses={404: COMMAND_RESPONSES[404]})
commands = APIRouter(prefix="/v1", tags=["applications"], responses=COMMAND_RESPONSES)


@router.get("/applications/{application_id}", summary="An asylum application and where it stands")
async def get_application(
    application_id: str, response: Response, runtime: RuntimeDep, _: Reader, access: ProcedureRead
) -> ApplicationOut:
    found = await read(runtime, application_id, response)
    await access.read([found.household_id, *found.person_ids])
    return found


@router.get("/households/{household_id}/application", summary="The application of a registered household")
async def get_household_application(
    household_id: str, response: Response, runtime: RuntimeDep, _: Reader, access: ProcedureRead
) -> ApplicationOut:
    found = await read(runtime, application.application_id_for(household_id), response)
    await access.read([found.household_id, *found.person_ids])
    return found


@commands.post(
    "/applications/{application_id}/decision-deadline-extension",
    summary="Extend the decision deadline (6 months after lodging, extendable to 15 months at most)",
    openapi_extra=example({"newDeadline": "2027-01-12T08:00:00Z"}),
)
async def extend_decision_deadline(
    application_id: str,
    body: DeadlineExtensionIn,
    response: Response,
    runtime: RuntimeDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> ApplicationOut:
    command = ExtendDecisionDeadline(
        new_deadline=body.new_deadline, occurred_at=valid_time(runtime, body.occurred_at)
    )
    return await execute(
        runtime,
        application_id,
        lambda state: preparation.extend_decision_deadline(state, command),
        principal,
        if_match,
        response,
    )


@commands.post(
    "/applications/{application_id}/track",
    summary="Assign the track: 1-dublin, 2-safe-country-or-protected or 4-general (3 and 5 are not in use)",
    openapi_extra=example({"track": "4-general"}),
)
async def assign_track(
    application_id: str,
    body: TrackIn,
    response: Response,
    runtime: RuntimeDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> ApplicationOut:
    command = AssignTrack(track_code=body.track, occurred_at=valid_time(runtime, body.occurred_at))
    return await execute(
        runtime,
        application_id,
        lambda state: preparation.assign_track(state, command),
        principal,
        if_match,
        response,
    )


@commands.post(
    "/applications/{application_id}/reception-stream",
    summary="Determine the reception stream: accelerated (with its ground) or not accelerated",
    description="The one procedure fact that moves anyone: placement (COA) makes the process move on it.",
    openapi_extra=example({"stream": "accelerated", "ground": "safe-country-of-origin"}),
)
async def determine_reception_stream(
    application_id: str,
    body: ReceptionStreamIn,
    response: Response,
    runtime: RuntimeDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> ApplicationOut:
    command = DetermineReceptionStream(
        stream=body.stream, ground=body.ground, occurred_at=valid_time(runtime, body.occurred_at)
    )
    return await execute(
        runtime,
        application_id,
        lambda state: preparation.determine_stream(state, command),
        principal,
        if_match,
        response,
    )


@commands.post(
    "/applications/{application_id}/rest-and-preparation-period",
    summary="Start the rest and preparation period (at least 6 days) before the hearings",
    openapi_extra=example({"startsAt": "2026-01-19T08:00:00Z", "days": 6}),
)
async def start_rest_and_preparation_period(
    application_id: str,
    body: RestAndPreparationPeriodIn,
    response: Response,
    runtime: RuntimeDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> ApplicationOut:
    command = StartRestAndPreparationPeriod(days=body.days, occurred_at=valid_time(runtime, body.start))
    return await execute(
        runtime,
        application_id,
        lambda state: preparation.start_rest_period(state, command),
        principal,
        if_match,
        response,
    )


@commands.post(
    "/applications/{application_id}/hearings",
    summary="Record a hearing: the registration hearing, or the detailed hearing (general procedure only)",
    description="A hearing never moves anyone: the person travels to the IND office and back to their "
    "azc, or the IND holds it on location.",
    openapi_extra=example({"kind": "registration", "site": "ind-office", "indOffice": "Ter Apel"}),
)
async def hold_hearing(
    application_id: str,
    body: HearingIn,
    response: Response,
    runtime: RuntimeDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> ApplicationOut:
    command = HoldHearing(
        kind=body.kind,
        site=body.site,
        ind_office=body.ind_office,
        occurred_at=valid_time(runtime, body.occurred_at),
    )
    return await execute(
        runtime,
        application_id,
        lambda state: hearings.hold_hearing(state, command),
        principal,
        if_match,
        response,
    )


@commands.post(
    "/applications/{application_id}/dublin-claims",
    summary="Send a Dublin claim to the member state that is responsible (track 1 only)",
    openapi_extra=example({"memberState": "DE"}),
)
async def send_dublin_claim(
    application_id: str,
    body: DublinClaimIn,
    response: Response,
    runtime: RuntimeDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> ApplicationOut:
    command = SendDublinClaim(
        member_state=body.member_state, occurred_at=valid_time(runtime, body.occurred_at)
    )
    return await execute(
        runtime,
        application_id,
        lambda state: dublin.send_dublin_claim(state, command),
        principal,
        if_match,
        response,
    )


@commands.post(
    "/applications/{application_id}/dublin-claims/acceptance",
    summary="Record that the member state accepted the Dublin claim",
    openapi_extra=example({"occurredAt": "2026-03-02T10:00:00Z"}),
)
async def accept_dublin_claim(
    application_id: str,
    response: Response,
    runtime: RuntimeDep,
    principal: Writer,
    body: Command | None = None,
    if_match: IfMatch = None,
) -> ApplicationOut:
    command = AcceptDublinClaim(occurred_at=valid_time(runtime, body.occurred_at if body else None))
    return await execute(
        runtime,
        application_id,
        lambda state: dublin.accept_dublin_claim(state, command),
        principal,
        if_match,
        response,
    )
