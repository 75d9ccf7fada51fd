"""Use cases on locations: register, change capacity, announce a closure (with the transfers it needs),
close, and the seed of real locations."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from placement.adapters import locations as location_table
from placement.domain import location, reception
from placement.domain.location import AnnounceClosure, ChangeCapacity, Location, RegisterLocation
from placement.domain.reception import ProposeTransfer
from placement.domain.recommendation import Purpose, province_shares, recommend
from shared.calendar import in_school_holiday, next_school_holiday_day
from shared.contracts.base import Event
from shared.contracts.placement import LocationType, MoveReason
from shared.domain import NotFound, fold
from shared.eventstore import CommandContext, UnitOfWork
from shared.ids import new_id

ADAPTERS = Path(__file__).resolve().parent.parent / "adapters"
SEED_FILE = ADAPTERS / "seed_locations.json"
PROVINCES_FILE = ADAPTERS / "provinces.json"


def province_targets() -> dict[str, int]:
    return {p["name"]: int(p["target"]) for p in json.loads(PROVINCES_FILE.read_text())["provinces"]}


async def get_location(uow: UnitOfWork, location_id: str) -> tuple[Location, int]:
    found = await location_table.get(uow.session, location_id)
    if found is None:
        raise NotFound(f"no location {location_id}")
    return found


async def apply_to_location(
    uow: UnitOfWork, state: Location, version: int, new_events: list[Event], context: CommandContext
) -> Location:
    """Append to a location's stream and keep its table row (the fold) in step, in the same transaction."""
    if not new_events:
        return state
    await uow.events.append(location.stream_id(state.location_id), version, new_events, context)
    new_state = fold(location.evolve, new_events, state)
    assert new_state is not None
    await location_table.save(uow.session, new_state, version + len(new_events))
    return new_state


async def _register(uow: UnitOfWork, command: RegisterLocation, context: CommandContext) -> Location:
    existing = await location_table.get(uow.session, command.location_id)
    new_events = location.register(existing[0] if existing else None, command)
    await uow.events.append(location.stream_id(command.location_id), 0, new_events, context)
    state = fold(location.evolve, new_events)
    assert state is not None
    await location_table.save(uow.session, state, len(new_events))
    return state


async def register_location(uow: UnitOfWork, command: RegisterLocation, context: CommandContext) -> Location:
    state = await _register(uow, command, context)
    await uow.commit()
    return state


async def change_capacity(
    uow: UnitOfWork, location_id: str, command: ChangeCapacity, context: CommandContext
) -> Location:
    state, version = await get_location(uow, location_id)
    new_state = await apply_to_location(
        uow, state, version, location.change_capacity(state, command), context
    )
    await uow.commit()
    return new_state


@dataclass(frozen=True, slots=True)
class ClosurePlan:
    location: Location
    proposals: list[tuple[str, str, str, datetime]]  # household, proposal id, target location id, date
    without_place: list[str]  # households for which no location fits now


async def announce_closure(
    uow: UnitOfWork, location_id: str, command: AnnounceClosure, context: CommandContext
) -> ClosurePlan:
    """Announce the closure and propose a transfer for every household staying there: to the best
    like-for-like location, dated in the first school holiday before the closure for households with
    children (moves of children fall in school holidays where possible), otherwise on the closing date."""
    from placement.service_layer import reception as reception_service

    state, version = await get_location(uow, location_id)
    closing = await apply_to_location(uow, state, version, location.announce_closure(state, command), context)
    all_locations = await location_table.all_locations(uow.session)
    shares = province_shares(all_locations, province_targets())
    plan = ClosurePlan(location=closing, proposals=[], without_place=[])
    for household_id in await reception_service.households_at(uow, location_id):
        loaded = await reception_service.load_reception(uow, household_id)
        if loaded.state is None or loaded.state.ended:
            continue
        profile = await reception_service.profile(uow, loaded.state, closing)
        target = recommend(profile, all_locations, Purpose.CLOSURE, shares).best
        if target is None:
            plan.without_place.append(household_id)
            continue
        proposed_for = command.closes_at
        if loaded.state.has_children:
            holiday = next_school_holiday_day(command.occurred_at.date(), closing.province)
            if holiday is not None and holiday <= command.closes_at.date():
                proposed_for = datetime.combine(holiday, command.closes_at.timetz()).astimezone(UTC)
        proposal_id = new_id()
        proposal = reception.propose_transfer(
            loaded.state,
            household_id,
            target,
            ProposeTransfer(
                proposal_id=proposal_id,
                reason=MoveReason.LOCATION_CLOSURE,
                forced=True,
                proposed_for=proposed_for,
                in_school_holiday=in_school_holiday(proposed_for.date(), closing.province),
                occurred_at=command.occurred_at,
            ),
        )
        await uow.events.append(reception.stream_id(household_id), loaded.version, proposal, context)
        plan.proposals.append((household_id, proposal_id, target.location_id, proposed_for))
    await uow.commit()
    return plan


async def close_location(
    uow: UnitOfWork, location_id: str, occurred_at: datetime, context: CommandContext
) -> Location:
    state, version = await get_location(uow, location_id)
    closed = await apply_to_location(uow, state, version, location.close(state, occurred_at), context)
    await uow.commit()
    return closed


async def seed_locations(uow: UnitOfWork, context: CommandContext) -> int:
    """Register the seed locations into an empty database; does nothing once any location exists."""
    if await location_table.count(uow.session) > 0:
        return 0
    seeded = json.loads(SEED_FILE.read_text())
    seed = seeded["locations"]
    # Dated at the seed's validFrom, not at this first start: the locations existed before (see the file).
    registered_at = datetime.fromisoformat(seeded.get("validFrom") or datetime.now(UTC).isoformat())
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
                near_open_water=entry["near_open_water"],
                school_nearby=entry["school_nearby"],
                medical_facilities=entry["medical_facilities"],
                occurred_at=registered_at,
            ),
            context,
        )
    await uow.commit()
    return len(seed)
