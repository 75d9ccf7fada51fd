"""The return rules, decided purely: given a case's facts, when a command or deadline comes, then these
facts (or this refusal)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from repatriation.domain import return_case, return_steps
from repatriation.domain.deadlines import (
    DEPARTURE_PERIOD_EXPIRED,
    VBL_PERIOD_ENDED,
    CancelDeadline,
    ScheduleDeadline,
    deadline_changes,
)
from repatriation.domain.return_case import OpenReturnCase, ReturnCase
from repatriation.domain.return_steps import (
    CompleteDublinTransfer,
    HoldDepartureInterview,
    RealiseDeparture,
    TakeLocalChainDecision,
)
from shared.contracts.base import Event
from shared.contracts.procedure import DecisionOutcome
from shared.contracts.repatriation import (
    DepartureInterviewHeld,
    DeparturePeriodExpired,
    DepartureRealised,
    DepartureType,
    DublinTransferCompleted,
    LocalChainDecisionTaken,
    LocalChainOption,
    ReturnCaseOpened,
    VblPeriodEnded,
)
from shared.domain import RuleViolation, fold
from shared.ids import new_id

FINAL = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
DEADLINE = FINAL + timedelta(days=28)
NOW = FINAL + timedelta(days=3)
HOUSEHOLD = "3f0d7a52-9c1e-4d8b-a7e2-6b5c4d3e2f10"


def _open(
    outcome: DecisionOutcome = DecisionOutcome.REJECTED_UNFOUNDED, deadline: datetime | None = DEADLINE
) -> OpenReturnCase:
    return OpenReturnCase(
        household_id=HOUSEHOLD,
        application_id=new_id(),
        person_ids=(new_id(), new_id()),
        outcome=outcome,
        departure_deadline=deadline,
        occurred_at=FINAL,
    )


def _case(*later: Event, outcome: DecisionOutcome = DecisionOutcome.REJECTED_UNFOUNDED) -> ReturnCase:
    state = fold(return_case.evolve, [*return_case.open_case(None, _open(outcome)), *later], None)
    assert state is not None
    return replace(state, final_outcome=outcome)  # what the service layer adds from final_decisions


def _lko(option: LocalChainOption, until: datetime | None = None) -> TakeLocalChainDecision:
    return TakeLocalChainDecision(option=option, until=until, occurred_at=NOW, now=NOW)


@contextmanager
def _refused(code: str) -> Iterator[None]:
    with pytest.raises(RuleViolation) as refused:
        yield
    assert refused.value.code == code


def _departure() -> DepartureRealised:
    state = _case()
    command = RealiseDeparture(
        departure_type=DepartureType.INDEPENDENT, destination_country="GEO", occurred_at=NOW, now=NOW
    )
    (event,) = return_steps.realise_departure(state, command)
    assert isinstance(event, DepartureRealised)
    return event


# --- rule 1: a case opens when a rejection becomes final -----------------------------------------


@pytest.mark.parametrize("outcome", [o for o in DecisionOutcome if o.is_negative])
def test_a_final_rejection_opens_a_case_with_its_departure_deadline(outcome: DecisionOutcome) -> None:
    # given no case, when a negative decision becomes final
    events = return_case.open_case(None, _open(outcome))
    # then the case opens, with the deadline, and the deadline is scheduled
    (opened,) = events
    assert isinstance(opened, ReturnCaseOpened)
    assert opened.case_id == return_case.case_id_for(HOUSEHOLD)
    assert opened.departure_deadline == DEADLINE and opened.occurred_at == FINAL
    assert deadline_changes(events) == [ScheduleDeadline(DEPARTURE_PERIOD_EXPIRED, DEADLINE)]


def test_a_final_grant_opens_no_case() -> None:
    assert return_case.open_case(None, _open(DecisionOutcome.GRANTED)) == []


@pytest.mark.parametrize("deadline", [None, FINAL], ids=["no-deadline", "0-days"])
def test_a_departure_period_of_0_days_has_expired_when_the_case_opens(deadline: datetime | None) -> None:
    events = return_case.open_case(None, _open(deadline=deadline))
    assert [type(e) for e in events] == [ReturnCaseOpened, DeparturePeriodExpired]
    assert isinstance(events[0], ReturnCaseOpened) and events[0].departure_deadline == FINAL
    assert events[1].occurred_at == FINAL
    assert deadline_changes(events) == []  # nothing left for the scheduler


def test_a_second_final_rejection_of_the_household_opens_no_second_case() -> None:
    # given an open case (after a well-founded appeal the IND rejected again, and that became final)
    state = _case()
    # then nothing happens: no duplicate, no refusal the consumer would dead-letter
    assert return_case.open_case(state, replace(_open(), occurred_at=FINAL + timedelta(days=90))) == []


# --- rule 3: departure interviews ----------------------------------------------------------------


def test_departure_interviews_can_be_held_more_than_once() -> None:
    first = return_steps.hold_departure_interview(
        _case(), HoldDepartureInterview(cooperative=False, occurred_at=NOW, now=NOW)
    )
    state = _case(*first)
    second = return_steps.hold_departure_interview(
        state, HoldDepartureInterview(cooperative=True, occurred_at=NOW, now=NOW)
    )
    assert [type(e) for e in second] == [DepartureInterviewHeld]
    interviews = _case(*first, *second).interviews
    assert [i.cooperative for i in interviews] == [False, True]


# --- rule 4: the local chain decision ------------------------------------------------------------


def test_the_local_chain_decision_is_taken_once() -> None:
    taken = return_steps.take_local_chain_decision(
        _case(), _lko(LocalChainOption.END_RECEPTION), minor_children=False
    )
    assert [type(e) for e in taken] == [LocalChainDecisionTaken]
    with _refused("local-chain-decision-already-taken"):
        return_steps.take_local_chain_decision(
            _case(*taken), _lko(LocalChainOption.DETENTION), minor_children=False
        )


def test_a_family_location_is_only_for_a_household_with_minor_children() -> None:
    option = LocalChainOption.FAMILY_LOCATION
    with _refused("no-minor-children"):
        return_steps.take_local_chain_decision(_case(), _lko(option), minor_children=False)
    with _refused("household-composition-unknown"):
        return_steps.take_local_chain_decision(_case(), _lko(option), minor_children=None)
    (event,) = return_steps.take_local_chain_decision(_case(), _lko(option), minor_children=True)
    assert isinstance(event, LocalChainDecisionTaken) and event.option is option and event.until is None


def test_a_vbl_stay_lasts_12_weeks_unless_shorter_and_its_end_is_scheduled() -> None:
    events = return_steps.take_local_chain_decision(_case(), _lko(LocalChainOption.VBL), minor_children=False)
    (event,) = events
    assert isinstance(event, LocalChainDecisionTaken) and event.until == NOW + timedelta(weeks=12)
    assert deadline_changes(events) == [ScheduleDeadline(VBL_PERIOD_ENDED, NOW + timedelta(weeks=12))]
    shorter = NOW + timedelta(weeks=6)
    (event,) = return_steps.take_local_chain_decision(
        _case(), _lko(LocalChainOption.VBL, shorter), minor_children=False
    )
    assert isinstance(event, LocalChainDecisionTaken) and event.until == shorter


def test_a_vbl_stay_longer_than_12_weeks_is_refused() -> None:
    too_long = NOW + timedelta(weeks=12, seconds=1)
    with _refused("vbl-longer-than-12-weeks"):
        return_steps.take_local_chain_decision(
            _case(), _lko(LocalChainOption.VBL, too_long), minor_children=False
        )


def test_a_longer_azc_stay_needs_an_end_at_most_4_weeks_away() -> None:
    option = LocalChainOption.EXTEND_AZC_STAY
    with _refused("until-required"):
        return_steps.take_local_chain_decision(_case(), _lko(option), minor_children=False)
    with _refused("azc-extension-longer-than-4-weeks"):
        return_steps.take_local_chain_decision(
            _case(), _lko(option, NOW + timedelta(weeks=4, days=1)), minor_children=False
        )
    events = return_steps.take_local_chain_decision(
        _case(), _lko(option, NOW + timedelta(weeks=4)), minor_children=False
    )
    assert [type(e) for e in events] == [LocalChainDecisionTaken]
    assert deadline_changes(events) == []  # the azc stay's end is placement's to act on


def test_until_is_only_for_a_vbl_or_a_longer_azc_stay_and_lies_after_the_decision() -> None:
    with _refused("until-not-applicable"):
        return_steps.take_local_chain_decision(
            _case(), _lko(LocalChainOption.DETENTION, NOW + timedelta(days=3)), minor_children=False
        )
    with _refused("until-not-after-decision"):
        return_steps.take_local_chain_decision(_case(), _lko(LocalChainOption.VBL, NOW), minor_children=False)


# --- rule 5: deadlines raise facts at their own time, unless the case is closed -----------------


def test_the_departure_deadline_raises_the_expiry_at_the_deadline_unless_closed() -> None:
    (expired,) = return_case.expire_departure_period(_case(), DEADLINE)
    assert isinstance(expired, DeparturePeriodExpired) and expired.occurred_at == DEADLINE
    assert return_case.expire_departure_period(_case(expired), DEADLINE) == []  # told once
    assert return_case.expire_departure_period(_case(_departure()), DEADLINE) == []


def test_the_vbl_deadline_raises_its_end_unless_closed() -> None:
    until = NOW + timedelta(weeks=8)
    lko = return_steps.take_local_chain_decision(
        _case(), _lko(LocalChainOption.VBL, until), minor_children=False
    )
    (ended,) = return_case.end_vbl_period(_case(*lko), until)
    assert isinstance(ended, VblPeriodEnded) and ended.occurred_at == until
    assert return_case.end_vbl_period(_case(*lko, ended), until) == []
    assert return_case.end_vbl_period(_case(*lko, _departure()), until) == []
    assert return_case.end_vbl_period(_case(), until) == []  # no VBL stay was decided


# --- rule 6: a departure or a Dublin transfer closes the case ------------------------------------


def test_a_departure_closes_the_case_and_cancels_its_deadlines() -> None:
    departure = _departure()
    assert departure.destination_country == "GEO" and departure.occurred_at == NOW
    state = _case(departure)
    assert state.closed and state.closed_at == NOW
    assert deadline_changes([departure]) == [
        CancelDeadline(DEPARTURE_PERIOD_EXPIRED),
        CancelDeadline(VBL_PERIOD_ENDED),
    ]


def test_a_departure_does_not_go_to_the_netherlands() -> None:
    command = RealiseDeparture(
        departure_type=DepartureType.FORCED, destination_country="NLD", occurred_at=NOW, now=NOW
    )
    with _refused("destination-is-netherlands"):
        return_steps.realise_departure(_case(), command)


def test_a_dublin_transfer_follows_only_a_dublin_decision_and_closes_the_case() -> None:
    command = CompleteDublinTransfer(member_state="DE", occurred_at=NOW, now=NOW)
    with _refused("not-a-dublin-case"):
        return_steps.complete_dublin_transfer(_case(), command)
    dublin = DecisionOutcome.DUBLIN_NOT_CONSIDERED
    with _refused("not-a-dublin-member-state"):
        return_steps.complete_dublin_transfer(_case(outcome=dublin), replace(command, member_state="US"))
    events = return_steps.complete_dublin_transfer(_case(outcome=dublin), command)
    assert [type(e) for e in events] == [DublinTransferCompleted]
    assert _case(*events, outcome=dublin).closed
    assert CancelDeadline(DEPARTURE_PERIOD_EXPIRED) in deadline_changes(events)


Step = Callable[[ReturnCase], list[Event]]
EVERY_STEP: list[Step] = [
    lambda s: return_steps.hold_departure_interview(
        s, HoldDepartureInterview(cooperative=True, occurred_at=NOW, now=NOW)
    ),
    lambda s: return_steps.take_local_chain_decision(s, _lko(LocalChainOption.VBL), minor_children=True),
    lambda s: return_steps.realise_departure(
        s,
        RealiseDeparture(
            departure_type=DepartureType.FORCED, destination_country=None, occurred_at=NOW, now=NOW
        ),
    ),
    lambda s: return_steps.complete_dublin_transfer(
        s, CompleteDublinTransfer(member_state="DE", occurred_at=NOW, now=NOW)
    ),
]


@pytest.mark.parametrize(
    "step", EVERY_STEP, ids=["interview", "local-chain-decision", "departure", "dublin-transfer"]
)
def test_every_command_on_a_closed_case_is_refused(step: Step) -> None:
    closed = _case(_departure(), outcome=DecisionOutcome.DUBLIN_NOT_CONSIDERED)
    with _refused("case-closed"):
        step(closed)


# --- rule 7: now comes from the command; facts lie between the opening and now -------------------


def test_a_fact_lies_neither_in_the_future_nor_before_the_case_opened() -> None:
    with _refused("occurred-in-the-future"):
        return_steps.hold_departure_interview(
            _case(), HoldDepartureInterview(cooperative=True, occurred_at=NOW + timedelta(seconds=1), now=NOW)
        )
    with _refused("before-case-opened"):
        return_steps.hold_departure_interview(
            _case(), HoldDepartureInterview(cooperative=True, occurred_at=FINAL - timedelta(days=1), now=NOW)
        )
