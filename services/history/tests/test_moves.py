"""Moves and the children policy, from stays: forced moves of children counted per child, school-age
moves outside the holidays of the province moved from, moves out of region."""

from __future__ import annotations

from datetime import UTC, datetime

from history.domain.moves import Person, children_policy, moves_of
from history.domain.stays import FactKind, PlacementFact, derive_stays
from shared.ids import new_id


def start(
    person: str, location: str, province: str, when: datetime, *, forced: bool, first: bool = False
) -> PlacementFact:
    return PlacementFact(
        event_id=new_id(),
        person_id=person,
        household_id="h",
        kind=FactKind.START,
        valid_at=when,
        recorded_at=when,
        location_id=location,
        location_name=location,
        location_type="azc-regulier",
        municipality="m",
        province=province,
        from_location_id=None if first else "x",
        reason="registration" if first else "location-closure",
        forced=forced,
        involves_children=True,
    )


SCHOOL_DAY = datetime(2026, 12, 1, 9, tzinfo=UTC)  # a Tuesday, no holiday anywhere
CHRISTMAS = datetime(2026, 12, 22, 9, tzinfo=UTC)  # the Christmas holiday, everywhere


def history(person: str) -> list[PlacementFact]:
    return [
        start(person, "A", "Groningen", datetime(2026, 11, 1, tzinfo=UTC), forced=False, first=True),
        start(person, "B", "Groningen", SCHOOL_DAY, forced=True),
        start(person, "C", "Limburg", CHRISTMAS, forced=True),
    ]


def test_the_children_lists() -> None:
    child, toddler, adult = (
        Person(person_id="c", household_id="h", role="child", birth_year=2015),
        Person(person_id="t", household_id="h", role="child", birth_year=2024),
        Person(person_id="a", household_id="h", role="adult", birth_year=1985),
    )
    moves = [m for p in (child, toddler, adult) for m in moves_of(derive_stays(history(p.person_id)), p)]
    assert len(moves) == 6
    policy = children_policy(moves)

    assert [(f.person_id, len(f.forced_moves)) for f in policy.forced_more_than_once] == [("c", 2), ("t", 2)]
    # the toddler (2 years old) is not of school age; the Christmas move is in the holiday
    assert [(m.person_id, m.to_location_id) for m in policy.school_age_outside_holidays] == [("c", "B")]
    assert sorted((m.person_id, m.from_province, m.to_province) for m in policy.out_of_region) == [
        ("c", "Groningen", "Limburg"),
        ("t", "Groningen", "Limburg"),
    ]


def test_an_adult_by_birth_year_is_no_child_whatever_the_role_and_without_a_birth_year_the_role_decides() -> (
    None
):
    grown = Person(person_id="g", household_id="h", role="child", birth_year=2000)
    unknown = None
    assert not any(m.child for m in moves_of(derive_stays(history("g")), grown))
    assert not any(m.child for m in moves_of(derive_stays(history("u")), unknown))
    assert all(
        m.child
        for m in moves_of(
            derive_stays(history("k")), Person(person_id="k", household_id="h", role="child", birth_year=None)
        )
    )
