"""Location rules: capacity is never exceeded, and a closing location takes nobody new."""

from __future__ import annotations

from datetime import timedelta

import pytest
from placement_builders import NOW, a_location

from placement.domain import location
from placement.domain.location import AnnounceClosure, ChangeCapacity, TakePlaces
from shared.contracts.placement import LocationType
from shared.domain import RuleViolation, fold


def test_capacity_is_never_exceeded() -> None:
    nearly_full = a_location(LocationType.AZC_AANMELD, capacity=10, occupied=8)
    with pytest.raises(RuleViolation) as refused:
        location.take_places(nearly_full, TakePlaces(household_id="h", places=3, occurred_at=NOW))
    assert refused.value.code == "capacity-exceeded"


def test_capacity_cannot_drop_below_the_residents_present() -> None:
    busy = a_location(capacity=100, occupied=60)
    with pytest.raises(RuleViolation) as refused:
        location.change_capacity(busy, ChangeCapacity(capacity=50, occurred_at=NOW))
    assert refused.value.code == "capacity-below-occupancy"
    assert location.change_capacity(busy, ChangeCapacity(capacity=60, occurred_at=NOW))


def test_a_closing_location_takes_no_new_households_and_closes_only_when_empty() -> None:
    azc = a_location(capacity=100, occupied=4)
    closing = fold(
        location.evolve,
        location.announce_closure(azc, AnnounceClosure(closes_at=NOW + timedelta(days=30), occurred_at=NOW)),
        azc,
    )
    assert closing is not None
    with pytest.raises(RuleViolation) as refused:
        location.take_places(closing, TakePlaces(household_id="h", places=1, occurred_at=NOW))
    assert refused.value.code == "location-closing"
    with pytest.raises(RuleViolation) as not_empty:
        location.close(closing, NOW)
    assert not_empty.value.code == "location-not-empty"
