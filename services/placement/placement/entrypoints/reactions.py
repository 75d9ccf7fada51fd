"""What placement does when another service publishes a fact. Each reaction becomes a command of
placement's own, run in the consumer's transaction (so applying it and recording it are one).

Of all procedure facts only the reception stream moves anyone (the one process move); hearings,
decisions and appeals never do. Return facts end reception or move a household to a return location.
"""

from __future__ import annotations

import logging
from datetime import datetime

from prometheus_client import Counter

from placement.adapters import locations as location_table
from placement.domain.reception import Member, PlaceHousehold, Reception
from placement.domain.recommendation import Purpose
from placement.service_layer import reception as reception_service
from shared.consumer import ConsumedEvent, Handler, RetryLater
from shared.contracts.base import Event
from shared.contracts.intake import HouseholdRegistered
from shared.contracts.placement import Justification, LocationType, MoveReason, ReceptionEndReason
from shared.contracts.procedure import ReceptionStream, ReceptionStreamDetermined, ResidencePermitGranted
from shared.contracts.repatriation import (
    DeparturePeriodExpired,
    DepartureRealised,
    DepartureType,
    DublinTransferCompleted,
    LocalChainDecisionTaken,
    LocalChainOption,
    VblPeriodEnded,
)
from shared.domain import RuleViolation
from shared.eventstore import CommandContext, UnitOfWork
from shared.runtime import ConsumerSpec, Runtime

log = logging.getLogger(__name__)
SYSTEM_ACTOR = "COA:placement-service"

# A move the chain asked for that placement cannot make on its own: the household stays where it is and
# a COA officer decides (with a justified assessment, or once a location has room).
LEFT_TO_AN_OFFICER = ("second-forced-move-of-child", "no-location-fits")
MOVES_LEFT_TO_AN_OFFICER = Counter(
    "asielketen_placement_moves_left_to_officer",
    "Moves the chain asked for that placement left to a COA officer, by the rule that stopped them",
    ["purpose", "code"],
)

PROCESS_PURPOSE = {
    ReceptionStream.ACCELERATED: Purpose.PROCESS_ACCELERATED,
    ReceptionStream.NOT_ACCELERATED: Purpose.PROCESS_NOT_ACCELERATED,
}


def caused_by(consumed: ConsumedEvent) -> CommandContext:
    return CommandContext(
        actor=SYSTEM_ACTOR,
        correlation_id=consumed.envelope.correlationid,
        causation_id=consumed.envelope.id,
        traceparent=consumed.envelope.traceparent,
    )


async def _placed(uow: UnitOfWork, household_id: str) -> Reception:
    state = (await reception_service.load_reception(uow, household_id)).state
    if state is None:
        raise RetryLater(f"household {household_id} is not placed yet")
    return state


