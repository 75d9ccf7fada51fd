"""What the return service does when another service publishes a fact. Each reaction writes in the
consumer's unit of work and leaves the commit to the consumer (with its processed-event bookkeeping)."""

from __future__ import annotations

from repatriation.domain.return_case import OpenReturnCase
from repatriation.service_layer import handlers
from repatriation.service_layer.handlers import SYSTEM_ACTOR
from shared.consumer import ConsumedEvent
from shared.contracts.intake import CorrectedField, HouseholdRegistered, MemberRole, RegistrationCorrected
from shared.contracts.procedure import DecisionBecameFinal
from shared.eventstore import CommandContext, UnitOfWork
from shared.runtime import ConsumerSpec, Runtime


def _context(consumed: ConsumedEvent) -> CommandContext:
    return CommandContext(
        actor=SYSTEM_ACTOR,
        correlation_id=consumed.envelope.correlationid,
        causation_id=consumed.envelope.id,
        traceparent=consumed.envelope.traceparent,
    )


async def on_decision_became_final(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
    """A rejection that can no longer be appealed hands the household to DT&V; the departure period
    runs from here. A rejection alone is not enough: an appeal may still annul it."""
    event = consumed.event
    assert isinstance(event, DecisionBecameFinal)
    if not event.outcome.is_negative:
        return
    command = OpenReturnCase(
        household_id=event.household_id,
        application_id=event.application_id,
        person_ids=event.person_ids,
        outcome=event.outcome,
        departure_deadline=event.departure_deadline,
        occurred_at=event.occurred_at,
    )
    await handlers.open_case(uow, command, _context(consumed))


async def on_household_registered(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
    """Keep who belongs to the household, so the LKO rules know whether it has minor children."""
    event = consumed.event
    assert isinstance(event, HouseholdRegistered)
    await handlers.record_household(uow, event.household_id, ((m.person_id, m.role) for m in event.members))


async def on_registration_corrected(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
    """An age assessment can make a registered child an adult (or the reverse): follow the role."""
    event = consumed.event
    assert isinstance(event, RegistrationCorrected)
    if event.field is not CorrectedField.ROLE or event.value not in {role.value for role in MemberRole}:
        return
    await handlers.correct_member_role(uow, event.household_id, event.person_id, MemberRole(event.value))


def consumers(_runtime: Runtime) -> list[ConsumerSpec]:
    return [
        ConsumerSpec(
            name="return",
            topics=["intake.events", "procedure.events"],
            handlers={
                HouseholdRegistered: on_household_registered,
                RegistrationCorrected: on_registration_corrected,
                DecisionBecameFinal: on_decision_became_final,
            },
        )
    ]
