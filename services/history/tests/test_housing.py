"""The municipality's housing view, from the household's registration, COA's link to a municipality and
the IND's residence permit. The three travel on three topics and arrive in any order; the view must not
depend on that order — neither in the pure derivation nor in the stored model a rebuild checksums."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest

from history.domain.housing import (
    HousingFact,
    HousingHousehold,
    PermitStatus,
    fact_of,
    housing_household,
    linked_to,
)
from history.entrypoints.app import all_handlers
from history.entrypoints.rebuild import checksums
from shared.consumer import ConsumedEvent
from shared.contracts import Event, chain_registry
from shared.contracts.intake import HouseholdMember, HouseholdRegistered, MemberRole, Relation
from shared.contracts.placement import HouseholdLinkedToMunicipality
from shared.contracts.procedure import HearingHeld, ResidencePermitGranted
from shared.eventstore import UnitOfWorkFactory
from shared.eventstore.database import create_engine, session_factory
from shared.eventstore.migrations import upgrade_to_head_async
from shared.ids import new_id
from tests.fixtures import NewDatabase
from tests.helpers import build_event, envelope_for

MIGRATIONS = Path(__file__).resolve().parent.parent / "history" / "adapters" / "migrations"
REGISTERED_ON = datetime(2026, 1, 5, 9, tzinfo=UTC)
PERMIT_ON = datetime(2026, 6, 1, 9, tzinfo=UTC)
LINKED_ON = datetime(2026, 6, 20, 9, tzinfo=UTC)


def registered(household_id: str, size: int) -> HouseholdRegistered:
    members = tuple(
        HouseholdMember(
            person_id=new_id(),
            role=MemberRole.ADULT if index == 0 else MemberRole.CHILD,
            relation=Relation.HEAD if index == 0 else Relation.CHILD,
            birth_year=1990 if index == 0 else 2018,
            nationality="SYR",
        )
        for index in range(size)
    )
    event = build_event(
        HouseholdRegistered, household_id=household_id, members=members, occurred_at=REGISTERED_ON
    )
    assert isinstance(event, HouseholdRegistered)
    return event


def linked(household_id: str, municipality: str, on: datetime = LINKED_ON) -> HouseholdLinkedToMunicipality:
    return HouseholdLinkedToMunicipality(
        household_id=household_id, municipality=municipality, person_ids=(new_id(),), occurred_at=on
    )


def permit(household_id: str, on: datetime = PERMIT_ON) -> ResidencePermitGranted:
    event = build_event(ResidencePermitGranted, household_id=household_id, occurred_at=on)
    assert isinstance(event, ResidencePermitGranted)
    return event


def facts(*events: Event) -> list[HousingFact]:
    return [fact_of(e, event_id=new_id(), recorded_at=e.occurred_at) for e in events]


def test_a_linked_household_shows_its_size_its_municipality_and_its_permit_whatever_the_order() -> None:
    # given a household of three, its permit and its link to Amsterdam
    household_id = new_id()
    all_facts = facts(registered(household_id, 3), permit(household_id), linked(household_id, "Amsterdam"))
    expected = HousingHousehold(
        household_id=household_id,
        municipality="Amsterdam",
        linked_on=LINKED_ON,
        household_size=3,
        permit_status=PermitStatus.GRANTED,
        permit_granted_on=PERMIT_ON,
    )
    # when the facts arrive in every possible order, then the view is the same
    for order in itertools.permutations(all_facts):
        assert housing_household(order) == expected


def test_a_household_is_not_in_the_view_before_it_is_linked() -> None:
    household_id = new_id()
    assert housing_household(facts(registered(household_id, 2), permit(household_id))) is None


def test_what_has_not_reached_the_read_side_yet_is_said_not_guessed() -> None:
    # given only the link (registration and permit still on their way)
    household_id = new_id()
    view = housing_household(facts(linked(household_id, "Amsterdam")))
    # then the size is unknown and the permit not recorded, rather than made up
    assert view is not None
    assert view.household_size is None
    assert view.permit_status is PermitStatus.NOT_RECORDED and view.permit_granted_on is None


def test_the_latest_link_holds_and_the_first_permit_dates_it() -> None:
    household_id = new_id()
    later = datetime(2026, 7, 1, tzinfo=UTC)
    second_permit = datetime(2026, 8, 1, tzinfo=UTC)
    view = housing_household(
        facts(
            linked(household_id, "Rotterdam", on=later),
            linked(household_id, "Amsterdam"),
            permit(household_id, on=second_permit),
            permit(household_id),
        )
    )
    assert view is not None
    assert (view.municipality, view.linked_on, view.permit_granted_on) == ("Rotterdam", later, PERMIT_ON)


def test_a_municipality_gets_only_its_own_households_and_the_auditor_all() -> None:
    amsterdam, rotterdam = new_id(), new_id()
    views = [
        housing_household(facts(linked(amsterdam, "Amsterdam"))),
        housing_household(facts(linked(rotterdam, "Rotterdam", on=PERMIT_ON))),
    ]
    households = [v for v in views if v is not None]
    assert [h.household_id for h in linked_to("Amsterdam", households)] == [amsterdam]
    assert linked_to("Groningen", households) == []
    assert [h.household_id for h in linked_to(None, households)] == [rotterdam, amsterdam]  # by link date


def test_only_the_three_facts_feed_the_view() -> None:
    with pytest.raises(TypeError):
        fact_of(build_event(HearingHeld), event_id=new_id(), recorded_at=PERMIT_ON)


async def _stored(url: str, arrivals: list[ConsumedEvent]) -> str:
    await upgrade_to_head_async(url, MIGRATIONS)
    engine = create_engine(url)
    units = UnitOfWorkFactory(session_factory(engine), chain_registry(), source="urn:test", topic="none")
    handlers = all_handlers(["housing"])
    try:
        for consumed in arrivals:
            async with units() as uow:
                await handlers[type(consumed.event)](uow, consumed)
                await uow.commit()
    finally:
        await engine.dispose()
    return url


async def test_the_housing_model_checksums_the_same_whatever_order_its_facts_arrived_in(
    new_postgres_database: NewDatabase,
) -> None:
    # given the same facts (same event ids) applied in two orders to two migrated PostgreSQL databases, as
    # the live read side and a rebuild would
    household_id = new_id()
    events: list[Event] = [
        registered(household_id, 2),
        linked(household_id, "Amsterdam"),
        permit(household_id),
    ]
    arrivals = [ConsumedEvent(envelope_for(e), e, "test", 0, 0) for e in events]
    live = await _stored(await new_postgres_database("housing_live"), arrivals)
    rebuilt = await _stored(await new_postgres_database("housing_rebuilt"), list(reversed(arrivals)))
    # when both are checksummed as `asielketen checksum --model housing` does
    live_sums, rebuilt_sums = await checksums(live, ["housing"]), await checksums(rebuilt, ["housing"])
    # then they agree, over the three facts
    assert live_sums == rebuilt_sums
    assert live_sums["housing_facts"].startswith("3:")
