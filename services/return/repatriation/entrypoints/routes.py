"""HTTP routes of the return service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from repatriation.domain import return_case
from repatriation.domain.return_case import ReturnCase
from repatriation.service_layer import handlers
from shared.api import ApiModel
from shared.auth import Principal
from shared.http import RequireScope
from shared.runtime import Runtime, runtime_of

router = APIRouter(prefix="/v1", tags=["return cases"])
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


class ReturnCaseOut(ApiModel):
    case_id: str
    household_id: str
    application_id: str
    person_ids: list[str]
    opened_at: datetime


def _out(state: ReturnCase) -> ReturnCaseOut:
    return ReturnCaseOut(
        case_id=state.case_id,
        household_id=state.household_id,
        application_id=state.application_id,
        person_ids=list(state.person_ids),
        opened_at=state.opened_at,
    )


async def _read(runtime: Runtime, case_id: str, response: Response) -> ReturnCaseOut:
    async with runtime.units_of_work() as uow:
        state, version = await handlers.get(uow, case_id)
    response.headers["ETag"] = f'"{version}"'
    return _out(state)


@router.get("/return-cases/{case_id}", summary="A return case")
async def get_return_case(
    case_id: str,
    response: Response,
    runtime: RuntimeDep,
    _: Annotated[Principal, Depends(RequireScope("return:read"))],
) -> ReturnCaseOut:
    return await _read(runtime, case_id, response)


@router.get("/households/{household_id}/return-case", summary="The return case of a household")
async def get_household_return_case(
    household_id: str,
    response: Response,
    runtime: RuntimeDep,
    _: Annotated[Principal, Depends(RequireScope("return:read"))],
) -> ReturnCaseOut:
    return await _read(runtime, return_case.case_id_for(household_id), response)
