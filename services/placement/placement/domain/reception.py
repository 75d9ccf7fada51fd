"""The reception of one household: where its members stay, how they moved, and the rules for moving.

A household moves together: every placement and transfer yields one fact per member, keyed by that
person. The rules of the 2024 Uitvoeringsagenda that a move must satisfy live here (see
docs/services/placement.md for each rule and the test that proves it):

- the reception stream causes exactly one process move, from the registration azc (or the waiting
  location) to the azc for the accelerated procedure or a regular azc;
- the special forms (htl, ibo) are reached from one of the three main forms, and left back to one;
- children are never placed at a location near open water;
- a forced move of a household with children rests on a recorded child-interest assessment, used once;
- children are moved by force at most once: a further forced move needs an assessment that records
  an explicit justification.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from placement.domain.location import Location
from shared.contracts.base import Event
from shared.contracts.intake import MemberRole
from shared.contracts.placement import (
    ChildInterestAssessed,
    HouseholdLinkedToMunicipality,
    Justification,
    LocationType,
    MoveReason,
    ReceptionEndReason,
    ResidentLeftReception,
    ResidentPlaced,
    ResidentTransferCorrected,
    ResidentTransferred,
    TransferProposed,
)
from shared.domain import NotFound, RuleViolation

SECOND_FORCED_MOVE_RULE = (
    "children are moved by force at most once (Uitvoeringsagenda 2024; motie Van Meenen c.s., "
    "Kamerstuk 31 288 nr. 710)"
)
PROCESS_TARGETS = (LocationType.AZC_VERSNELD, LocationType.AZC_REGULIER)
PROCESS_ORIGINS = (LocationType.AZC_AANMELD, LocationType.WAITING_LOCATION)
RETURN_TARGETS = (LocationType.VBL, LocationType.FAMILY_LOCATION)


@dataclass(frozen=True, kw_only=True, slots=True)
class Member:
    person_id: str
    role: MemberRole


@dataclass(frozen=True, kw_only=True, slots=True)
class Assessment:
    assessment_id: str
    justification: Justification | None
    used: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class Proposal:
    proposal_id: str
    to_location_id: str
    proposed_for: datetime
    reason: MoveReason
    forced: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class Reception:
    household_id: str
    members: tuple[Member, ...]
    location_id: str
    location_type: LocationType
    return_location_id: str | None = None  # the main-form location left for an htl or ibo
    moves: int = 0
    forced_moves: int = 0
    forced_moves_with_children: int = 0
    process_moved: bool = False
    assessments: dict[str, Assessment] = field(default_factory=dict)
    proposals: dict[str, Proposal] = field(default_factory=dict)
    linked_municipality: str | None = None
    ended: bool = False
    # The valid time the current stay began: its placement or move, as corrected (see `fold_stream`).
    # A move or an end of reception dated before it would reorder the person's stays on the read side.
    since: datetime | None = None

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def has_children(self) -> bool:
        return any(member.role is MemberRole.CHILD for member in self.members)


@dataclass(frozen=True, kw_only=True, slots=True)
class PlaceHousehold:
    household_id: str
    members: tuple[Member, ...]
    reason: MoveReason
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class AssessChildInterest:
    assessment_id: str
    first_degree_family_nearby: bool
    medical_necessity: bool
    school_continuity: bool
    justification: Justification | None
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class TransferHousehold:
    household_id: str
    reason: MoveReason
    forced: bool
    in_school_holiday: bool
    assessment_id: str | None
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class ProposeTransfer:
    proposal_id: str
    reason: MoveReason
    forced: bool
    proposed_for: datetime
    in_school_holiday: bool
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class LinkToMunicipality:
    municipality: str
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class EndReception:
    reason: ReceptionEndReason
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class CorrectMove:
    """The move whose member fact has id `event_id` happened at `occurred_at` (its corrected valid time)."""

    household_id: str
    event_id: str
    occurred_at: datetime
    now: datetime


def _in_reception(state: Reception | None, household_id: str) -> Reception:
    if state is None:
        raise RuleViolation(f"household {household_id} has no reception place", code="not-placed")
    if state.ended:
        raise RuleViolation(f"the reception of household {household_id} has ended", code="reception-ended")
    return state


def _check_not_before_current_stay(state: Reception, occurred_at: datetime, what: str) -> None:
    if state.since is not None and occurred_at < state.since:
        raise RuleViolation(
            f"{what} dated {occurred_at.isoformat()} lies before the household's current stay began "
            f"({state.since.isoformat()}); the person's stays keep their order — correct the earlier move "
            "instead",
            code="before-current-stay",
        )


def _check_target(members: tuple[Member, ...], target: Location) -> None:
    if not target.accepts_residents:
        raise RuleViolation(f"{target.name} is closing or closed", code="location-closing")
    if target.near_open_water and any(m.role is MemberRole.CHILD for m in members):
        raise RuleViolation(
            f"{target.name} lies near open water, where children are not placed",
            code="open-water-with-children",
        )


def place(state: Reception | None, target: Location, command: PlaceHousehold) -> list[Event]:
    if state is not None:
        raise RuleViolation(
            f"household {command.household_id} already has a reception place", code="already-placed"
        )
    if target.location_type not in PROCESS_ORIGINS:
        raise RuleViolation(
            "everyone starts at an azc with registration facilities (or, when it is full, a "
            "waiting location)",
            code="first-placement-not-at-registration",
        )
    _check_target(command.members, target)
    return [
        ResidentPlaced(
            person_id=m.person_id,
            household_id=command.household_id,
            role=m.role,
            location_id=target.location_id,
            location_name=target.name,
            location_type=target.location_type,
            municipality=target.municipality,
            province=target.province,
            reason=command.reason,
            occurred_at=command.occurred_at,
        )
        for m in command.members
    ]


def assess_child_interest(
    state: Reception | None, household_id: str, command: AssessChildInterest
) -> list[Event]:
    current = _in_reception(state, household_id)
    if not current.has_children:
        raise RuleViolation("a child-interest assessment is for households with children", code="no-children")
    return [
        ChildInterestAssessed(
            assessment_id=command.assessment_id,
            household_id=household_id,
            first_degree_family_nearby=command.first_degree_family_nearby,
            medical_necessity=command.medical_necessity,
            school_continuity=command.school_continuity,
            justification=command.justification,
            occurred_at=command.occurred_at,
        )
    ]


def _check_transition(state: Reception, target: Location, command: TransferHousehold) -> None:
    origin, goal = state.location_type, target.location_type
    if command.reason is MoveReason.PROCESS:
        if state.process_moved:
            raise RuleViolation(
                "the reception stream causes exactly one process move, and it was made",
                code="process-move-already-made",
            )
        if origin not in PROCESS_ORIGINS or goal not in PROCESS_TARGETS:
            raise RuleViolation(
                "the process move goes from the registration azc to an azc for the accelerated "
                "procedure or a regular azc",
                code="process-move-route",
            )
    elif goal in PROCESS_TARGETS and origin in PROCESS_ORIGINS:
        raise RuleViolation(
            "leaving the registration azc for a process azc is the process move; it follows the "
            "reception stream",
            code="process-move-needs-stream",
        )
    if goal.special_form:
        if not origin.main_form:
            raise RuleViolation(
                f"{goal.value} is reached from one of the three main reception forms",
                code="special-form-only-from-main-form",
            )
        wanted = MoveReason.MEASURE if goal is LocationType.HTL else MoveReason.CARE
        if command.reason is not wanted:
            raise RuleViolation(
                f"a move to {goal.value} has reason {wanted.value}", code="special-form-reason"
            )
    if origin.special_form and not goal.main_form and goal not in RETURN_TARGETS:
        raise RuleViolation(
            f"from {origin.value} a resident goes back to a main reception form", code="special-form-return"
        )
    if goal in RETURN_TARGETS and command.reason is not MoveReason.RETURN:
        raise RuleViolation(
            f"{goal.value} follows a local chain decision (reason return)", code="return-location"
        )
    if goal is LocationType.FAMILY_LOCATION and not state.has_children:
        raise RuleViolation(
            "a family location is for families with minor children", code="family-location-no-children"
        )


def _check_children_policy(state: Reception, command: TransferHousehold) -> None:
    if not (command.forced and state.has_children):
        return
    assessment = state.assessments.get(command.assessment_id or "")
    if assessment is None:
        raise RuleViolation(
            "a forced move of a household with children is preceded by a recorded "
            "child-interest assessment; record one and name it",
            code="child-interest-not-assessed",
        )
    if assessment.used:
        raise RuleViolation(
            f"assessment {assessment.assessment_id} already served a move; each forced move of a "
            "child rests on its own assessment",
            code="assessment-already-used",
        )
    if state.forced_moves_with_children >= 1 and assessment.justification is None:
        raise RuleViolation(
            f"this would be forced move number {state.forced_moves_with_children + 1} of the children in "
            f"household {state.household_id}; {SECOND_FORCED_MOVE_RULE}. A further forced move needs an "
            "assessment that records an explicit justification.",
            code="second-forced-move-of-child",
        )


def transfer(state: Reception | None, target: Location, command: TransferHousehold) -> list[Event]:
    current = _in_reception(state, command.household_id)
    if current.location_id == target.location_id:
        raise RuleViolation(
            f"household {command.household_id} already stays at {target.name}", code="already-there"
        )
    _check_not_before_current_stay(current, command.occurred_at, "a move")
    _check_target(current.members, target)
    _check_transition(current, target, command)
    _check_children_policy(current, command)
    return [
        ResidentTransferred(
            person_id=m.person_id,
            household_id=current.household_id,
            role=m.role,
            from_location_id=current.location_id,
            location_id=target.location_id,
            location_name=target.name,
            location_type=target.location_type,
            municipality=target.municipality,
            province=target.province,
            reason=command.reason,
            forced=command.forced,
            involves_children=current.has_children,
            in_school_holiday=command.in_school_holiday,
            assessment_id=command.assessment_id if command.forced and current.has_children else None,
            occurred_at=command.occurred_at,
        )
        for m in current.members
    ]


def propose_transfer(
    state: Reception | None, household_id: str, target: Location, command: ProposeTransfer
) -> list[Event]:
    current = _in_reception(state, household_id)
    _check_target(current.members, target)
    return [
        TransferProposed(
            proposal_id=command.proposal_id,
            household_id=household_id,
            from_location_id=current.location_id,
            to_location_id=target.location_id,
            to_location_name=target.name,
            proposed_for=command.proposed_for,
            reason=command.reason,
            forced=command.forced,
            involves_children=current.has_children,
            in_school_holiday=command.in_school_holiday,
            occurred_at=command.occurred_at,
        )
    ]


def link_to_municipality(
    state: Reception | None, household_id: str, command: LinkToMunicipality
) -> list[Event]:
    current = _in_reception(state, household_id)
    if current.linked_municipality is not None:
        raise RuleViolation(
            f"household {household_id} is already linked to {current.linked_municipality}",
            code="already-linked",
        )
    return [
        HouseholdLinkedToMunicipality(
            household_id=household_id,
            municipality=command.municipality,
            person_ids=tuple(m.person_id for m in current.members),
            occurred_at=command.occurred_at,
        )
    ]


def end_reception(state: Reception | None, household_id: str, command: EndReception) -> list[Event]:
    current = _in_reception(state, household_id)
    _check_not_before_current_stay(current, command.occurred_at, "an end of reception")
    if command.reason is ReceptionEndReason.HOUSED and current.linked_municipality is None:
        raise RuleViolation(
            "a household is housed by the municipality it is linked to; link it first", code="not-linked"
        )
    return [
        ResidentLeftReception(
            person_id=m.person_id,
            household_id=household_id,
            location_id=current.location_id,
            reason=command.reason,
            occurred_at=command.occurred_at,
        )
        for m in current.members
    ]


def correct_move(
    state: Reception | None, history: Sequence[tuple[str, Event]], command: CorrectMove
) -> list[Event]:
    """Correct the valid time of a registered move: one `ResidentTransferCorrected` per member.

    `history` is the household's reception stream as (event id, event), in append order. A correction
    changes a time, never a count, and keeps the move in its place among the person's moves (after the
    previous one, before the next one and before the end of reception), so placement's state and the
    read side's order of moves stay the same."""
    if state is None:
        raise NotFound(f"household {command.household_id} has no reception place")
    positions = {event_id: index for index, (event_id, _) in enumerate(history)}
    index = positions.get(command.event_id)
    if index is None or not isinstance(history[index][1], ResidentTransferred):
        raise NotFound(f"household {command.household_id} has no move {command.event_id}")
    if command.occurred_at > command.now:
        raise RuleViolation("a move cannot be corrected to a time in the future", code="correction-in-future")
    target = history[index][1]
    assert isinstance(target, ResidentTransferred)

    def same_move(event: Event) -> bool:
        return isinstance(event, ResidentTransferred) and (
            event.from_location_id,
            event.location_id,
            event.occurred_at,
        ) == (target.from_location_id, target.location_id, target.occurred_at)

    first, last = index, index
    while first > 0 and same_move(history[first - 1][1]):
        first -= 1
    while last + 1 < len(history) and same_move(history[last + 1][1]):
        last += 1
    corrected: dict[str, datetime] = {
        e.corrected_event_id: e.occurred_at for _, e in history if isinstance(e, ResidentTransferCorrected)
    }
    person = target.person_id
    moments = sorted(
        (corrected.get(event_id, event.occurred_at), position, event_id)
        for position, (event_id, event) in enumerate(history)
        if isinstance(event, ResidentPlaced | ResidentTransferred) and event.person_id == person
    )
    at = next(i for i, (_, _, event_id) in enumerate(moments) if event_id == command.event_id)
    earlier = moments[at - 1][0] if at > 0 else None
    later = [moments[at + 1][0]] if at + 1 < len(moments) else []
    later += [e.occurred_at for _, e in history if isinstance(e, ResidentLeftReception)]
    if (earlier is not None and command.occurred_at <= earlier) or any(
        command.occurred_at >= moment for moment in later
    ):
        raise RuleViolation(
            "a corrected move keeps its place among the person's moves: it must lie after the previous "
            "move and before the next move and the end of reception; register a missing move instead",
            code="correction-reorders-moves",
        )
    return [
        ResidentTransferCorrected(
            person_id=event.person_id,
            household_id=command.household_id,
            corrected_event_id=event_id,
            occurred_at=command.occurred_at,
        )
        for event_id, event in history[first : last + 1]
        if isinstance(event, ResidentTransferred)
    ]


