"""The location aggregate: a reception location whose capacity is never exceeded.

A location that is announced to close takes no new households; it closes only when it is empty, so a
closure always goes through transfers first.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from shared.contracts.base import Event
from shared.contracts.placement import (
    LocationCapacityChanged,
    LocationClosed,
    LocationClosureAnnounced,
    LocationPlacesReleased,
    LocationPlacesTaken,
    LocationRegistered,
    LocationType,
)
from shared.domain import RuleViolation


@dataclass(frozen=True, kw_only=True, slots=True)
class Location:
    location_id: str
    name: str
    location_type: LocationType
    municipality: str
    province: str
    capacity: int
    occupied: int = 0
    near_open_water: bool = False
    school_nearby: bool = False
    medical_facilities: bool = False
    closing_at: datetime | None = None
    closed: bool = False

    @property
    def free_places(self) -> int:
        return self.capacity - self.occupied

    @property
    def accepts_residents(self) -> bool:
        return not self.closed and self.closing_at is None


@dataclass(frozen=True, kw_only=True, slots=True)
class RegisterLocation:
    location_id: str
    name: str
    location_type: LocationType
    municipality: str
    province: str
    capacity: int
    near_open_water: bool
    school_nearby: bool
    medical_facilities: bool
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class ChangeCapacity:
    capacity: int
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class AnnounceClosure:
    closes_at: datetime
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class TakePlaces:
    household_id: str
    places: int
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class ReleasePlaces:
    household_id: str
    places: int
    occurred_at: datetime


def register(state: Location | None, command: RegisterLocation) -> list[Event]:
    if state is not None:
        raise RuleViolation(
            f"location {command.location_id} is already registered", code="location-already-registered"
        )
    return [
        LocationRegistered(
            location_id=command.location_id,
            name=command.name,
            location_type=command.location_type,
            municipality=command.municipality,
            province=command.province,
            capacity=command.capacity,
            near_open_water=command.near_open_water,
            school_nearby=command.school_nearby,
            medical_facilities=command.medical_facilities,
            occurred_at=command.occurred_at,
        )
    ]


def change_capacity(state: Location, command: ChangeCapacity) -> list[Event]:
    if command.capacity < state.occupied:
        raise RuleViolation(
            f"{state.name} has {state.occupied} residents; capacity cannot drop to "
            f"{command.capacity} (capacity is never exceeded)",
            code="capacity-below-occupancy",
        )
    return [
        LocationCapacityChanged(
            location_id=state.location_id, capacity=command.capacity, occurred_at=command.occurred_at
        )
    ]


def announce_closure(state: Location, command: AnnounceClosure) -> list[Event]:
    if state.closed or state.closing_at is not None:
        raise RuleViolation(f"{state.name} is already closing or closed", code="location-closing")
    if command.closes_at < command.occurred_at:
        raise RuleViolation("a closure is announced before it happens", code="closure-in-the-past")
    return [
        LocationClosureAnnounced(
            location_id=state.location_id, closes_at=command.closes_at, occurred_at=command.occurred_at
        )
    ]


def close(state: Location, occurred_at: datetime) -> list[Event]:
    if state.closed:
        raise RuleViolation(f"{state.name} is already closed", code="location-closed")
    if state.occupied > 0:
        raise RuleViolation(
            f"{state.name} still has {state.occupied} residents; transfer them first",
            code="location-not-empty",
        )
    return [LocationClosed(location_id=state.location_id, occurred_at=occurred_at)]


def take_places(state: Location, command: TakePlaces) -> list[Event]:
    if not state.accepts_residents:
        raise RuleViolation(
            f"{state.name} is closing or closed and takes no new residents", code="location-closing"
        )
    if command.places > state.free_places:
        raise RuleViolation(
            f"{state.name} has {state.free_places} free places; {command.places} needed",
            code="capacity-exceeded",
        )
    return [
        LocationPlacesTaken(
            location_id=state.location_id,
            household_id=command.household_id,
            places=command.places,
            occurred_at=command.occurred_at,
        )
    ]


def release_places(state: Location, command: ReleasePlaces) -> list[Event]:
    places = min(command.places, state.occupied)
    if places == 0:
        return []
    return [
        LocationPlacesReleased(
            location_id=state.location_id,
            household_id=command.household_id,
            places=places,
            occurred_at=command.occurred_at,
        )
    ]


def evolve(state: Location | None, event: Event) -> Location | None:
    match event:
        case LocationRegistered():
            return Location(
                location_id=event.location_id,
                name=event.name,
                location_type=event.location_type,
                municipality=event.municipality,
                province=event.province,
                capacity=event.capacity,
                near_open_water=event.near_open_water,
                school_nearby=event.school_nearby,
                medical_facilities=event.medical_facilities,
            )
        case LocationCapacityChanged() if state is not None:
            return replace(state, capacity=event.capacity)
        case LocationClosureAnnounced() if state is not None:
            return replace(state, closing_at=event.closes_at)
        case LocationClosed() if state is not None:
            return replace(state, closed=True)
        case LocationPlacesTaken() if state is not None:
            return replace(state, occupied=state.occupied + event.places)
        case LocationPlacesReleased() if state is not None:
            return replace(state, occupied=state.occupied - event.places)
    return state


def stream_id(location_id: str) -> str:
    return f"location-{location_id}"