async def on_household_registered(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
    """Everyone starts at an azc with registration facilities (a waiting location when those are full)."""
    event = consumed.event
    assert isinstance(event, HouseholdRegistered)
    command = PlaceHousehold(
        household_id=event.household_id,
        members=tuple(Member(person_id=m.person_id, role=m.role) for m in event.members),
        reason=MoveReason.REGISTRATION,
        occurred_at=event.occurred_at,
    )
    await reception_service.place_household(uow, command, list(event.family_elsewhere), caused_by(consumed))


async def on_reception_stream_determined(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
    """The one process move: to the azc for the accelerated procedure, or to a regular azc."""
    event = consumed.event
    assert isinstance(event, ReceptionStreamDetermined)
    state = await _placed(uow, event.household_id)
    if state.ended:
        return  # the household left reception before placement learnt its stream: nothing to move
    if state.process_moved:
        # An officer made the process move by hand before this fact reached placement: it is made once.
        log.info("process move of household %s was made already", event.household_id)
        return
    await _move_for_the_chain(
        uow, consumed, state, PROCESS_PURPOSE[event.stream], MoveReason.PROCESS, None, event.occurred_at
    )


def not_before_current_stay(state: Reception, occurred_at: datetime) -> datetime:
    """When a reaction takes effect: when its fact happened, or — when the household moved after that
    but before placement learnt of the fact (facts of two topics arrive in any order) — when its current
    stay began, so that each person's stays keep their order."""
    return occurred_at if state.since is None or occurred_at >= state.since else state.since


async def _move_for_the_chain(
    uow: UnitOfWork,
    consumed: ConsumedEvent,
    state: Reception,
    purpose: Purpose,
    reason: MoveReason,
    justification: Justification | None,
    occurred_at: datetime,
) -> None:
    try:
        await reception_service.move_on_behalf_of_the_chain(
            uow,
            state.household_id,
            purpose,
            reason,
            justification,
            not_before_current_stay(state, occurred_at),
            caused_by(consumed),
        )
    except RuleViolation as refused:
        if refused.code not in LEFT_TO_AN_OFFICER:
            raise
        # The children were already moved by force (a closure before their stream was known), or no
        # location has room: the move is left to a COA officer, who records a justified assessment or
        # waits for room, and moves them by hand. The household stays where it is meanwhile.
        MOVES_LEFT_TO_AN_OFFICER.labels(purpose=purpose.value, code=refused.code).inc()
        log.warning(
            "%s move of household %s left to an officer: %s",
            purpose.value,
            state.household_id,
            refused.detail,
        )


async def on_residence_permit_granted(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
    """After a permit the household is linked to a municipality that will house it."""
    event = consumed.event
    assert isinstance(event, ResidencePermitGranted)
    state = await _placed(uow, event.household_id)
    if state.ended or state.linked_municipality is not None:
        return
    await reception_service.link_to_municipality(
        uow, event.household_id, None, event.occurred_at, caused_by(consumed)
    )


async def _end(
    uow: UnitOfWork, consumed: ConsumedEvent, household_id: str, reason: ReceptionEndReason
) -> None:
    state = await _placed(uow, household_id)
    if state.ended:
        return  # already ended (e.g. a departure after the VBL stay ended): nothing left to end
    await reception_service.end_reception(
        uow,
        household_id,
        reason,
        not_before_current_stay(state, consumed.event.occurred_at),
        caused_by(consumed),
    )


async def on_local_chain_decision(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
    event = consumed.event
    assert isinstance(event, LocalChainDecisionTaken)
    state = await _placed(uow, event.household_id)
    await location_table.remember_chain_decision(
        uow.session, event.household_id, event.option.value, event.until
    )
    if state.ended:
        return
    if event.option in (LocalChainOption.VBL, LocalChainOption.FAMILY_LOCATION):
        purpose = Purpose.VBL if event.option is LocalChainOption.VBL else Purpose.FAMILY_LOCATION
        await _move_for_the_chain(
            uow, consumed, state, purpose, MoveReason.RETURN, Justification.RETURN_DECISION, event.occurred_at
        )
    elif event.option is LocalChainOption.END_RECEPTION:
        await _end(uow, consumed, event.household_id, ReceptionEndReason.LOCAL_CHAIN_DECISION)
    elif event.option is LocalChainOption.DETENTION:
        await _end(uow, consumed, event.household_id, ReceptionEndReason.DETENTION)


async def on_departure_period_expired(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
    """The right to reception ends with the departure period — except for children (who keep a right to
    shelter: a family location), households the local chain consultation moved to a VBL or family location,
    and an azc stay it extended."""
    event = consumed.event
    assert isinstance(event, DeparturePeriodExpired)
    state = await _placed(uow, event.household_id)
    decision = await location_table.chain_decision(uow.session, event.household_id)
    extended = (
        decision is not None
        and decision["option"] == LocalChainOption.EXTEND_AZC_STAY.value
        and (decision["until"] is None or decision["until"] > event.occurred_at)
    )
    if (
        state.has_children
        or extended
        or state.location_type in (LocationType.VBL, LocationType.FAMILY_LOCATION)
    ):
        return
    await _end(uow, consumed, event.household_id, ReceptionEndReason.DEPARTURE_PERIOD_EXPIRED)


async def on_vbl_period_ended(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
    event = consumed.event
    assert isinstance(event, VblPeriodEnded)
    state = await _placed(uow, event.household_id)
    if state.location_type is LocationType.VBL:
        await _end(uow, consumed, event.household_id, ReceptionEndReason.LOCAL_CHAIN_DECISION)


async def on_departure_realised(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
    event = consumed.event
    assert isinstance(event, DepartureRealised)
    reason = (
        ReceptionEndReason.DEPARTED_UNKNOWN_DESTINATION
        if event.departure_type is DepartureType.WITHOUT_SUPERVISION
        else ReceptionEndReason.DEPARTED
    )
    await _end(uow, consumed, event.household_id, reason)


async def on_dublin_transfer_completed(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
    event = consumed.event
    assert isinstance(event, DublinTransferCompleted)
    await _end(uow, consumed, event.household_id, ReceptionEndReason.DUBLIN_TRANSFER)


HANDLERS: dict[type[Event], Handler] = {
    HouseholdRegistered: on_household_registered,
    ReceptionStreamDetermined: on_reception_stream_determined,
    ResidencePermitGranted: on_residence_permit_granted,
    LocalChainDecisionTaken: on_local_chain_decision,
    DeparturePeriodExpired: on_departure_period_expired,
    VblPeriodEnded: on_vbl_period_ended,
    DepartureRealised: on_departure_realised,
    DublinTransferCompleted: on_dublin_transfer_completed,
}


def consumers(_runtime: Runtime) -> list[ConsumerSpec]:
    return [
        ConsumerSpec(
            name="placement", topics=["intake.events", "procedure.events", "return.events"], handlers=HANDLERS
        )
    ]
