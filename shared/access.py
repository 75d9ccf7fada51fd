"""The access log at the HTTP edge: routes that read personal data record each read, and auditors query
the log of every service (`POST /v1/access-log/_zoek`, scope `audit:read`).

A route that returns personal data takes a `reads_personal_data(activity)` dependency and calls
`await access.read(person_ids)` once, with the ids of the persons (or households) whose data the answer
holds, just before it answers: one record per person per read. A read that finds nothing records
nothing — no personal data left the service. Writes are recorded by the unit of work
(shared/eventstore/access_log.py). What the records hold, and what they never hold: see that module.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime, Field

from shared.api import ApiModel
from shared.auth import Principal
from shared.eventstore import UnitOfWorkFactory
from shared.eventstore.access_log import (
    READ,
    AccessLogQuery,
    AccessOperation,
    ProcessingActivity,
    access_rows,
    search_access_log,
)
from shared.eventstore.schema import access_log
from shared.http import Problem, RequireScope, authenticated
from shared.ids import new_id
from shared.logging import correlation_id

if TYPE_CHECKING:
    from shared.runtime import Runtime

AUDIT_SCOPE = "audit:read"
AUDIT = ProcessingActivity(
    "access-log-audit", "AVG art. 5 lid 2 en art. 30 (verantwoordingsplicht, register van verwerkingen)"
)


class AccessRecorder:
    """Records one read of personal data: which persons the answer is about."""

    def __init__(self, units_of_work: UnitOfWorkFactory, operation: AccessOperation) -> None:
        self._units_of_work = units_of_work
        self._operation = operation
        self._recorded = False

    async def read(self, subjects: Iterable[str], *, purpose: str | None = None) -> None:
        """Record the read of these persons' data; `purpose` narrows the processing activity where the
        caller states one (the identity vault's reads: "identity-vault:housing")."""
        # Written before the answer leaves, in a transaction of its own: if the log cannot be written,
        # the read fails rather than go unrecorded.
        if self._recorded:
            raise RuntimeError("a read is recorded once; a route that reads twice needs two operations")
        self._recorded = True
        operation = self._operation
        if purpose is not None:
            operation = replace(operation, processing_activity=f"{operation.processing_activity}:{purpose}")
        rows = access_rows(operation, subjects, datetime.now(UTC))
        if not rows:
            return
        async with self._units_of_work() as uow:
            uow.append_at_commit(access_log, rows)
            await uow.commit()


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def reads_personal_data(activity: ProcessingActivity) -> Callable[..., Awaitable[AccessRecorder]]:
    """A dependency giving the route a recorder for its read (after the route's own scope check)."""

    async def dependency(
        request: Request, principal: Annotated[Principal, Depends(authenticated)]
    ) -> AccessRecorder:
        runtime = _runtime(request)
        route = request.scope.get("route")
        operation = AccessOperation(
            operation_id=new_id(),
            trace_id=correlation_id.get() or new_id(),
            name=f"{request.method} {getattr(route, 'path', request.url.path)}",
            kind=READ,
            service=runtime.definition.name,
            agency=principal.agency,
            client_id=principal.client_id,
            processing_activity=activity.name,
            legal_basis=activity.legal_basis,
        )
        return AccessRecorder(runtime.units_of_work, operation)

    return dependency


# --- the auditors' query ------------------------------------------------------------------------------


class AccessLogSearch(ApiModel):
    """Search by POST (Dutch API Design Rules): the person's id travels in the body, not the URL."""

    data_subject_id: str | None = Field(
        None, max_length=100, description="A person's (or household's) pseudonymous id"
    )
    client_id: str | None = Field(None, max_length=200, description="The client that read or wrote")
    agency: str | None = Field(None, max_length=50)
    kind: Literal["read", "write"] | None = None
    trace_id: str | None = Field(
        None, max_length=64, description="One request: its X-Correlation-ID (a write's events carry it too)"
    )
    # with a time zone: the log keeps UTC, and a moment without one names no moment
    recorded_from: AwareDatetime | None = Field(None, description="Records from this moment (inclusive)")
    recorded_until: AwareDatetime | None = Field(None, description="Records until this moment (exclusive)")


class AccessRecordOut(ApiModel):
    operation_id: str = Field(description="Shared by the records of one operation (one per person)")
    trace_id: str = Field(description="The request's correlation id; a write's events carry it too")
    name: str = Field(description="The route: method and path template, never the concrete path")
    kind: Literal["read", "write"]
    service: str
    agency: str
    client_id: str
    processing_activity: str
    legal_basis: str
    data_subject_id: str
    recorded_at: datetime


class AccessLogPage(ApiModel):
    count: int
    next: str | None
    previous: str | None
    results: list[AccessRecordOut]


def access_log_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["access log"])

    @router.post(
        "/access-log/_zoek",
        summary="The access log: who read or wrote whose data, when, why (auditors; paginated)",
        description="Filters combine (and). Records are in the order they were written. A search that "
        "names a person is itself recorded, as a read under the audit processing activity.",
    )
    async def search(
        body: AccessLogSearch,
        request: Request,
        principal: Annotated[Principal, Depends(RequireScope(AUDIT_SCOPE))],
        page: Annotated[int, Query(ge=1)] = 1,
        page_size: Annotated[int, Query(alias="pageSize", ge=1, le=500)] = 100,
    ) -> AccessLogPage:
        if body.recorded_from and body.recorded_until and body.recorded_until <= body.recorded_from:
            raise Problem(
                400,
                "The request is not valid.",
                "recordedUntil must lie after recordedFrom",
                code="invalid-request",
            )
        runtime = _runtime(request)
        query = AccessLogQuery(
            data_subject_id=body.data_subject_id,
            client_id=body.client_id,
            agency=body.agency,
            kind=body.kind,
            trace_id=body.trace_id,
            recorded_from=body.recorded_from,
            recorded_until=body.recorded_until,
        )
        first = (page - 1) * page_size
        async with runtime.units_of_work() as uow:
            count, rows = await search_access_log(uow.session, query, offset=first, limit=page_size)
        if body.data_subject_id is not None:
            recorder = await reads_personal_data(AUDIT)(request, principal)
            await recorder.read([body.data_subject_id])
        return AccessLogPage(
            count=count,
            next=str(request.url.include_query_params(page=page + 1)) if first + page_size < count else None,
            previous=str(request.url.include_query_params(page=page - 1)) if page > 1 else None,
            results=[
                AccessRecordOut.model_validate({k: v for k, v in row.items() if k != "id"}) for row in rows
            ],
        )

    return router
