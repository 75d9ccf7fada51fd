"""The asylum application of a household: its state, folded from the application's events.

From lodging to a final decision: track, reception stream, rest and preparation period, hearings,
intended decision and view, referral to the extended procedure, Dublin claim, decision, appeal, the
decision becoming final, and the permit. The rules that produce these events live in
`preparation.py` (everything before the decision) and `decision.py` (the decision and after).

The reception stream is the only procedure fact that moves anyone (placement makes the one process
move on it). Hearings, an intended decision, a referral or an appeal never move anyone: the person
travels to an IND office for a hearing, or the IND comes to the azc (DESIGN.md, "decoupled").
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from shared.contracts.base import Event
from shared.contracts.procedure import (
    AcceleratedGround,
    AppealLodged,
    AppealOutcome,
    AppealRuled,
    ApplicationLodged,
    DecisionBecameFinal,
    DecisionDeadlineExtended,
    DecisionIssued,
    DecisionOutcome,
    DublinClaimAccepted,
    DublinClaimSent,
    HearingHeld,
    HearingKind,
    HearingSite,
    IntendedDecisionIssued,
    ReceptionStream,
    ReceptionStreamDetermined,
    ReferredToExtendedProcedure,
    ResidencePermitGranted,
    RestAndPreparationPeriodStarted,
    Track,
    TrackAssigned,
    ViewSubmitted,
)

_APPLICATION_NAMESPACE = uuid.UUID("5f1d3c9e-6a0b-4f54-9a38-0c1b8f0e7a21")


def application_id_for(household_id: str) -> str:
    """One application per household; its id follows from the household id, so lodging it twice
    lands on the same stream and is refused instead of creating a duplicate."""
    return str(uuid.uuid5(_APPLICATION_NAMESPACE, household_id))


def stream_id(application_id: str) -> str:
    return f"application-{application_id}"


@dataclass(frozen=True, slots=True)
class RestPeriod:
    started_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class Hearing:
    kind: HearingKind
    site: HearingSite
    ind_office: str | None
    held_at: datetime


@dataclass(frozen=True, slots=True)
class IntendedDecision:
    outcome: DecisionOutcome
    issued_at: datetime


@dataclass(frozen=True, slots=True)
class DublinClaim:
    member_state: str
    sent_at: datetime
    accepted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: DecisionOutcome
    decided_at: datetime
    departure_period_days: int
    appeal_period_days: int
    appeal_deadline: datetime


@dataclass(frozen=True, slots=True)
class Appeal:
    suspensive: bool
    lodged_at: datetime
    outcome: AppealOutcome | None = None
    ruled_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Finality:
    """The decision can no longer be appealed; for a negative one the departure period runs to
    `departure_deadline`."""

    became_final_at: datetime
    departure_deadline: datetime | None


@dataclass(frozen=True, slots=True)
class Permit:
    valid_from: datetime
    valid_until: datetime


@dataclass(frozen=True, slots=True)
class AnnulledDecision:
    """A decision the court annulled (appeal well-founded), kept with the round that prepared it so the
    history stays readable after the IND decides again."""

    decision: Decision
    appeal: Appeal
    intended_decision: IntendedDecision | None
    view_submitted_at: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Application:
    application_id: str
    household_id: str
    person_ids: tuple[str, ...]
    lodged_at: datetime
    decision_deadline: datetime
    track: Track | None = None
    stream: ReceptionStream | None = None
    ground: AcceleratedGround | None = None
    rest_period: RestPeriod | None = None
    hearings: tuple[Hearing, ...] = ()
    intended_decision: IntendedDecision | None = None
    view_submitted_at: datetime | None = None
    referred_to_extended_at: datetime | None = None
    dublin_claim: DublinClaim | None = None
    decision: Decision | None = None
    appeal: Appeal | None = None
    final: Finality | None = None
    permit: Permit | None = None
    annulled: tuple[AnnulledDecision, ...] = ()

    def hearing(self, kind: HearingKind) -> Hearing | None:
        return next((hearing for hearing in self.hearings if hearing.kind is kind), None)

    @property
    def in_extended_procedure(self) -> bool:
        return self.referred_to_extended_at is not None


def evolve(state: Application | None, event: Event) -> Application | None:
    if isinstance(event, ApplicationLodged):
        return Application(
            application_id=event.application_id,
            household_id=event.household_id,
            person_ids=event.person_ids,
            lodged_at=event.occurred_at,
            decision_deadline=event.decision_deadline,
        )
    if state is None:  # a fact about an application this stream never lodged: nothing to apply it to
        return None
    return _evolve_lodged(state, event)


def _evolve_lodged(state: Application, event: Event) -> Application:
    match event:
        case DecisionDeadlineExtended():
            return replace(state, decision_deadline=event.new_deadline)
        case TrackAssigned():
            return replace(state, track=event.track)
        case ReceptionStreamDetermined():
            return replace(state, stream=event.stream, ground=event.ground)
        case RestAndPreparationPeriodStarted():
            return replace(state, rest_period=RestPeriod(event.occurred_at, event.ends_at))
        case HearingHeld():
            hearing = Hearing(event.kind, event.site, event.ind_office, event.occurred_at)
            return replace(state, hearings=(*state.hearings, hearing))
        case IntendedDecisionIssued():
            return replace(
                state, intended_decision=IntendedDecision(event.intended_outcome, event.occurred_at)
            )
        case ViewSubmitted():
            return replace(state, view_submitted_at=event.occurred_at)
        case ReferredToExtendedProcedure():
            return replace(state, referred_to_extended_at=event.occurred_at)
        case DublinClaimSent():
            return replace(state, dublin_claim=DublinClaim(event.member_state, event.occurred_at))
        case DublinClaimAccepted() if state.dublin_claim is not None:
            return replace(state, dublin_claim=replace(state.dublin_claim, accepted_at=event.occurred_at))
        case DecisionIssued():
            decision = Decision(
                outcome=event.outcome,
                decided_at=event.occurred_at,
                departure_period_days=event.departure_period_days,
                appeal_period_days=event.appeal_period_days,
                appeal_deadline=event.appeal_deadline,
            )
            return replace(state, decision=decision)
        case ResidencePermitGranted():
            return replace(state, permit=Permit(event.occurred_at, event.valid_until))
        case AppealLodged():
            return replace(state, appeal=Appeal(suspensive=event.suspensive, lodged_at=event.occurred_at))
        case AppealRuled() if state.appeal is not None:
            return _ruled(state, replace(state.appeal, outcome=event.outcome, ruled_at=event.occurred_at))
        case DecisionBecameFinal():
            return replace(state, final=Finality(event.occurred_at, event.departure_deadline))
    return state


def _ruled(state: Application, appeal: Appeal) -> Application:
    if appeal.outcome is not AppealOutcome.WELL_FOUNDED or state.decision is None:
        return replace(state, appeal=appeal)
    # Annulled: the IND must decide again. The intended decision and the view belonged to the annulled
    # round, so a new negative decision needs a new intended decision (and a new chance for a view).
    annulled = AnnulledDecision(state.decision, appeal, state.intended_decision, state.view_submitted_at)
    return replace(
        state,
        decision=None,
        appeal=None,
        intended_decision=None,
        view_submitted_at=None,
        annulled=(*state.annulled, annulled),
    )
