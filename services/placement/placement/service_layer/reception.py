"""Use cases on a household's reception: place, move (by an officer or in reaction to the chain),
assess the child's interest, execute a proposed transfer, link to a municipality, end reception.

A move writes to up to three streams in one transaction: the household's reception, the location it
leaves (places released) and the location it goes to (places taken). Each append carries its own
expected version, so a concurrent move that took the last places makes this one fail as a whole:
capacity is never exceeded and nothing is half-written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from placement.adapters import locations as location_table
from placement.domain import location, reception
from placement.domain.location import Location, ReleasePlaces, TakePlaces
from placement.domain.reception import (
    AssessChildInterest,
    CorrectMove,
    EndReception,
    LinkToMunicipality,
    PlaceHousehold,
    Reception,
    TransferHousehold,
)
from placement.domain.recommendation import HouseholdProfile, Purpose, Ranking, province_shares, recommend
from placement.service_layer.locations import apply_to_location, get_location, province_targets
from shared.calendar import in_school_holiday
from shared.contracts.base import Event
from shared.contracts.placement import (
    Justification,
    MoveReason,
    ReceptionEndReason,
    ResidentTransferCorrected,
)
from shared.domain import NotFound, PreconditionFailed, RuleViolation, fold
from shared.eventstore import CommandContext, UnitOfWork
from shared.ids import new_id


@dataclass(frozen=True, slots=True)
class LoadedReception:
    state: Reception | None
    version: int


async def load_reception(uow: UnitOfWork, household_id: str) -> LoadedReception:
    recorded = await uow.events.read_stream(reception.stream_id(household_id))
    return LoadedReception(reception.fold_stream([(r.envelope.id, r.event) for r in recorded]), len(recorded))


async def get_reception(uow: UnitOfWork, household_id: str, if_match: int | None = None) -> LoadedReception:
    loaded = await load_reception(uow, household_id)
    if loaded.state is None:
        raise NotFound(f"household {household_id} has no reception place")
    if if_match is not None and if_match != loaded.version:
        raise PreconditionFailed(
            f"If-Match names version {if_match}; the reception of household {household_id} "
            f"is at version {loaded.version}"
        )
    return loaded


async def households_at(uow: UnitOfWork, location_id: str) -> list[str]:
    return await location_table.households_at(uow.session, location_id)


async def profile(
    uow: UnitOfWork,
    state: Reception | None,
    current: Location | None,
    *,
    household_id: str | None = None,
    size: int | None = None,
    has_children: bool | None = None,
) -> HouseholdProfile:
    """What the recommendation needs to know of a household (placed or about to be)."""
    key = state.household_id if state else household_id
    family_location_ids: set[str] = set()
    family_provinces: set[str] = set()
    if key is not None:
        households = await location_table.family_households(uow.session, key)
        for location_id in await location_table.location_of_households(uow.session, households):
            found = await location_table.get(uow.session, location_id)
            if found is not None:
                family_location_ids.add(location_id)
                family_provinces.add(found[0].province)
    return HouseholdProfile(
        size=state.size if state else (size or 1),
        has_children=state.has_children if state else bool(has_children),
        current=current,
        family_location_ids=frozenset(family_location_ids),
        family_provinces=frozenset(family_provinces),
    )


async def rank(uow: UnitOfWork, household: HouseholdProfile, purpose: Purpose) -> Ranking:
    all_locations = await location_table.all_locations(uow.session)
    return recommend(household, all_locations, purpose, province_shares(all_locations, province_targets()))


async def place_household(
    uow: UnitOfWork, command: PlaceHousehold, family_elsewhere: list[str], context: CommandContext
) -> Location:
    """Everyone starts at an azc with registration facilities; when those are full, at a waiting location."""
    loaded = await load_reception(uow, command.household_id)
    if loaded.state is not None:
        raise RuleViolation(
            f"household {command.household_id} already has a reception place", code="already-placed"
        )
    await location_table.remember_household(
        uow.session, command.household_id, [m.person_id for m in command.members], family_elsewhere
    )
    household = await profile(
        uow,
        None,
        None,
        household_id=command.household_id,
        size=len(command.members),
        has_children=any(m.role.value == "child" for m in command.members),
    )
    target = (await rank(uow, household, Purpose.REGISTRATION)).best
    if target is None:
        raise RuleViolation(
            "no azc with registration facilities nor waiting location has room",
            code="no-location-with-capacity",
        )
    placed = reception.place(loaded.state, target, command)
    await uow.events.append(reception.stream_id(command.household_id), loaded.version, placed, context)
    _, target_version = await get_location(uow, target.location_id)
    await apply_to_location(
        uow,
        target,
        target_version,
        location.take_places(
            target,
            TakePlaces(
                household_id=command.household_id,
                places=len(command.members),
                occurred_at=command.occurred_at,
            ),
        ),
        context,
    )
    await location_table.set_reception(uow.session, command.household_id, target.location_id, ended=False)
    await uow.commit()
    return target


@dataclass(frozen=True, slots=True)
class _Move:
    reason: MoveReason
    forced: bool
    assessment_id: str | None
    occurred_at: datetime


async def _move(
    uow: UnitOfWork,
    loaded: LoadedReception,
    target: Location,
    move: _Move,
    context: CommandContext,
    prior: list[Event] | None = None,
) -> Location:
    """Move the household, release its places where it leaves and take them where it goes, in one
    transaction. Whether the move falls in a school holiday is judged by the region it leaves: that is
    where the children go to school."""
    state = loaded.state
    assert state is not None
    source, source_version = await get_location(uow, state.location_id)
    command = TransferHousehold(
        household_id=state.household_id,
        reason=move.reason,
        forced=move.forced,
        in_school_holiday=in_school_holiday(move.occurred_at.date(), source.province),
        assessment_id=move.assessment_id,
        occurred_at=move.occurred_at,
    )
    moved = reception.transfer(fold(reception.evolve, prior or [], state), target, command)
    await uow.events.append(
        reception.stream_id(state.household_id), loaded.version, [*(prior or []), *moved], context
    )
    await apply_to_location(
        uow,
        source,
        source_version,
        location.release_places(
            source,
            ReleasePlaces(
                household_id=state.household_id, places=state.size, occurred_at=command.occurred_at
            ),
        ),
        context,
    )
    _, target_version = await get_location(uow, target.location_id)
    await apply_to_location(
        uow,
        target,
        target_version,
        location.take_places(
            target,
            TakePlaces(household_id=state.household_id, places=state.size, occurred_at=command.occurred_at),
        ),
        context,
    )
    await location_table.set_reception(uow.session, state.household_id, target.location_id, ended=False)
    await uow.commit()
    return target


async def transfer(
    uow: UnitOfWork,
    household_id: str,
    *,
    target_id: str | None,
    purpose: Purpose,
    reason: MoveReason,
    forced: bool,
    assessment_id: str | None,
    occurred_at: datetime,
    context: CommandContext,
    if_match: int | None = None,
) -> Location:
    """An officer's transfer: to a named location, or to the best recommended one for `purpose`."""
    loaded = await get_reception(uow, household_id, if_match)
    assert loaded.state is not None
    current, _ = await get_location(uow, loaded.state.location_id)
    if target_id is not None:
        target, _ = await get_location(uow, target_id)
    else:
        best = (await rank(uow, await profile(uow, loaded.state, current), purpose)).best
        if best is None:
            raise RuleViolation(
                f"no location fits this household for {purpose.value}", code="no-location-fits"
            )
        target = best
    return await _move(
        uow,
        loaded,
        target,
        _Move(reason=reason, forced=forced, assessment_id=assessment_id, occurred_at=occurred_at),
        context,
    )


