"""HTTP routes of the return service that read: the whole case, with its version as ETag."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from repatriation.domain import return_case
from repatriation.entrypoints.schemas import ReturnCaseOut
from repatriation.service_layer import handlers
from shared.access import AccessRecorder, reads_personal_data
from shared.auth import Principal
from shared.contracts.repatriation import LEGAL_BASIS_RETURN
from shared.eventstore.access_log import ProcessingActivity
from shared.http import RequireScope
from shared.runtime import Runtime, runtime_of

router = APIRouter(prefix="/v1", tags=["return cases"])
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
Reader = Annotated[Principal, Depends(RequireScope("return:read"))]
# Why DT&V serves a return case (the access log names it with every read).
RETURN = ProcessingActivity("return", LEGAL_BASIS_RETURN)
ReturnRead = Annotated[AccessRecorder, Depends(reads_personal_data(RETURN))]


async def _read(runtime: Runtime, case_id: str, response: Response) -> ReturnCaseOut:
    async with runtime.units_of_work() as uow:
        state, version = await handlers.get(uow, case_id)
    response.headers["ETag"] = f'"{version}"'
    return ReturnCaseOut.of(state)


@router.get("/return-cases/{case_id}", summary="A return case and where it stands")
async def get_return_case(
    case_id: str, response: Response, runtime: RuntimeDep, _: Reader, access: ReturnRead
) -> ReturnCaseOut:
    found = await _read(runtime, case_id, response)
    await access.read([found.household_id, *found.person_ids])
    return found


@router.get("/households/{household_id}/return-case", summary="The return case of a household")
async def get_household_return_case(
    household_id: str, response: Response, runtime: RuntimeDep, _: Reader, access: ReturnRead
) -> ReturnCaseOut:
    found = await _read(runtime, return_case.case_id_for(household_id), response)
    await access.read([found.household_id, *found.person_ids])
    return found
