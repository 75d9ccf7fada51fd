"""The placement recommendation: never a location that breaks a hard constraint, and a rank with reasons."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from placement_builders import a_location

from placement.domain.location import Location
from placement.domain.recommendation import (
    HouseholdProfile,
    ProvinceShare,
    Purpose,
    hard_violations,
    recommend,
    wanted_types,
)
from shared.calendar import PROVINCE_REGION
from shared.contracts.placement import LocationType

PROVINCES = sorted(PROVINCE_REGION)

locations = st.builds(
    lambda index, kind, capacity, taken, province, water, closing, closed: Location(
        location_id=f"loc-{index}",
        name=f"location {index}",
        location_type=kind,
        municipality="m",
        province=province,
        capacity=capacity,
        occupied=min(taken, capacity),
        near_open_water=water,
        closing_at=datetime(2027, 1, 1, tzinfo=UTC) if closing else None,
        closed=closed,
    ),
    st.integers(0, 10_000),
    st.sampled_from(list(LocationType)),
    st.integers(0, 60),
    st.integers(0, 60),
    st.sampled_from(PROVINCES),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
households = st.builds(
    lambda size, children, current, family: HouseholdProfile(
        size=size, has_children=children, current=current, family_location_ids=frozenset(family)
    ),
    st.integers(1, 8),
    st.booleans(),
    st.none() | locations,
    st.sets(st.sampled_from([f"loc-{i}" for i in range(20)])),
)


@settings(max_examples=300, deadline=None)
@given(
    household=households,
    candidates=st.lists(locations, max_size=25, unique_by=lambda loc: loc.location_id),
    purpose=st.sampled_from(list(Purpose)),
)
def test_a_recommended_location_never_breaks_a_hard_constraint(
    household: HouseholdProfile, candidates: list[Location], purpose: Purpose
) -> None:
    ranking = recommend(household, candidates, purpose)
    types = wanted_types(purpose, household.current)
    for recommended in ranking.recommended:
        chosen = recommended.location
        assert hard_violations(household, chosen, types) == []
        assert chosen.location_type in types
        assert chosen.free_places >= household.size
        assert not (household.has_children and chosen.near_open_water)
        assert not chosen.closed and chosen.closing_at is None
        assert household.current is None or chosen.location_id != household.current.location_id
        assert recommended.reasons
    # Every candidate is either recommended or excluded with at least one reason, never both or neither.
    assert len(ranking.recommended) + len(ranking.excluded) == len(candidates)
    assert all(excluded.reasons for excluded in ranking.excluded)
    assert [r.rank for r in ranking.recommended] == list(range(1, len(ranking.recommended) + 1))


def test_a_durable_location_ranks_before_a_temporary_one_and_family_before_strangers() -> None:
    current = a_location(LocationType.AZC_AANMELD, province="Groningen")
    durable_far = a_location(LocationType.AZC_REGULIER, province="Limburg", name="far")
    durable_near = a_location(LocationType.AZC_REGULIER, province="Groningen", name="near")
    with_family = a_location(LocationType.AZC_REGULIER, province="Zeeland", name="family")
    household = HouseholdProfile(
        size=3, has_children=True, current=current, family_location_ids=frozenset({with_family.location_id})
    )
    ranking = recommend(household, [durable_far, durable_near, with_family], Purpose.PROCESS_NOT_ACCELERATED)
    assert [r.location.name for r in ranking.recommended] == ["family", "near", "far"]
    assert "first-degree family stays at this location" in ranking.recommended[0].reasons


def test_a_registration_azc_comes_before_a_waiting_location_which_takes_the_overflow() -> None:
    ter_apel = a_location(LocationType.AZC_AANMELD, capacity=2000, occupied=1999, name="Ter Apel")
    waiting = a_location(LocationType.WAITING_LOCATION, capacity=500, name="Zoutkamp")
    single = HouseholdProfile(size=1, has_children=False)
    assert recommend(single, [waiting, ter_apel], Purpose.REGISTRATION).best == ter_apel
    family = HouseholdProfile(size=4, has_children=True)
    ranking = recommend(family, [waiting, ter_apel], Purpose.REGISTRATION)
    assert ranking.best == waiting
    assert ranking.excluded[0].reasons == ("1 free places, 4 needed",)


def test_the_province_furthest_below_its_share_comes_first_and_avoided_locations_last() -> None:
    behind = a_location(LocationType.AZC_REGULIER, province="Utrecht", name="behind")
    ahead = a_location(LocationType.AZC_REGULIER, province="Groningen", name="ahead")
    shares = {
        "Utrecht": ProvinceShare(province="Utrecht", target=7700, realised=2000),
        "Groningen": ProvinceShare(province="Groningen", target=2717, realised=4000),
    }
    household = HouseholdProfile(size=1, has_children=False)
    ranking = recommend(household, [ahead, behind], Purpose.OWN_REQUEST, shares)
    assert [r.location.name for r in ranking.recommended] == ["behind", "ahead"]
    # Residents of a closing crisis shelter: another crisis shelter is possible, a durable azc comes first.
    closing_shelter = a_location(LocationType.CRISISNOODOPVANG, name="closing")
    other_shelter = a_location(LocationType.CRISISNOODOPVANG, capacity=5000, name="other shelter")
    azc = a_location(LocationType.AZC_REGULIER, capacity=50, name="azc")
    evacuees = HouseholdProfile(size=1, has_children=False, current=closing_shelter)
    ranking = recommend(evacuees, [other_shelter, azc], Purpose.CLOSURE)
    assert [r.location.name for r in ranking.recommended] == ["azc", "other shelter"]
    assert "crisisnoodopvang is to be avoided (2024 letter)" in ranking.recommended[1].reasons