async def move_on_behalf_of_the_chain(
    uow: UnitOfWork,
    household_id: str,
    purpose: Purpose,
    reason: MoveReason,
    justification: Justification | None,
    occurred_at: datetime,
    context: CommandContext,
) -> Location:
    """A move the chain decided (the process move after the stream, a return move after the local chain
    decision). COA weighs the child's interest when it places — first-degree family near, school
    continuity — and the recommendation weighs exactly that; for a household with children that weighing is
    recorded as the child-interest assessment the move rests on. The justification is the chain's
    decision where one applies (a return decision); the rule on a second forced move still holds."""
    loaded = await get_reception(uow, household_id)
    state = loaded.state
    assert state is not None
    current, _ = await get_location(uow, state.location_id)
    household = await profile(uow, state, current)
    target = (await rank(uow, household, purpose)).best
    if target is None:
        raise RuleViolation(
            f"no location fits household {household_id} for {purpose.value}", code="no-location-fits"
        )
    prior: list[Event] = []
    assessment_id = None
    if state.has_children:
        assessment_id = new_id()
        prior = reception.assess_child_interest(
            state,
            household_id,
            AssessChildInterest(
                assessment_id=assessment_id,
                first_degree_family_nearby=target.location_id in household.family_location_ids,
                medical_necessity=False,
                school_continuity=target.province == current.province,
                justification=justification,
                occurred_at=occurred_at,
            ),
        )
    return await _move(
        uow,
        loaded,
        target,
        _Move(reason=reason, forced=True, assessment_id=assessment_id, occurred_at=occurred_at),
        context,
        prior,
    )


