"""A move or an end of reception registered late lands on the day it happened — but never before the
household's current stay began: the read side orders a person's stays by valid time, so such a fact
would put the person back where placement says they left (found by the stateful property in
tests/unit/test_placement_residence_stateful.py).

Regression: a process move dated an hour before the placement was accepted, and the read side then
showed the person at the registration azc for good; an end of reception dated before the last move left
the person at the new location for good."""

from __future__ import annotations

from datetime import timedelta

from placement_builders import NOW, a_location, placed, refused

from placement.domain import reception
from placement.domain.reception import CorrectMove, EndReception, Reception, TransferHousehold
from shared.contracts.base import Event
from shared.contracts.placement import LocationType, MoveReason, ReceptionEndReason
from shared.domain import fold

HOUR = timedelta(hours=1)


def process_move(state: Reception, at: timedelta) -> list[Event]:
    return reception.transfer(
        state,
        a_location(LocationType.AZC_REGULIER),
        TransferHousehold(
            household_id=state.household_id,
            reason=MoveReason.PROCESS,
            forced=True,
            in_school_holiday=False,
            assessment_id=None,
            occurred_at=NOW + at,
        ),
    )


def departure(state: Reception, at: timedelta) -> list[Event]:
    return reception.end_reception(
        state, state.household_id, EndReception(reason=ReceptionEndReason.DEPARTED, occurred_at=NOW + at)
    )


def test_a_move_dated_before_the_current_stay_began_is_refused() -> None:
    household = placed(a_location(LocationType.AZC_AANMELD))  # at NOW

    with refused("before-current-stay"):
        process_move(household, -HOUR)
    assert process_move(household, timedelta(0))  # the same moment is fine: registered after it


def test_an_end_of_reception_dated_before_the_last_move_is_refused() -> None:
    household = placed(a_location(LocationType.AZC_AANMELD))
    moved = fold(reception.evolve, process_move(household, 5 * HOUR), household)
    assert moved is not None

    with refused("before-current-stay"):
        departure(moved, 4 * HOUR)
    assert departure(moved, 5 * HOUR)


def test_a_corrected_move_moves_the_start_of_the_current_stay() -> None:
    # given a household placed at NOW and moved at NOW + 5 h, as its stream holds them
    household = placed(a_location(LocationType.AZC_AANMELD))
    placement = [(f"placed-{n}", event) for n, event in enumerate(fold_back(household))]
    move = [(f"moved-{n}", event) for n, event in enumerate(process_move(household, 5 * HOUR))]
    history = [*placement, *move]
    # when the move is corrected to NOW + 2 h
    state = reception.fold_stream(history)
    correction = reception.correct_move(
        state,
        history,
        CorrectMove(
            household_id=household.household_id,
            event_id="moved-0",
            occurred_at=NOW + 2 * HOUR,
            now=NOW + HOUR * 9,
        ),
    )
    corrected = reception.fold_stream([*history, *((f"c-{n}", e) for n, e in enumerate(correction))])
    # then the stay began at NOW + 2 h: an end at NOW + 3 h is in order, one at NOW + 1 h is not
    assert corrected is not None and corrected.since == NOW + 2 * HOUR
    assert departure(corrected, 3 * HOUR)
    with refused("before-current-stay"):
        departure(corrected, HOUR)


def fold_back(state: Reception) -> list[Event]:
    """The placement facts that made `state` (one per member, at NOW)."""
    return reception.place(
        None,
        a_location(LocationType.AZC_AANMELD),
        reception.PlaceHousehold(
            household_id=state.household_id,
            members=state.members,
            reason=MoveReason.REGISTRATION,
            occurred_at=NOW,
        ),
    )
