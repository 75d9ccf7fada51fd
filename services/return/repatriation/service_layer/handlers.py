"""Use cases of the return service: load the case, decide, append, keep its deadlines, in one unit of work.

Who commits differs on purpose. An HTTP command commits its own unit of work. A reaction to another
service's fact and a deadline handler do not: the consumer commits the effect together with the
processed-event id and the partition position, the scheduler together with marking the deadline fired,
so a crash can never keep one without the other.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from repatriation.adapters import tables
from repatriation.domain import return_case, return_steps
from repatriation.domain.deadlines import ScheduleDeadline, deadline_changes
from repatriation.domain.return_case import OpenReturnCase, ReturnCase
from repatriation.domain.return_steps import (
    CompleteDublinTransfer,
    HoldDepartureInterview,
    RealiseDeparture,
    TakeLocalChainDecision,
)
from shared import scheduler
from shared.contracts.base import Event
from shared.contracts.intake import MemberRole
from shared.domain import NotFound, PreconditionFailed, fold
from shared.eventstore import CommandContext, UnitOfWork
from shared.ids import new_id
from shared.scheduler import Deadline

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "DTV:return-service"


@dataclass(frozen=True, slots=True)
class Loaded:
    state: ReturnCase | None
    version: int


async def load(uow: UnitOfWork, case_id: str) -> Loaded:
    recorded = await uow.events.read_stream(return_case.stream_id(case_id))
    state = fold(return_case.evolve, (r.event for r in recorded), None)
    if state is not None:
        state = replace(state, final_outcome=await tables.final_outcome(uow.session, case_id))
    return Loaded(state, len(recorded))


async def get(uow: UnitOfWork, case_id: str) -> tuple[ReturnCase, int]:
    loaded = await load(uow, case_id)
    if loaded.state is None:
        raise NotFound(f"no return case {case_id}")
    return loaded.state, loaded.version


async def _append(
    uow: UnitOfWork,
    case_id: str,
    loaded: Loaded,
    new_events: Sequence[Event],
    context: CommandContext,
) -> ReturnCase | None:
    """Append with the loaded version (a concurrent writer turns this into a 409) and write the deadline
    changes the new facts imply in the same transaction."""
    await uow.events.append(return_case.stream_id(case_id), loaded.version, new_events, context)
    for change in deadline_changes(new_events):
        if isinstance(change, ScheduleDeadline):
            payload = {"correlationId": context.correlation_id}
            await scheduler.schedule(uow.session, change.kind, case_id, change.due_at, payload)
        else:
            await scheduler.cancel(uow.session, change.kind, case_id)
    return fold(return_case.evolve, new_events, loaded.state)


# --- reactions (no commit: see the module docstring) ---------------------------------------------


async def open_case(uow: UnitOfWork, command: OpenReturnCase, context: CommandContext) -> ReturnCase | None:
    case_id = return_case.case_id_for(command.household_id)
    loaded = await load(uow, case_id)
    new_events = return_case.open_case(loaded.state, command)
    if not new_events:
        if loaded.state is not None:
            log.info("household %s already has return case %s", command.household_id, case_id)
        return loaded.state
    await tables.record_final_decision(
        uow.session, case_id, command.household_id, command.application_id, command.outcome
    )
    opened = await _append(uow, case_id, loaded, new_events, context)
    return None if opened is None else replace(opened, final_outcome=command.outcome)


async def record_household(
    uow: UnitOfWork, household_id: str, members: Iterable[tuple[str, MemberRole]]
) -> None:
    await tables.add_members(uow.session, household_id, members)


async def correct_member_role(uow: UnitOfWork, household_id: str, person_id: str, role: MemberRole) -> None:
    await tables.correct_role(uow.session, household_id, person_id, role)


# --- deadlines (no commit: see the module docstring) ---------------------------------------------


def _deadline_context(deadline: Deadline) -> CommandContext:
    correlation = deadline.payload.get("correlationId")
    return CommandContext(
        actor=SYSTEM_ACTOR, correlation_id=correlation if isinstance(correlation, str) else new_id()
    )


async def departure_period_expired(uow: UnitOfWork, deadline: Deadline) -> None:
    """The departure period's deadline came: raise the expiry at the deadline itself (its valid time)."""
    loaded = await load(uow, deadline.key)
    if loaded.state is None:
        log.warning("deadline %s:%s names no return case", deadline.kind, deadline.key)
        return
    new_events = return_case.expire_departure_period(loaded.state, deadline.due_at)
    await _append(uow, deadline.key, loaded, new_events, _deadline_context(deadline))


async def vbl_period_ended(uow: UnitOfWork, deadline: Deadline) -> None:
    """The VBL stay reached the end the LKO set (at most 12 weeks): raise it at that end."""
    loaded = await load(uow, deadline.key)
    if loaded.state is None:
        log.warning("deadline %s:%s names no return case", deadline.kind, deadline.key)
        return
    new_events = return_case.end_vbl_period(loaded.state, deadline.due_at)
    await _append(uow, deadline.key, loaded, new_events, _deadline_context(deadline))


# --- HTTP commands (each commits its unit of work) -----------------------------------------------


async def _for_command(uow: UnitOfWork, case_id: str, if_match: int | None) -> tuple[ReturnCase, Loaded]:
    loaded = await load(uow, case_id)
    if loaded.state is None:
        raise NotFound(f"no return case {case_id}")
    if if_match is not None and if_match != loaded.version:
        raise PreconditionFailed(
            f"If-Match names version {if_match}; return case {case_id} is at version {loaded.version}"
        )
    return loaded.state, loaded


async def _commit(
    uow: UnitOfWork, case_id: str, loaded: Loaded, new_events: Sequence[Event], context: CommandContext
) -> tuple[ReturnCase, int]:
    state = await _append(uow, case_id, loaded, new_events, context)
    await uow.commit()
    assert state is not None
    return state, loaded.version + len(new_events)


async def hold_departure_interview(
    uow: UnitOfWork,
    case_id: str,
    command: HoldDepartureInterview,
    context: CommandContext,
    *,
    if_match: int | None = None,
) -> tuple[ReturnCase, int]:
    state, loaded = await _for_command(uow, case_id, if_match)
    new_events = return_steps.hold_departure_interview(state, command)
    return await _commit(uow, case_id, loaded, new_events, context)


async def take_local_chain_decision(
    uow: UnitOfWork,
    case_id: str,
    command: TakeLocalChainDecision,
    context: CommandContext,
    *,
    if_match: int | None = None,
) -> tuple[ReturnCase, int]:
    state, loaded = await _for_command(uow, case_id, if_match)
    minor_children = await tables.has_minor_children(uow.session, state.household_id)
    new_events = return_steps.take_local_chain_decision(state, command, minor_children=minor_children)
    return await _commit(uow, case_id, loaded, new_events, context)


async def realise_departure(
    uow: UnitOfWork,
    case_id: str,
    command: RealiseDeparture,
    context: CommandContext,
    *,
    if_match: int | None = None,
) -> tuple[ReturnCase, int]:
    state, loaded = await _for_command(uow, case_id, if_match)
    new_events = return_steps.realise_departure(state, command)
    return await _commit(uow, case_id, loaded, new_events, context)


async def complete_dublin_transfer(
    uow: UnitOfWork,
    case_id: str,
    command: CompleteDublinTransfer,
    context: CommandContext,
    *,
    if_match: int | None = None,
) -> tuple[ReturnCase, int]:
    state, loaded = await _for_command(uow, case_id, if_match)
    new_events = return_steps.complete_dublin_transfer(state, command)
    return await _commit(uow, case_id, loaded, new_events, context)