async def execute_proposal(
    uow: UnitOfWork,
    household_id: str,
    proposal_id: str,
    assessment_id: str | None,
    occurred_at: datetime | None,
    context: CommandContext,
    if_match: int | None = None,
) -> Location:
    loaded = await get_reception(uow, household_id, if_match)
    assert loaded.state is not None
    proposal = loaded.state.proposals.get(proposal_id)
    if proposal is None:
        raise NotFound(f"household {household_id} has no open transfer proposal {proposal_id}")
    target, _ = await get_location(uow, proposal.to_location_id)
    when = occurred_at or proposal.proposed_for
    return await _move(
        uow,
        loaded,
        target,
        _Move(reason=proposal.reason, forced=proposal.forced, assessment_id=assessment_id, occurred_at=when),
        context,
    )


async def correct_move(
    uow: UnitOfWork,
    household_id: str,
    event_id: str,
    occurred_at: datetime,
    now: datetime,
    context: CommandContext,
) -> list[str]:
    """Correct the valid time of a registered move; returns the ids of the corrected member facts."""
    recorded = await uow.events.read_stream(reception.stream_id(household_id))
    history = [(r.envelope.id, r.event) for r in recorded]
    new_events = reception.correct_move(
        reception.fold_stream(history),
        history,
        CorrectMove(household_id=household_id, event_id=event_id, occurred_at=occurred_at, now=now),
    )
    await uow.events.append(reception.stream_id(household_id), len(recorded), new_events, context)
    await uow.commit()
    return [e.corrected_event_id for e in new_events if isinstance(e, ResidentTransferCorrected)]


async def assess_child_interest(
    uow: UnitOfWork, household_id: str, command: AssessChildInterest, context: CommandContext
) -> str:
    loaded = await get_reception(uow, household_id)
    new_events = reception.assess_child_interest(loaded.state, household_id, command)
    await uow.events.append(reception.stream_id(household_id), loaded.version, new_events, context)
    await uow.commit()
    return command.assessment_id


async def link_to_municipality(
    uow: UnitOfWork,
    household_id: str,
    municipality: str | None,
    occurred_at: datetime,
    context: CommandContext,
) -> str:
    """After a permit COA links the household to a municipality in the region of its azc (the azc's own
    municipality unless one is named)."""
    loaded = await get_reception(uow, household_id)
    assert loaded.state is not None
    if municipality is None:
        municipality = (await get_location(uow, loaded.state.location_id))[0].municipality
    linked = reception.link_to_municipality(
        loaded.state, household_id, LinkToMunicipality(municipality=municipality, occurred_at=occurred_at)
    )
    await uow.events.append(reception.stream_id(household_id), loaded.version, linked, context)
    await uow.commit()
    return municipality


async def end_reception(
    uow: UnitOfWork,
    household_id: str,
    reason: ReceptionEndReason,
    occurred_at: datetime,
    context: CommandContext,
    if_match: int | None = None,
) -> None:
    loaded = await get_reception(uow, household_id, if_match)
    state = loaded.state
    assert state is not None
    ended = reception.end_reception(state, household_id, EndReception(reason=reason, occurred_at=occurred_at))
    await uow.events.append(reception.stream_id(household_id), loaded.version, ended, context)
    source, source_version = await get_location(uow, state.location_id)
    await apply_to_location(
        uow,
        source,
        source_version,
        location.release_places(
            source, ReleasePlaces(household_id=household_id, places=state.size, occurred_at=occurred_at)
        ),
        context,
    )
    await location_table.set_reception(uow.session, household_id, state.location_id, ended=True)
    await uow.commit()
