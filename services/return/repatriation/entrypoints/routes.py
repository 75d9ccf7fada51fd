"""HTTP routes of the return service that read: the whole case, with its version as ETag."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from repatriation.domain import return_case
from repatriation.entrypoints.schemas import ReturnCaseOut
from repatriation.service_layer import handlers
from shared.auth import Principal
from shared.http import RequireScope
from shared.runtime import Runtime, runtime_of

router = APIRouter(prefix="/v1", tags=["return cases"])
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
Reader = Annotated[Principal, Depends(RequireScope("return:read"))]


async def _read(runtime: Runtime, case_id: str, response: Response) -> ReturnCaseOut:
    async with runtime.units_of_work() as uow:
        state, version = await handlers.get(uow, case_id)
    response.headers["ETag"] = f'"{version}"'
    return ReturnCaseOut.of(state)


@router.get("/return-cases/{case_id}", summary="A return case and where it stands")
async def get_return_case(case_id: str, response: Response, runtime: RuntimeDep, _: Reader) -> ReturnCaseOut:
    return await _read(runtime, case_id, response)


@router.get("/households/{household_id}/return-case", summary="The return case of a household")
async def get_household_return_case(
    household_id: str, response: Response, runtime: RuntimeDep, _: Reader
) -> ReturnCaseOut:
    return await _read(runtime, return_case.case_id_for(household_id), response)
