"""The reception of one household: where its members stay, and how they moved.

A household moves together: every placement and transfer yields one fact per member, keyed by that
person, so each person's residence history can be rebuilt from facts about them alone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from placement.domain.location import Location
from shared.contracts.base import Event
from shared.contracts.intake import MemberRole
from shared.contracts.placement import (
    HouseholdLinkedToMunicipality,
    MoveReason,
    ResidentPlaced,
    ResidentTransferred,
)
from shared.domain import RuleViolation


@dataclass(frozen=True, kw_only=True, slots=True)
class Member:
    person_id: str
    role: MemberRole


@dataclass(frozen=True, kw_only=True, slots=True)
class Reception:
    household_id: str
    members: tuple[Member, ...]
    location_id: str
    moves: int = 0
    forced_moves: int = 0
    linked_municipality: str | None = None

    @property
    def size(self) -> int:
        return len(self.members)


@dataclass(frozen=True, kw_only=True, slots=True)
class PlaceHousehold:
    household_id: str
    members: tuple[Member, ...]
    reason: MoveReason
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class TransferHousehold:
    household_id: str
    reason: MoveReason
    forced: bool
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class LinkToMunicipality:
    household_id: str
    municipality: str
    occurred_at: datetime


def place(state: Reception | None, location: Location, command: PlaceHousehold) -> list[Event]:
    if state is not None:
        raise RuleViolation(
            f"household {command.household_id} already has a reception place", code="already-placed"
        )
    return [
        ResidentPlaced(
            person_id=member.person_id,
            household_id=command.household_id,
            role=member.role,
            location_id=location.location_id,
            location_name=location.name,
            location_type=location.location_type,
            municipality=location.municipality,
            province=location.province,
            reason=command.reason,
            occurred_at=command.occurred_at,
        )
        for member in command.members
    ]


def transfer(state: Reception | None, target: Location, command: TransferHousehold) -> list[Event]:
    if state is None:
        raise RuleViolation(
            f"household {command.household_id} has no reception place to move from", code="not-placed"
        )
    if state.location_id == target.location_id:
        raise RuleViolation(
            f"household {command.household_id} already stays at {target.name}", code="already-there"
        )
    return [
        ResidentTransferred(
            person_id=member.person_id,
            household_id=state.household_id,
            role=member.role,
            from_location_id=state.location_id,
            location_id=target.location_id,
            location_name=target.name,
            location_type=target.location_type,
            municipality=target.municipality,
            province=target.province,
            reason=command.reason,
            forced=command.forced,
            occurred_at=command.occurred_at,
        )
        for member in state.members
    ]


def link_to_municipality(state: Reception | None, command: LinkToMunicipality) -> list[Event]:
    if state is None:
        raise RuleViolation(f"household {command.household_id} is not in reception", code="not-placed")
    if state.linked_municipality is not None:
        raise RuleViolation(
            f"household {command.household_id} is already linked to {state.linked_municipality}",
            code="already-linked",
        )
    return [
        HouseholdLinkedToMunicipality(
            household_id=state.household_id,
            municipality=command.municipality,
            person_ids=tuple(m.person_id for m in state.members),
            occurred_at=command.occurred_at,
        )
    ]


def evolve(state: Reception | None, event: Event) -> Reception | None:
    """Per-member facts fold into one household state; the first member's fact carries the move."""
    match event:
        case ResidentPlaced():
            member = Member(person_id=event.person_id, role=event.role)
            if state is None:
                return Reception(
                    household_id=event.household_id, members=(member,), location_id=event.location_id
                )
            if all(m.person_id != event.person_id for m in state.members):
                return replace(state, members=(*state.members, member))
            return state
        case ResidentTransferred() if state is not None:
            if state.location_id == event.location_id:
                return state  # a further member of a move already counted
            return replace(
                state,
                location_id=event.location_id,
                moves=state.moves + 1,
                forced_moves=state.forced_moves + int(event.forced),
            )
        case HouseholdLinkedToMunicipality() if state is not None:
            return replace(state, linked_municipality=event.municipality)
    return state


def stream_id(household_id: str) -> str:
    return f"reception-{household_id}"
