"""The location aggregate: a reception location with a capacity that is never exceeded."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from shared.contracts.base import Event
from shared.contracts.placement import (
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

    @property
    def free_places(self) -> int:
        return self.capacity - self.occupied


@dataclass(frozen=True, kw_only=True, slots=True)
class RegisterLocation:
    location_id: str
    name: str
    location_type: LocationType
    municipality: str
    province: str
    capacity: int
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class TakePlaces:
    location_id: str
    household_id: str
    places: int
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class ReleasePlaces:
    location_id: str
    household_id: str
    places: int
    occurred_at: datetime


def register(state: Location | None, command: RegisterLocation) -> list[Event]:
    if state is not None:
        raise RuleViolation(
            f"location {command.location_id} is already registered", code="location-already-registered"
        )
    if command.capacity < 0:
        raise RuleViolation("capacity cannot be negative", code="negative-capacity")
    return [
        LocationRegistered(
            location_id=command.location_id,
            name=command.name,
            location_type=command.location_type,
            municipality=command.municipality,
            province=command.province,
            capacity=command.capacity,
            occurred_at=command.occurred_at,
        )
    ]


def take_places(state: Location, command: TakePlaces) -> list[Event]:
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
            )
        case LocationPlacesTaken() if state is not None:
            return replace(state, occupied=state.occupied + event.places)
        case LocationPlacesReleased() if state is not None:
            return replace(state, occupied=state.occupied - event.places)
    return state


def stream_id(location_id: str) -> str:
    return f"location-{location_id}"


def choose(candidates: list[Location], location_type: LocationType, places: int) -> Location:
    """The location of `location_type` with room for `places`, most free places first (ties: by name)."""
    fitting = [c for c in candidates if c.location_type is location_type and c.free_places >= places]
    if not fitting:
        raise RuleViolation(
            f"no {location_type.value} location has {places} free places", code="no-location-with-capacity"
        )
    return sorted(fitting, key=lambda c: (-c.free_places, c.name))[0]
