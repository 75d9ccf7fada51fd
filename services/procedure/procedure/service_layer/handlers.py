"""Command handlers of procedure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from procedure.domain import application
from procedure.domain.application import Application, LodgeApplication
from shared.contracts.base import Event
from shared.domain import NotFound, PreconditionFailed, fold
from shared.eventstore import CommandContext, UnitOfWork


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
    new_events = application.lodge(loaded.state, command)
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
    """Load, check the caller's `If-Match` version, decide, append with the loaded version, commit."""
    loaded = await get(uow, application_id)
    assert loaded.state is not None
    if if_match is not None and if_match != loaded.version:
        raise PreconditionFailed(
            f"If-Match names version {if_match}; application {application_id} is at version {loaded.version}"
        )
    new_events = decide(loaded.state)
    await uow.events.append(application.stream_id(application_id), loaded.version, new_events, context)
    await uow.commit()
    state = fold(application.evolve, new_events, loaded.state)
    assert state is not None
    return state, loaded.version + len(new_events)