def evolve(state: Reception | None, event: Event) -> Reception | None:
    """Per-member facts fold into one household state; the first member's fact of a move counts it."""
    match event:
        case ResidentPlaced():
            member = Member(person_id=event.person_id, role=event.role)
            if state is None:
                return Reception(
                    household_id=event.household_id,
                    members=(member,),
                    location_id=event.location_id,
                    location_type=event.location_type,
                    since=event.occurred_at,
                )
            return replace(state, members=(*state.members, member))
        case ResidentTransferred() if state is not None:
            if state.location_id == event.location_id:
                return state  # a further member of a move already counted
            assessments = dict(state.assessments)
            if event.assessment_id in assessments:
                assessments[event.assessment_id] = replace(assessments[event.assessment_id], used=True)
            forced_with_children = state.forced_moves_with_children + int(
                event.forced and event.involves_children
            )
            keep_return = event.location_type.special_form and state.location_type.main_form
            return replace(
                state,
                location_id=event.location_id,
                location_type=event.location_type,
                return_location_id=state.location_id
                if keep_return
                else (state.return_location_id if event.location_type.special_form else None),
                moves=state.moves + 1,
                forced_moves=state.forced_moves + int(event.forced),
                forced_moves_with_children=forced_with_children,
                process_moved=state.process_moved or event.reason is MoveReason.PROCESS,
                assessments=assessments,
                proposals={},
                since=event.occurred_at,
            )
        case ChildInterestAssessed() if state is not None:
            assessment = Assessment(assessment_id=event.assessment_id, justification=event.justification)
            return replace(state, assessments={**state.assessments, event.assessment_id: assessment})
        case TransferProposed() if state is not None:
            proposal = Proposal(
                proposal_id=event.proposal_id,
                to_location_id=event.to_location_id,
                proposed_for=event.proposed_for,
                reason=event.reason,
                forced=event.forced,
            )
            return replace(state, proposals={**state.proposals, event.proposal_id: proposal})
        case HouseholdLinkedToMunicipality() if state is not None:
            return replace(state, linked_municipality=event.municipality)
        case ResidentLeftReception() if state is not None:
            return replace(state, ended=True)
    return state


def fold_stream(history: Sequence[tuple[str, Event]]) -> Reception | None:
    """The state of a reception stream given as (event id, event): the fold of `evolve`, with `since`
    following a correction of the move that began the current stay (which `evolve` alone cannot tell:
    a correction names the corrected fact by its id, and events do not carry their ids)."""
    state: Reception | None = None
    began_current_stay: set[str] = set()  # the member facts of the placement or move that began it
    for event_id, event in history:
        before = state
        state = evolve(state, event)
        if isinstance(event, ResidentPlaced | ResidentTransferred):
            if before is None or before.location_id != event.location_id:
                began_current_stay = set()
            began_current_stay.add(event_id)
        elif isinstance(event, ResidentTransferCorrected) and event.corrected_event_id in began_current_stay:
            assert state is not None
            state = replace(state, since=event.occurred_at)
    return state


def stream_id(household_id: str) -> str:
    return f"reception-{household_id}"
