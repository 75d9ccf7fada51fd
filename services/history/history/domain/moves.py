"""Moves and the children policy, derived from the stays (so with corrected valid times).

A move is a stay that began with a transfer; it comes from the stay before it. Whether a person was a
child, and of school age (4 to 17), is judged by birth year at the move's year (intake's
`household-registered`; without it, by the role placement recorded). School holidays are those of the
province moved from (`shared/calendar.py`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from history.domain.stays import Stay
from shared.calendar import in_school_holiday

ADULT_AGE = 18
SCHOOL_AGES = range(4, 18)


@dataclass(frozen=True, kw_only=True, slots=True)
class Person:
    person_id: str
    household_id: str
    role: str
    birth_year: int | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Move:
    event_id: str
    person_id: str
    household_id: str
    occurred_at: datetime
    recorded_at: datetime
    from_location_id: str
    from_location_type: str
    from_province: str
    to_location_id: str
    to_location_name: str
    to_location_type: str
    to_province: str
    reason: str
    forced: bool
    involves_children: bool
    age: int | None
    child: bool
    in_school_holiday: bool

    @property
    def out_of_region(self) -> bool:
        return self.from_province != self.to_province

    @property
    def school_age(self) -> bool:
        return self.age is not None and self.age in SCHOOL_AGES


def moves_of(stays: list[Stay], person: Person | None) -> list[Move]:
    moves: list[Move] = []
    for before, stay in pairwise(stays):
        if stay.from_location_id is None:
            continue  # a (re)placement, not a move
        age = stay.valid_from.year - person.birth_year if person and person.birth_year else None
        child = age < ADULT_AGE if age is not None else (person is not None and person.role == "child")
        moves.append(
            Move(
                event_id=stay.event_id,
                person_id=stay.person_id,
                household_id=stay.household_id,
                occurred_at=stay.valid_from,
                recorded_at=stay.recorded_at,
                from_location_id=before.location_id,
                from_location_type=before.location_type,
                from_province=before.province,
                to_location_id=stay.location_id,
                to_location_name=stay.location_name,
                to_location_type=stay.location_type,
                to_province=stay.province,
                reason=stay.reason,
                forced=stay.forced,
                involves_children=stay.involves_children,
                age=age,
                child=child,
                in_school_holiday=in_school_holiday(stay.valid_from.date(), before.province),
            )
        )
    return moves


@dataclass(frozen=True, kw_only=True, slots=True)
class ForcedMoves:
    person_id: str
    household_id: str
    forced_moves: list[Move]


@dataclass(frozen=True, kw_only=True, slots=True)
class ChildrenPolicy:
    forced_more_than_once: list[ForcedMoves]  # children moved by force more than once
    school_age_outside_holidays: list[Move]  # moves of school-age children outside the school holidays
    out_of_region: list[Move]  # moves of children to another province


def children_policy(moves: Iterable[Move]) -> ChildrenPolicy:
    of_children = [m for m in moves if m.child]
    forced: dict[str, list[Move]] = {}
    for move in of_children:
        if move.forced:
            forced.setdefault(move.person_id, []).append(move)
    return ChildrenPolicy(
        forced_more_than_once=[
            ForcedMoves(person_id=p, household_id=ms[0].household_id, forced_moves=ms)
            for p, ms in sorted(forced.items())
            if len(ms) > 1
        ],
        school_age_outside_holidays=[m for m in of_children if m.school_age and not m.in_school_holiday],
        out_of_region=[m for m in of_children if m.out_of_region],
    )
