"""Command handlers of procedure: load the application, decide, append, and commit in one unit of work.

Deadlines live beside the events that create them: a negative decision schedules "decision-final" at
its appeal deadline, an appeal cancels it, in the same transaction as the decision or the appeal. So a
crash can never leave a decision without its deadline, or an appeal with one still pending.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from procedure.domain import application, decision, preparation
from procedure.domain.application import Application
from procedure.domain.commands import BecomeFinal, LodgeApplication
from shared import scheduler
from shared.contracts.base import Event
from shared.contracts.procedure import AppealLodged, DecisionIssued
from shared.domain import NotFound, PreconditionFailed, fold
from shared.eventstore import CommandContext, RecordedEvent, UnitOfWork
from shared.ids import new_id

SYSTEM_ACTOR = "IND:procedure-service"


@dataclass(frozen=True, slots=True)
class Loaded:
    state: Application | None
    version: int


async def load(uow: UnitOfWork, application_id: str) -> Loaded:
    recorded = await uow.events.read_stream(application.stream_id(application_id))
    return Loaded(fold(application.evolve, (r.event for r in recorded), None), len(recorded))


async def get(uow: UnitOfWork, application_id: str) -> Loaded:
    loaded = await load(uow, application_id)
    if loaded.state is None:
        raise NotFound(f"no application {application_id}")
    return loaded


async def lodge(uow: UnitOfWork, command: LodgeApplication, context: CommandContext) -> Application:
    application_id = application.application_id_for(command.household_id)
    loaded = await load(uow, application_id)
    new_events = preparation.lodge(loaded.state, command)
    await uow.events.append(application.stream_id(application_id), loaded.version, new_events, context)
    await uow.commit()
    state = fold(application.evolve, new_events, loaded.state)
    assert state is not None
    return state


async def act(
    uow: UnitOfWork,
    application_id: str,
    decide: Callable[[Application], list[Event]],
    context: CommandContext,
    *,
    if_match: int | None = None,
) -> tuple[Application, int]:
    """Load, check the caller's `If-Match` version, decide, append with the loaded version, plan the
    deadlines the new events start or stop, commit."""
    loaded = await get(uow, application_id)
    assert loaded.state is not None
    if if_match is not None and if_match != loaded.version:
        raise PreconditionFailed(
            f"If-Match names version {if_match}; application {application_id} is at version {loaded.version}"
        )
    new_events = decide(loaded.state)
    recorded = await uow.events.append(
        application.stream_id(application_id), loaded.version, new_events, context
    )
    await _plan_deadlines(uow, application_id, recorded, context)
    await uow.commit()
    state = fold(application.evolve, new_events, loaded.state)
    assert state is not None
    return state, loaded.version + len(new_events)


async def _plan_deadlines(
    uow: UnitOfWork, application_id: str, recorded: Sequence[RecordedEvent], context: CommandContext
) -> None:
    for record in recorded:
        match record.event:
            case DecisionIssued() as issued if issued.outcome.is_negative:
                # The final event will correlate with the decision that started its period.
                payload = {"correlation_id": context.correlation_id, "causation_id": record.envelope.id}
                await scheduler.schedule(
                    uow.session, decision.DECISION_FINAL, application_id, issued.appeal_deadline, payload
                )
            case AppealLodged():
                await scheduler.cancel(uow.session, decision.DECISION_FINAL, application_id)


async def decision_final_due(uow: UnitOfWork, deadline: scheduler.Deadline) -> None:
    """The "decision-final" deadline fired: the appeal period passed. Appends (or, if an appeal came
    first, appends nothing) in the scheduler's unit of work, which marks the deadline fired and commits."""
    loaded = await load(uow, deadline.key)
    if loaded.state is None:  # cannot happen: the deadline was scheduled beside the application's events
        return
    new_events = decision.become_final(loaded.state, BecomeFinal(due_at=deadline.due_at))
    context = CommandContext(
        actor=SYSTEM_ACTOR,
        correlation_id=str(deadline.payload.get("correlation_id") or new_id()),
        causation_id=deadline.payload.get("causation_id"),
    )
    await uow.events.append(application.stream_id(deadline.key), loaded.version, new_events, context)
