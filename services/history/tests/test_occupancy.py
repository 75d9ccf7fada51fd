"""Occupancy beside capacity, and the provinces' realised places against their Spreidingswet targets."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from history.adapters.tables import placement_facts, row_of
from history.domain.occupancy import (
    GroupBy,
    Headcount,
    LocationFact,
    LocationFactKind,
    headcounts,
    locations_at,
    occupancy,
    provinces,
)
from history.domain.stays import FactKind, PlacementFact, derive_stays, stay_at
from history.service_layer.occupancy import (
    current_headcounts,
    occupancy_at,
    on_location_fact,
    province_targets,
    provinces_at,
)
from shared.consumer import ConsumedEvent
from shared.contracts import chain_registry
from shared.contracts.placement import (
    LocationCapacityChanged,
    LocationClosed,
    LocationRegistered,
    LocationType,
)
from shared.eventstore import UnitOfWorkFactory
from shared.eventstore.database import create_engine, session_factory
from shared.eventstore.migrations import upgrade_to_head_async
from shared.ids import new_id
from tests.helpers import envelope_for

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
MIGRATIONS = Path(__file__).resolve().parent.parent / "history" / "adapters" / "migrations"


def day(d: int) -> datetime:
    return T0 + timedelta(days=d)


def registered(location_id: str, when: datetime, capacity: int, province: str = "Groningen") -> LocationFact:
    return LocationFact(
        event_id=new_id(),
        location_id=location_id,
        kind=LocationFactKind.REGISTERED,
        valid_at=when,
        recorded_at=when,
        name=f"azc {location_id}",
        location_type="azc-regulier",
        municipality="Westerwolde",
        province=province,
        capacity=capacity,
    )


def changed(
    location_id: str, when: datetime, capacity: int, recorded: datetime | None = None
) -> LocationFact:
    return LocationFact(
        event_id=new_id(),
        location_id=location_id,
        kind=LocationFactKind.CAPACITY,
        valid_at=when,
        recorded_at=recorded or when,
        capacity=capacity,
    )


def closed(location_id: str, when: datetime) -> LocationFact:
    return LocationFact(
        event_id=new_id(),
        location_id=location_id,
        kind=LocationFactKind.CLOSED,
        valid_at=when,
        recorded_at=when,
    )


LOCATIONS = [
    registered("A", day(0), 100),
    changed("A", day(10), 60),
    changed("A", day(5), 80, recorded=day(20)),  # registered late
    registered("B", day(3), 50, province="Drenthe"),
    closed("B", day(30)),
]


def test_capacity_at_a_valid_date_as_known_at_a_knowledge_date() -> None:
    def capacity(location: str, valid: datetime, known: datetime | None = None) -> int | None:
        found = locations_at(LOCATIONS, valid, known).get(location)
        return found.capacity if found else None

    assert capacity("A", day(1)) == 100
    assert capacity("A", day(7)) == 80
    assert capacity("A", day(7), known=day(15)) == 100  # the change to 80 was not known yet
    assert capacity("A", day(12)) == 60
    assert capacity("B", day(1)) is None  # not registered yet
    assert capacity("B", day(31)) == 0  # closed: no places


def _fact(
    person: str, kind: FactKind, valid: datetime, recorded: datetime, **fields: object
) -> PlacementFact:
    return PlacementFact(
        event_id=str(fields.pop("event_id", new_id())),
        person_id=person,
        household_id=person,
        kind=kind,
        valid_at=valid,
        recorded_at=recorded,
        **fields,  # type: ignore[arg-type]
    )


def _moved_in(
    person: str,
    location: str,
    valid: datetime,
    recorded: datetime,
    *,
    province: str = "Groningen",
    **fields: object,
) -> PlacementFact:
    return _fact(
        person,
        FactKind.START,
        valid,
        recorded,
        location_id=location,
        location_name=f"azc {location}",
        location_type="azc-regulier",
        municipality="Westerwolde",
        province=province,
        reason="registration",
        **fields,
    )


def _stay_facts(person: str, location: str, start: datetime, end: datetime | None) -> list[PlacementFact]:
    province = "Groningen" if location == "A" else "Drenthe"
    facts = [_moved_in(person, location, start, start, province=province)]
    if end is not None:
        facts.append(_fact(person, FactKind.END, end, end, reason="housed"))
    return facts


def test_occupancy_counts_the_current_stays_per_group_beside_capacity() -> None:
    people = [
        _stay_facts("p1", "A", day(1), None),
        _stay_facts("p2", "A", day(2), day(8)),
        _stay_facts("p3", "B", day(4), None),
    ]

    def current(valid: datetime) -> list[Headcount]:
        return headcounts(s for facts in people if (s := stay_at(derive_stays(facts), valid)) is not None)

    at_5 = {
        r.key: (r.occupancy, r.capacity)
        for r in occupancy(current(day(5)), locations_at(LOCATIONS, day(5), None), GroupBy.LOCATION)
    }
    assert at_5 == {"A": (2, 80), "B": (1, 50)}
    at_9 = occupancy(current(day(9)), locations_at(LOCATIONS, day(9), None), GroupBy.TYPE)
    assert [(r.key, r.occupancy, r.capacity, r.locations) for r in at_9] == [("azc-regulier", 2, 130, 2)]

    shares = {
        p.province: p
        for p in provinces(current(day(12)), locations_at(LOCATIONS, day(12), None), province_targets())
    }
    assert (shares["Groningen"].realised, shares["Groningen"].target, shares["Groningen"].occupancy) == (
        60,
        2717,
        1,
    )
    assert shares["Groningen"].realised_share == round(60 / 2717, 4)
    assert shares["Drenthe"].realised == 50 and shares["Limburg"].realised == 0
    assert len(shares) == 12


async def test_location_facts_go_through_the_handler_into_capacity_and_provinces(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/history.db"
    await upgrade_to_head_async(url, MIGRATIONS)
    engine = create_engine(url)
    units = UnitOfWorkFactory(session_factory(engine), chain_registry(), source="urn:test", topic="none")
    facts = [
        LocationRegistered(
            location_id="L1",
            name="azc Ter Apel",
            location_type=LocationType.AZC_AANMELD,
            municipality="Westerwolde",
            province="Groningen",
            capacity=2000,
            near_open_water=False,
            school_nearby=True,
            medical_facilities=True,
            occurred_at=day(0),
        ),
        LocationCapacityChanged(location_id="L1", capacity=1500, occurred_at=day(10)),
        LocationClosed(location_id="L1", occurred_at=day(20)),
    ]
    for offset, event in enumerate(facts):
        async with units() as uow:
            await on_location_fact(
                uow, ConsumedEvent(envelope_for(event), event, "placement.events", 0, offset)
            )
            await uow.commit()
    async with units() as uow:
        realised = {
            d: next(
                p.realised for p in await provinces_at(uow.session, day(d), None) if p.province == "Groningen"
            )
            for d in (-1, 5, 15, 25)
        }
        by_type = await occupancy_at(uow.session, day(5), None, GroupBy.TYPE)
    await engine.dispose()
    assert realised == {-1: 0, 5: 2000, 15: 1500, 25: 0}
    assert [(r.key, r.capacity, r.occupancy) for r in by_type] == [("azc-aanmeld", 2000, 0)]


async def test_the_database_counts_who_stays_where_as_the_domain_derives_it_ties_included(
    tmp_path: Path,
) -> None:
    """The headcount query runs in the database (a minute in Python over 1,000,000 stays); on the ties
    the property test's generator keeps apart, and on SQLite, it still answers as `derive_stays`."""
    moved_to_b = new_id()
    facts = [
        # Reception ended at the very moment the stay began: an empty stay, nobody counted.
        _moved_in("ends-as-it-starts", "A", day(2), day(2)),
        _fact("ends-as-it-starts", FactKind.END, day(2), day(2), reason="housed"),
        # Two moves registered for the same moment: the last recorded wins.
        _moved_in("two-at-once", "A", day(3), day(3)),
        _moved_in("two-at-once", "B", day(3), day(4), from_location_id="A"),
        # A move corrected twice: the last correction recorded gives its valid time.
        _moved_in("corrected", "A", day(1), day(1)),
        _moved_in("corrected", "B", day(5), day(5), event_id=moved_to_b, from_location_id="A"),
        _fact("corrected", FactKind.CORRECTION, day(8), day(6), corrects_event_id=moved_to_b),
        _fact("corrected", FactKind.CORRECTION, day(4), day(7), corrects_event_id=moved_to_b),
        # An end of reception registered late.
        _moved_in("left-late", "B", day(0), day(0)),
        _fact("left-late", FactKind.END, day(6), day(9), reason="departed"),
    ]
    url = f"sqlite+aiosqlite:///{tmp_path}/history.db"
    await upgrade_to_head_async(url, MIGRATIONS)
    engine = create_engine(url)
    units = UnitOfWorkFactory(session_factory(engine), chain_registry(), source="urn:test", topic="none")
    async with units() as uow:
        await uow.session.execute(sa.insert(placement_facts), [row_of(f) for f in facts])
        await uow.commit()

    def derived(valid: datetime, known: datetime | None) -> dict[str, int]:
        by_person: dict[str, list[PlacementFact]] = {}
        for sequence, fact in enumerate(facts, start=1):
            by_person.setdefault(fact.person_id, []).append(replace(fact, sequence=sequence))
        stays = [stay_at(derive_stays(person_facts, known), valid) for person_facts in by_person.values()]
        return {h.location_id: h.people for h in headcounts(s for s in stays if s is not None)}

    moments = [day(d) + timedelta(hours=h) for d in range(11) for h in (-1, 0)]
    async with units() as uow:
        for valid in moments:
            for known in (None, *moments):
                counted = await current_headcounts(uow.session, valid, known)
                assert {h.location_id: h.people for h in counted} == derived(valid, known), (valid, known)
        at_7 = await current_headcounts(uow.session, day(7), None)
        at_7_as_known_at_8 = await current_headcounts(uow.session, day(7), day(8))
    await engine.dispose()
    assert [(h.location_id, h.people) for h in at_7] == [("B", 2)]  # "left-late" left on day 6
    assert [(h.location_id, h.people) for h in at_7_as_known_at_8] == [("B", 3)]  # not known on day 8
