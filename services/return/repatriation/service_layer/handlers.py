"""Command handlers of the return service."""

from __future__ import annotations

from repatriation.domain import return_case
from repatriation.domain.return_case import OpenReturnCase, ReturnCase
from shared.domain import NotFound, fold
from shared.eventstore import CommandContext, UnitOfWork


async def load(uow: UnitOfWork, case_id: str) -> tuple[ReturnCase | None, int]:
    recorded = await uow.events.read_stream(return_case.stream_id(case_id))
    return fold(return_case.evolve, (r.event for r in recorded), None), len(recorded)


async def get(uow: UnitOfWork, case_id: str) -> tuple[ReturnCase, int]:
    state, version = await load(uow, case_id)
    if state is None:
        raise NotFound(f"no return case {case_id}")
    return state, version


async def open_case(uow: UnitOfWork, command: OpenReturnCase, context: CommandContext) -> ReturnCase:
    case_id = return_case.case_id_for(command.household_id)
    state, version = await load(uow, case_id)
    new_events = return_case.open_case(state, command)
    await uow.events.append(return_case.stream_id(case_id), version, new_events, context)
    await uow.commit()
    opened = fold(return_case.evolve, new_events, state)
    assert opened is not None
    return opened
