"""The rules of the 2024 Uitvoeringsagenda a move must satisfy — one test per rule, as stories."""

from __future__ import annotations

import pytest
from placement_builders import NOW, a_location, assessed, members, moved, placed, refused, transfer_events

from placement.domain import reception
from placement.domain.reception import EndReception, LinkToMunicipality, PlaceHousehold
from shared.contracts.placement import (
    Justification,
    LocationType,
    MoveReason,
    ReceptionEndReason,
    ResidentPlaced,
    ResidentTransferred,
)
from shared.domain import RuleViolation

AANMELD, VERSNELD, REGULIER = LocationType.AZC_AANMELD, LocationType.AZC_VERSNELD, LocationType.AZC_REGULIER


def test_everyone_starts_at_an_azc_with_registration_facilities() -> None:
    family = members(adults=2, children=2)
    events = reception.place(
        None,
        a_location(AANMELD),
        PlaceHousehold(household_id="h", members=family, reason=MoveReason.REGISTRATION, occurred_at=NOW),
    )
    assert [e.subject for e in events if isinstance(e, ResidentPlaced)] == [m.person_id for m in family]
    with refused("first-placement-not-at-registration"):
        reception.place(
            None,
            a_location(REGULIER),
            PlaceHousehold(household_id="h", members=family, reason=MoveReason.REGISTRATION, occurred_at=NOW),
        )


def test_when_registration_is_full_a_waiting_location_is_a_valid_first_place() -> None:
    assert reception.place(
        None,
        a_location(LocationType.WAITING_LOCATION),
        PlaceHousehold(household_id="h", members=members(), reason=MoveReason.REGISTRATION, occurred_at=NOW),
    )


def test_the_stream_causes_exactly_one_process_move() -> None:
    household = moved(placed(a_location(AANMELD)), a_location(VERSNELD), MoveReason.PROCESS)
    assert household.process_moved and household.forced_moves == 1
    with refused("process-move-already-made"):
        transfer_events(household, a_location(REGULIER), MoveReason.PROCESS)


def test_no_other_move_leaves_the_registration_azc_for_a_process_azc() -> None:
    with refused("process-move-needs-stream"):
        transfer_events(
            placed(a_location(AANMELD)), a_location(REGULIER), MoveReason.OWN_REQUEST, forced=False
        )


def test_a_household_moves_together() -> None:
    household = placed(a_location(AANMELD), adults=2, children=3)
    household, assessment = assessed(household)
    events = transfer_events(household, a_location(VERSNELD), MoveReason.PROCESS, assessment_id=assessment)
    assert sorted(e.subject for e in events) == sorted(m.person_id for m in household.members)
    assert all(isinstance(e, ResidentTransferred) and e.involves_children for e in events)


def test_children_are_never_placed_near_open_water() -> None:
    household, assessment = assessed(placed(a_location(AANMELD), children=1))
    with refused("open-water-with-children"):
        transfer_events(
            household,
            a_location(VERSNELD, near_open_water=True),
            MoveReason.PROCESS,
            assessment_id=assessment,
        )
    with refused("open-water-with-children"):
        reception.place(
            None,
            a_location(AANMELD, near_open_water=True),
            PlaceHousehold(
                household_id="h", members=members(children=1), reason=MoveReason.REGISTRATION, occurred_at=NOW
            ),
        )
    assert transfer_events(
        placed(a_location(AANMELD)), a_location(VERSNELD, near_open_water=True), MoveReason.PROCESS
    )


def test_a_forced_move_of_a_child_is_preceded_by_a_recorded_assessment() -> None:
    household = placed(a_location(AANMELD), children=1)
    with refused("child-interest-not-assessed"):
        transfer_events(household, a_location(VERSNELD), MoveReason.PROCESS)


def test_each_assessment_serves_one_forced_move() -> None:
    household, assessment = assessed(placed(a_location(AANMELD), children=1), Justification.SAFETY)
    household = moved(household, a_location(VERSNELD), MoveReason.PROCESS, assessment_id=assessment)
    with refused("assessment-already-used"):
        transfer_events(household, a_location(VERSNELD), MoveReason.SAFETY, assessment_id=assessment)


def test_a_second_forced_move_of_a_child_needs_an_explicit_justification() -> None:
    household, first = assessed(placed(a_location(AANMELD), children=2))
    household = moved(household, a_location(VERSNELD), MoveReason.PROCESS, assessment_id=first)
    household, plain = assessed(household)
    with refused("second-forced-move-of-child"):
        transfer_events(household, a_location(VERSNELD), MoveReason.LOCATION_CLOSURE, assessment_id=plain)
    household, justified = assessed(household, Justification.LOCATION_CLOSURE_WITHOUT_ALTERNATIVE)
    household = moved(household, a_location(VERSNELD), MoveReason.LOCATION_CLOSURE, assessment_id=justified)
    assert household.forced_moves_with_children == 2


