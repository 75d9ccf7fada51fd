"""Households registered before arrival groups existed (HouseholdRegistered v1) still read as v2: a
v1 household was a first application, its first member the head."""

from __future__ import annotations

from datetime import UTC, datetime

from intake.domain.household import evolve
from shared.contracts import chain_registry
from shared.contracts.intake import ArrivalGroup, HouseholdRegistered, MemberRole, Relation

V1_PAYLOAD = {
    "household_id": "0190f0a1-0000-7000-8000-000000000001",
    "channel": "ter-apel",
    "members": [
        {"person_id": "p-1", "role": "adult", "birth_year": 1988, "nationality": "SYR"},
        {"person_id": "p-2", "role": "child", "birth_year": 2016, "nationality": "SYR"},
    ],
    "occurred_at": "2024-05-01T08:00:00Z",
}


def test_a_v1_household_registered_decodes_to_v2_as_a_first_application() -> None:
    # given the literal payload of a v1 HouseholdRegistered; when the chain registry decodes it
    event = chain_registry().decode(HouseholdRegistered.type_name, 1, V1_PAYLOAD)
    # then it is the v2 model: a first application, the first member the head, no family elsewhere
    assert isinstance(event, HouseholdRegistered)
    assert event.arrival_group is ArrivalGroup.FIRST_APPLICATION
    assert [m.relation for m in event.members] == [Relation.HEAD, Relation.OTHER]
    assert event.family_elsewhere == ()
    assert event.occurred_at == datetime(2024, 5, 1, 8, tzinfo=UTC)


def test_a_v1_household_folds_into_the_current_state() -> None:
    state = evolve(None, chain_registry().decode(HouseholdRegistered.type_name, 1, V1_PAYLOAD))
    assert state is not None
    assert state.arrival_group is ArrivalGroup.FIRST_APPLICATION
    assert [(p.person_id, p.role) for p in state.persons] == [
        ("p-1", MemberRole.ADULT),
        ("p-2", MemberRole.CHILD),
    ]
