"""What every procedure route shares: dependencies, the one way a command runs, OpenAPI examples."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Response

from procedure.domain.application import Application
from procedure.entrypoints.schemas import ApplicationOut, application_out
from procedure.service_layer import handlers
from shared.access import AccessRecorder, reads_personal_data
from shared.auth import Principal
from shared.contracts.base import Event
from shared.contracts.procedure import LEGAL_BASIS_PROCEDURE
from shared.eventstore.access_log import ProcessingActivity
from shared.http import RequireScope, command_context, parse_if_match
from shared.runtime import Runtime, runtime_of

RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
Reader = Annotated[Principal, Depends(RequireScope("procedure:read"))]
# Why the procedure serves an application (the access log names it with every read).
PROCEDURE = ProcessingActivity("asylum-procedure", LEGAL_BASIS_PROCEDURE)
ProcedureRead = Annotated[AccessRecorder, Depends(reads_personal_data(PROCEDURE))]
Writer = Annotated[Principal, Depends(RequireScope("procedure:write"))]
IfMatch = Annotated[str | None, Header(alias="If-Match", description="ETag of the version you read")]


def valid_time(runtime: Runtime, occurred_at: datetime | None) -> datetime:
    """The command's valid time: what the caller said, or now by the service clock (never the system
    clock directly, so a test or a rehearsal can move time)."""
    return occurred_at or runtime.clock.now()


async def execute(
    runtime: Runtime,
    application_id: str,
    decide: Callable[[Application], list[Event]],
    principal: Principal,
    if_match: str | None,
    response: Response,
) -> ApplicationOut:
    """404 for an unknown application, 412 for a stale If-Match, 409 with the rule's code, else the
    application as it is now, with its new ETag."""
    async with runtime.units_of_work() as uow:
        state, version = await handlers.act(
            uow, application_id, decide, command_context(principal), if_match=parse_if_match(if_match)
        )
    response.headers["ETag"] = f'"{version}"'
    return application_out(state)


async def read(runtime: Runtime, application_id: str, response: Response) -> ApplicationOut:
    async with runtime.units_of_work() as uow:
        loaded = await handlers.get(uow, application_id)
    assert loaded.state is not None
    response.headers["ETag"] = f'"{loaded.version}"'
    return application_out(loaded.state)


def example(body: dict[str, Any]) -> dict[str, Any]:
    """`openapi_extra` for a command: one example request body."""
    return {"requestBody": {"content": {"application/json": {"example": body}}}}


PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
COMMAND_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such application", **PROBLEM},
    409: {"description": "A rule refuses the command (`code` names it) or a race was lost", **PROBLEM},
    412: {"description": "If-Match names an older version", **PROBLEM},
}
