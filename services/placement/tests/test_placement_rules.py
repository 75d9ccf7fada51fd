"""Placement rules of the thin flow: capacity is never exceeded, a household moves together, and each
household move counts once (forced or not)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from placement.domain import location, reception
from placement.domain.location import Location, TakePlaces
from placement.domain.reception import LinkToMunicipality, Member, PlaceHousehold, TransferHousehold

from shared.contracts.intake import MemberRole
from shared.contracts.placement import LocationType, MoveReason, ResidentPlaced, ResidentTransferred
from shared.domain import RuleViolation, fold
from shared.ids import new_id

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def _location(location_type: LocationType, capacity: int, occupied: int = 0, name: str = "azc") -> Location:
    return Location(
        location_id=new_id(),
        name=name,
        location_type=location_type,
        municipality="Assen",
        province="Drenthe",
        capacity=capacity,
        occupied=occupied,
    )


def _family(children: int = 2) -> tuple[Member, ...]:
    return (
        Member(person_id=new_id(), role=MemberRole.ADULT),
        *(Member(person_id=new_id(), role=MemberRole.CHILD) for _ in range(children)),
    )


def _placed(members: tuple[Member, ...], at: Location) -> reception.Reception:
    household_id = new_id()
    events = reception.place(
        None,
        at,
        PlaceHousehold(
            household_id=household_id, members=members, reason=MoveReason.REGISTRATION, occurred_at=NOW
        ),
    )
    state = fold(reception.evolve, events, None)
    assert state is not None
    return state


def test_capacity_is_never_exceeded() -> None:
    nearly_full = _location(LocationType.AZC_AANMELD, capacity=10, occupied=8)
    with pytest.raises(RuleViolation) as refused:
        location.take_places(
            nearly_full,
            TakePlaces(location_id=nearly_full.location_id, household_id=new_id(), places=3, occurred_at=NOW),
        )
    assert refused.value.code == "capacity-exceeded"


def test_the_location_with_most_room_of_the_wanted_type_is_chosen() -> None:
    small, large = (
        _location(LocationType.AZC_REGULIER, 50, name="small"),
        _location(LocationType.AZC_REGULIER, 500),
    )
    other_type = _location(LocationType.AZC_VERSNELD, 5000)
    assert location.choose([small, large, other_type], LocationType.AZC_REGULIER, 4) == large
    with pytest.raises(RuleViolation):
        location.choose([small], LocationType.AZC_VERSNELD, 1)


def test_placing_a_household_places_every_member_at_the_same_location() -> None:
    members, ter_apel = _family(), _location(LocationType.AZC_AANMELD, 2000)
    events = reception.place(
        None,
        ter_apel,
        PlaceHousehold(
            household_id=new_id(), members=members, reason=MoveReason.REGISTRATION, occurred_at=NOW
        ),
    )
    assert all(isinstance(e, ResidentPlaced) and e.location_id == ter_apel.location_id for e in events)
    assert [e.subject for e in events] == [m.person_id for m in members]


def test_a_transfer_moves_the_whole_household_and_counts_as_one_forced_move() -> None:
    state = _placed(_family(), _location(LocationType.AZC_AANMELD, 2000))
    target = _location(LocationType.AZC_VERSNELD, 1500)
    events = reception.transfer(
        state,
        target,
        TransferHousehold(
            household_id=state.household_id, reason=MoveReason.PROCESS, forced=True, occurred_at=NOW
        ),
    )
    assert len(events) == state.size and all(isinstance(e, ResidentTransferred) for e in events)
    moved = fold(reception.evolve, events, state)
    assert moved is not None
    assert (moved.location_id, moved.moves, moved.forced_moves) == (target.location_id, 1, 1)


def test_a_household_cannot_be_moved_to_where_it_already_is_or_before_it_is_placed() -> None:
    here = _location(LocationType.AZC_AANMELD, 2000)
    state = _placed(_family(0), here)
    command = TransferHousehold(
        household_id=state.household_id, reason=MoveReason.OWN_REQUEST, forced=False, occurred_at=NOW
    )
    with pytest.raises(RuleViolation, match="already stays"):
        reception.transfer(state, here, command)
    with pytest.raises(RuleViolation) as refused:
        reception.transfer(None, here, command)
    assert refused.value.code == "not-placed"


def test_a_household_is_linked_to_one_municipality_once() -> None:
    state = _placed(_family(1), _location(LocationType.AZC_REGULIER, 400))
    command = LinkToMunicipality(household_id=state.household_id, municipality="Assen", occurred_at=NOW)
    linked = fold(reception.evolve, reception.link_to_municipality(state, command), state)
    with pytest.raises(RuleViolation) as refused:
        reception.link_to_municipality(linked, command)
    assert refused.value.code == "already-linked"
