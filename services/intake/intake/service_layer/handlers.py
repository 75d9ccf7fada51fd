"""Command handlers of intake. Each runs in one unit of work and returns what the edge reports."""

from __future__ import annotations

from dataclasses import dataclass

from intake.domain import household
from intake.domain.household import Household, RegisterHousehold
from shared.domain import NotFound, fold
from shared.eventstore import CommandContext, UnitOfWork


@dataclass(frozen=True, slots=True)
class Loaded:
    state: Household | None
    version: int


async def load_household(uow: UnitOfWork, household_id: str) -> Loaded:
    recorded = await uow.events.read_stream(household.stream_id(household_id))
    state = fold(household.evolve, (r.event for r in recorded), None)
    return Loaded(state, len(recorded))


async def register_household(
    uow: UnitOfWork, command: RegisterHousehold, context: CommandContext
) -> Household:
    loaded = await load_household(uow, command.household_id)
    new_events = household.decide(loaded.state, command)
    await uow.events.append(household.stream_id(command.household_id), loaded.version, new_events, context)
    await uow.commit()
    state = fold(household.evolve, new_events, loaded.state)
    assert state is not None
    return state


async def get_household(uow: UnitOfWork, household_id: str) -> Loaded:
    loaded = await load_household(uow, household_id)
    if loaded.state is None:
        raise NotFound(f"no household {household_id}")
    return loaded
