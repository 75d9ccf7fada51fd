"""What the return service does when another service publishes a fact."""

from __future__ import annotations

from repatriation.domain.return_case import OpenReturnCase
from repatriation.service_layer import handlers
from shared.consumer import ConsumedEvent
from shared.contracts.procedure import DecisionIssued, DecisionOutcome
from shared.eventstore import CommandContext, UnitOfWork
from shared.runtime import ConsumerSpec, Runtime

SYSTEM_ACTOR = "DTV:return-service"


async def on_decision_issued(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
    """A rejection hands the case to DT&V (the Reception-model issue waits for it to become final)."""
    event = consumed.event
    assert isinstance(event, DecisionIssued)
    if event.outcome is not DecisionOutcome.REJECTED:
        return
    context = CommandContext(
        actor=SYSTEM_ACTOR,
        correlation_id=consumed.envelope.correlationid,
        causation_id=consumed.envelope.id,
        traceparent=consumed.envelope.traceparent,
    )
    await handlers.open_case(
        uow,
        OpenReturnCase(
            household_id=event.household_id,
            application_id=event.application_id,
            person_ids=event.person_ids,
            occurred_at=event.occurred_at,
        ),
        context,
    )


def consumers(_runtime: Runtime) -> list[ConsumerSpec]:
    return [
        ConsumerSpec(
            name="return", topics=["procedure.events"], handlers={DecisionIssued: on_decision_issued}
        )
    ]
