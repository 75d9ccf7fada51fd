"""What procedure does when another service publishes a fact."""

from __future__ import annotations

from procedure.domain.commands import LodgeApplication
from procedure.service_layer import handlers
from shared.consumer import ConsumedEvent
from shared.contracts.intake import HouseholdRegistered
from shared.eventstore import CommandContext, UnitOfWork
from shared.runtime import ConsumerSpec, Runtime

SYSTEM_ACTOR = handlers.SYSTEM_ACTOR


async def on_household_registered(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
    """The application is signed at registration: it is lodged, and the decision clock starts."""
    event = consumed.event
    assert isinstance(event, HouseholdRegistered)
    context = CommandContext(
        actor=SYSTEM_ACTOR,
        correlation_id=consumed.envelope.correlationid,
        causation_id=consumed.envelope.id,
        traceparent=consumed.envelope.traceparent,
    )
    command = LodgeApplication(
        household_id=event.household_id,
        person_ids=tuple(m.person_id for m in event.members),
        occurred_at=event.occurred_at,
    )
    await handlers.lodge(uow, command, context)


def consumers(_runtime: Runtime) -> list[ConsumerSpec]:
    return [
        ConsumerSpec(
            name="procedure",
            topics=["intake.events"],
            handlers={HouseholdRegistered: on_household_registered},
        )
    ]
