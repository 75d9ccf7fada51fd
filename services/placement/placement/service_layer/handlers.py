"""Command handlers of placement.

A placement or transfer writes to up to three streams in one transaction: the household's reception,
the location it leaves (places released) and the location it goes to (places taken). Each append
carries its own expected version, so a concurrent move that took the last places makes this one fail
as a whole: capacity is never exceeded and nothing is half-written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from placement.adapters import locations as location_table
from placement.domain import location, reception
from placement.domain.location import Location, RegisterLocation, ReleasePlaces, TakePlaces
from placement.domain.reception import (
    LinkToMunicipality,
    PlaceHousehold,
    Reception,
    TransferHousehold,
)
from shared.contracts.base import Event
from shared.contracts.placement import LocationType
from shared.domain import NotFound, fold
from shared.eventstore import CommandContext, UnitOfWork

SEED_FILE = Path(__file__).resolve().parent.parent / "adapters" / "seed_locations.json"


@dataclass(frozen=True, slots=True)
class LoadedReception:
    state: Reception | None
    version: int


async def load_reception(uow: UnitOfWork, household_id: str) -> LoadedReception:
    recorded = await uow.events.read_stream(reception.stream_id(household_id))
    return LoadedReception(fold(reception.evolve, (r.event for r in recorded), None), len(recorded))


async def get_reception(uow: UnitOfWork, household_id: str) -> LoadedReception:
    loaded = await load_reception(uow, household_id)
    if loaded.state is None:
        raise NotFound(f"household {household_id} has no reception place")
    return loaded


async def _location(uow: UnitOfWork, location_id: str) -> tuple[Location, int]:
    found = await location_table.get(uow.session, location_id)
    if found is None:
        raise NotFound(f"no location {location_id}")
    return found


async def _apply_to_location(
    uow: UnitOfWork, state: Location, version: int, events: list[Event], context: CommandContext
) -> None:
    await uow.events.append(location.stream_id(state.location_id), version, events, context)
    new_state = fold(location.evolve, events, state)
    assert new_state is not None
    await location_table.save(uow.session, new_state, version + len(events))


async def _register(uow: UnitOfWork, command: RegisterLocation, context: CommandContext) -> Location:
    existing = await location_table.get(uow.session, command.location_id)
    new_events = location.register(existing[0] if existing else None, command)
    await uow.events.append(location.stream_id(command.location_id), 0, new_events, context)
    state = fold(location.evolve, new_events, None)
    assert state is not None
    await location_table.save(uow.session, state, len(new_events))
    return state


async def register_location(uow: UnitOfWork, command: RegisterLocation, context: CommandContext) -> Location:
    state = await _register(uow, command, context)
    await uow.commit()
    return state


async def place_household(
    uow: UnitOfWork, command: PlaceHousehold, location_type: LocationType, context: CommandContext
) -> Location:
    loaded = await load_reception(uow, command.household_id)
    target = location.choose(
        await location_table.all_locations(uow.session), location_type, len(command.members)
    )
    _, target_version = await _location(uow, target.location_id)
    placed = reception.place(loaded.state, target, command)
    taken = location.take_places(
        target,
        TakePlaces(
            location_id=target.location_id,
            household_id=command.household_id,
            places=len(command.members),
            occurred_at=command.occurred_at,
        ),
    )
    await uow.events.append(reception.stream_id(command.household_id), loaded.version, placed, context)
    await _apply_to_location(uow, target, target_version, taken, context)
    await uow.commit()
    return target


async def transfer_household(
    uow: UnitOfWork, command: TransferHousehold, location_type: LocationType, context: CommandContext
) -> Location:
    loaded = await get_reception(uow, command.household_id)
    assert loaded.state is not None
    source, source_version = await _location(uow, loaded.state.location_id)
    candidates = [
        c for c in await location_table.all_locations(uow.session) if c.location_id != source.location_id
    ]
    target = location.choose(candidates, location_type, loaded.state.size)
    _, target_version = await _location(uow, target.location_id)
    moved = reception.transfer(loaded.state, target, command)
    released = location.release_places(
        source,
        ReleasePlaces(
            location_id=source.location_id,
            household_id=command.household_id,
            places=loaded.state.size,
            occurred_at=command.occurred_at,
        ),
    )
    taken = location.take_places(
        target,
        TakePlaces(
            location_id=target.location_id,
            household_id=command.household_id,
            places=loaded.state.size,
            occurred_at=command.occurred_at,
        ),
    )
    await uow.events.append(reception.stream_id(command.household_id), loaded.version, moved, context)
    await _apply_to_location(uow, source, source_version, released, context)
    await _apply_to_location(uow, target, target_version, taken, context)
    await uow.commit()
    return target


async def link_to_municipality_of_current_location(
    uow: UnitOfWork, household_id: str, occurred_at: datetime, context: CommandContext
) -> str:
    """After a grant COA links the household to a municipality in the region of its azc; until a
    regional allocation exists this is the azc's own municipality."""
    loaded = await get_reception(uow, household_id)
    assert loaded.state is not None
    current, _ = await _location(uow, loaded.state.location_id)
    linked = reception.link_to_municipality(
        loaded.state,
        LinkToMunicipality(
            household_id=household_id, municipality=current.municipality, occurred_at=occurred_at
        ),
    )
    await uow.events.append(reception.stream_id(household_id), loaded.version, linked, context)
    await uow.commit()
    return current.municipality


async def seed_locations(uow: UnitOfWork, context: CommandContext) -> int:
    """Register the seed locations into an empty database; does nothing once any location exists."""
    if await location_table.count(uow.session) > 0:
        return 0
    seed = json.loads(SEED_FILE.read_text())["locations"]
    now = datetime.now(UTC)
    for entry in seed:
        await _register(
            uow,
            RegisterLocation(
                location_id=entry["id"],
                name=entry["name"],
                location_type=LocationType(entry["type"]),
                municipality=entry["municipality"],
                province=entry["province"],
                capacity=entry["capacity"],
                occurred_at=now,
            ),
            context,
        )
    await uow.commit()
    return len(seed)
