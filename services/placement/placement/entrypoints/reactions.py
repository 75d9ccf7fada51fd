"""What placement does when another service publishes a fact. Each reaction becomes a command of
placement's own, run in the consumer's transaction (so applying it and recording it are one)."""

from __future__ import annotations

from placement.domain.reception import Member, PlaceHousehold, TransferHousehold
from placement.service_layer import handlers
from shared.consumer import ConsumedEvent, RetryLater
from shared.contracts.intake import HouseholdRegistered
from shared.contracts.placement import LocationType, MoveReason
from shared.contracts.procedure import (
    DecisionIssued,
    DecisionOutcome,
    ReceptionStream,
    ReceptionStreamDetermined,
)
from shared.eventstore import CommandContext, UnitOfWork
from shared.runtime import ConsumerSpec, Runtime

SYSTEM_ACTOR = "COA:placement-service"

STREAM_LOCATION_TYPE = {
    ReceptionStream.ACCELERATED: LocationType.AZC_VERSNELD,
    ReceptionStream.NOT_ACCELERATED: LocationType.AZC_REGULIER,
}


def caused_by(consumed: ConsumedEvent) -> CommandContext:
    return CommandContext(
        actor=SYSTEM_ACTOR,
        correlation_id=consumed.envelope.correlationid,
        causation_id=consumed.envelope.id,
        traceparent=consumed.envelope.traceparent,
    )


async def on_household_registered(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
    """Everyone starts at an azc with registration facilities."""
    event = consumed.event
    assert isinstance(event, HouseholdRegistered)
    command = PlaceHousehold(
        household_id=event.household_id,
        members=tuple(Member(person_id=m.person_id, role=m.role) for m in event.members),
        reason=MoveReason.REGISTRATION,
        occurred_at=event.occurred_at,
    )
    await handlers.place_household(uow, command, LocationType.AZC_AANMELD, caused_by(consumed))


async def on_reception_stream_determined(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
    """The one process move: to the azc for the accelerated procedure, or to a regular azc."""
    event = consumed.event
    assert isinstance(event, ReceptionStreamDetermined)
    if (await handlers.load_reception(uow, event.household_id)).state is None:
        raise RetryLater(f"household {event.household_id} is not placed yet")
    command = TransferHousehold(
        household_id=event.household_id, reason=MoveReason.PROCESS, forced=True, occurred_at=event.occurred_at
    )
    await handlers.transfer_household(uow, command, STREAM_LOCATION_TYPE[event.stream], caused_by(consumed))


async def on_decision_issued(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
    """After a grant the household is linked to a municipality that will house it."""
    event = consumed.event
    assert isinstance(event, DecisionIssued)
    if event.outcome is not DecisionOutcome.GRANTED:
        return
    if (await handlers.load_reception(uow, event.household_id)).state is None:
        raise RetryLater(f"household {event.household_id} is not placed yet")
    await handlers.link_to_municipality_of_current_location(
        uow, event.household_id, event.occurred_at, caused_by(consumed)
    )


def consumers(_runtime: Runtime) -> list[ConsumerSpec]:
    return [
        ConsumerSpec(
            name="placement",
            topics=["intake.events", "procedure.events"],
            handlers={
                HouseholdRegistered: on_household_registered,
                ReceptionStreamDetermined: on_reception_stream_determined,
                DecisionIssued: on_decision_issued,
            },
        )
    ]