def test_the_refusal_names_the_rule() -> None:
    household, first = assessed(placed(a_location(AANMELD), children=1))
    household, plain = assessed(
        moved(household, a_location(VERSNELD), MoveReason.PROCESS, assessment_id=first)
    )
    with pytest.raises(RuleViolation) as refused:
        transfer_events(household, a_location(VERSNELD), MoveReason.LOCATION_CLOSURE, assessment_id=plain)
    assert "moved by force at most once" in refused.value.detail


def test_moves_of_adults_need_no_assessment_and_unforced_moves_do_not_count() -> None:
    adults = moved(placed(a_location(AANMELD), adults=2), a_location(REGULIER), MoveReason.PROCESS)
    adults = moved(adults, a_location(REGULIER), MoveReason.CAPACITY)
    assert adults.forced_moves == 2 and adults.forced_moves_with_children == 0
    family, assessment = assessed(placed(a_location(AANMELD), children=1))
    family = moved(family, a_location(REGULIER), MoveReason.PROCESS, assessment_id=assessment)
    family = moved(family, a_location(REGULIER), MoveReason.OWN_REQUEST, forced=False)
    assert family.moves == 2 and family.forced_moves_with_children == 1


def test_htl_and_ibo_are_reached_from_a_main_form_and_left_back_to_one() -> None:
    resident = moved(placed(a_location(AANMELD)), a_location(REGULIER), MoveReason.PROCESS)
    at_htl = moved(resident, a_location(LocationType.HTL), MoveReason.MEASURE)
    assert at_htl.return_location_id == resident.location_id
    with refused("special-form-only-from-main-form"):
        transfer_events(at_htl, a_location(LocationType.IBO), MoveReason.CARE)
    back = moved(at_htl, a_location(REGULIER), MoveReason.MEASURE, forced=False)
    at_ibo = moved(back, a_location(LocationType.IBO), MoveReason.CARE)
    assert at_ibo.location_type is LocationType.IBO
    with refused("special-form-reason"):
        transfer_events(back, a_location(LocationType.HTL), MoveReason.CARE)
    for start in (AANMELD, VERSNELD):
        origin = placed(a_location(AANMELD))
        if start is VERSNELD:
            origin = moved(origin, a_location(VERSNELD), MoveReason.PROCESS)
        assert transfer_events(origin, a_location(LocationType.HTL), MoveReason.MEASURE)


def test_a_family_location_is_for_families_with_children_after_a_chain_decision() -> None:
    single = moved(placed(a_location(AANMELD)), a_location(REGULIER), MoveReason.PROCESS)
    with refused("family-location-no-children"):
        transfer_events(single, a_location(LocationType.FAMILY_LOCATION), MoveReason.RETURN)
    with refused("return-location"):
        transfer_events(single, a_location(LocationType.VBL), MoveReason.SAFETY)


def test_a_household_is_linked_to_one_municipality_and_housed_only_once_linked() -> None:
    household = placed(a_location(AANMELD))
    with refused("not-linked"):
        reception.end_reception(
            household, household.household_id, EndReception(reason=ReceptionEndReason.HOUSED, occurred_at=NOW)
        )
    link = LinkToMunicipality(municipality="Assen", occurred_at=NOW)
    linked = reception.evolve(
        household, reception.link_to_municipality(household, household.household_id, link)[0]
    )
    with refused("already-linked"):
        reception.link_to_municipality(linked, household.household_id, link)
    ended = reception.end_reception(
        linked, household.household_id, EndReception(reason=ReceptionEndReason.HOUSED, occurred_at=NOW)
    )
    assert len(ended) == household.size


@pytest.mark.parametrize("reason", list(ReceptionEndReason))
def test_reception_ends_once_for_every_reason(reason: ReceptionEndReason) -> None:
    household = placed(a_location(AANMELD), adults=2)
    if reason is ReceptionEndReason.HOUSED:
        household = reception.evolve(
            household,
            reception.link_to_municipality(  # type: ignore[assignment]
                household, household.household_id, LinkToMunicipality(municipality="Assen", occurred_at=NOW)
            )[0],
        )
    events = reception.end_reception(
        household, household.household_id, EndReception(reason=reason, occurred_at=NOW)
    )
    ended = household
    for event in events:
        ended = reception.evolve(ended, event)  # type: ignore[assignment]
    assert ended.ended
    with refused("reception-ended"):
        reception.end_reception(ended, household.household_id, EndReception(reason=reason, occurred_at=NOW))
