"""Occupancy beside capacity at a valid date, as known at a knowledge date; and each province's realised
places against its Spreidingswet target. Pure: the headcounts (people per location at the valid date) and
the location facts come in.

Occupancy is the number of people with a stay at the location at that moment — a count, so never
negative, and equal to the current stays by construction. Capacity is the last capacity registered for a
location at or before the valid date (0 once it is closed); a location registered later does not count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from history.domain.stays import Stay


class LocationFactKind(StrEnum):
    REGISTERED = "registered"
    CAPACITY = "capacity"
    CLOSED = "closed"


@dataclass(frozen=True, kw_only=True, slots=True)
class LocationFact:
    event_id: str
    location_id: str
    kind: LocationFactKind
    valid_at: datetime
    recorded_at: datetime
    sequence: int = 0
    name: str | None = None
    location_type: str | None = None
    municipality: str | None = None
    province: str | None = None
    capacity: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class LocationAt:
    location_id: str
    name: str
    location_type: str
    municipality: str
    province: str
    capacity: int
    closed: bool


def locations_at(
    facts: Iterable[LocationFact], valid_at: datetime, known_at: datetime | None
) -> dict[str, LocationAt]:
    """Every location registered at `valid_at`, with its capacity then, as known at `known_at`."""
    by_location: dict[str, list[LocationFact]] = {}
    for fact in facts:
        if fact.valid_at <= valid_at and (known_at is None or fact.recorded_at <= known_at):
            by_location.setdefault(fact.location_id, []).append(fact)
    found: dict[str, LocationAt] = {}
    for location_id, known in by_location.items():
        known.sort(key=lambda f: (f.valid_at, f.recorded_at, f.sequence))
        registered = next((f for f in reversed(known) if f.kind is LocationFactKind.REGISTERED), None)
        if registered is None:
            continue
        capacity = next(f.capacity for f in reversed(known) if f.capacity is not None)
        closed = any(f.kind is LocationFactKind.CLOSED for f in known)
        assert registered.name and registered.location_type
        assert registered.municipality is not None and registered.province is not None
        found[location_id] = LocationAt(
            location_id=location_id,
            name=registered.name,
            location_type=registered.location_type,
            municipality=registered.municipality,
            province=registered.province,
            capacity=0 if closed else int(capacity or 0),
            closed=closed,
        )
    return found


class GroupBy(StrEnum):
    LOCATION = "location"
    TYPE = "type"
    MUNICIPALITY = "municipality"
    PROVINCE = "province"


@dataclass(frozen=True, kw_only=True, slots=True)
class Headcount:
    """The people staying at one location at a moment, with the location as their placement facts name
    it (a location not in the registry is still counted, under that name)."""

    location_id: str
    location_name: str
    location_type: str
    municipality: str
    province: str
    people: int


def headcounts(current: Iterable[Stay]) -> list[Headcount]:
    """The current stays (one per person) counted per location."""
    counted = Counter(
        (s.location_id, s.location_name, s.location_type, s.municipality, s.province) for s in current
    )
    return [
        Headcount(
            location_id=location_id,
            location_name=name,
            location_type=location_type,
            municipality=municipality,
            province=province,
            people=people,
        )
        for (location_id, name, location_type, municipality, province), people in counted.items()
    ]


@dataclass(frozen=True, kw_only=True, slots=True)
class OccupancyRow:
    key: str  # the location id, type, municipality or province
    name: str
    occupancy: int
    capacity: int
    locations: int
    location_type: str | None = None  # grouped by location or by type: the type of the location(s)


def _key(
    group_by: GroupBy, location_id: str, name: str, location_type: str, municipality: str, province: str
) -> tuple[str, str]:
    match group_by:
        case GroupBy.LOCATION:
            return location_id, name
        case GroupBy.TYPE:
            return location_type, location_type
        case GroupBy.MUNICIPALITY:
            return municipality, municipality
    return province, province


def occupancy(
    current: Iterable[Headcount], locations: Mapping[str, LocationAt], group_by: GroupBy
) -> list[OccupancyRow]:
    """`current`: the people per location at the valid date (each person counted once)."""
    people: dict[str, int] = {}
    capacity: dict[str, int] = {}
    count: dict[str, int] = {}
    names: dict[str, str] = {}
    types: dict[str, str] = {}
    keeps_type = group_by in (GroupBy.LOCATION, GroupBy.TYPE)
    for location in locations.values():
        key, name = _key(
            group_by,
            location.location_id,
            location.name,
            location.location_type,
            location.municipality,
            location.province,
        )
        names[key] = name
        if keeps_type:
            types[key] = location.location_type
        capacity[key] = capacity.get(key, 0) + location.capacity
        count[key] = count.get(key, 0) + 1
    for here in current:
        key, name = _key(
            group_by,
            here.location_id,
            here.location_name,
            here.location_type,
            here.municipality,
            here.province,
        )
        names.setdefault(key, name)
        if keeps_type:
            types.setdefault(key, here.location_type)
        people[key] = people.get(key, 0) + here.people
    return [
        OccupancyRow(
            key=key,
            name=names[key],
            occupancy=people.get(key, 0),
            capacity=capacity.get(key, 0),
            locations=count.get(key, 0),
            location_type=types.get(key),
        )
        for key in sorted(names)
    ]


@dataclass(frozen=True, kw_only=True, slots=True)
class ProvinceRow:
    province: str
    target: int  # the province's share of the national target under the Spreidingswet
    realised: int  # places: the capacity of its open locations at the valid date
    occupancy: int
    realised_share: float  # realised / target


def provinces(
    current: Iterable[Headcount], locations: Mapping[str, LocationAt], targets: Mapping[str, int]
) -> list[ProvinceRow]:
    rows = {row.key: row for row in occupancy(current, locations, GroupBy.PROVINCE)}
    return [
        ProvinceRow(
            province=province,
            target=target,
            realised=rows[province].capacity if province in rows else 0,
            occupancy=rows[province].occupancy if province in rows else 0,
            realised_share=round((rows[province].capacity if province in rows else 0) / target, 4)
            if target
            else 0.0,
        )
        for province, target in targets.items()
    ]
