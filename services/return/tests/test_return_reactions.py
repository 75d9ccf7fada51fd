"""Reactions to other services' facts, applied in a unit of work on an SQLite file the way the consumer
applies them: the reaction writes, the consumer commits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from repatriation.adapters import tables
from repatriation.domain import return_case
from repatriation.domain.deadlines import DEPARTURE_PERIOD_EXPIRED
from repatriation.entrypoints import reactions
from repatriation.entrypoints.app import DEFINITION
from repatriation.service_layer import handlers
from shared import scheduler
from shared.consumer import ConsumedEvent, Handler
from shared.contracts import Event, chain_registry
from shared.contracts.intake import (
    ArrivalGroup,
    CorrectedField,
    CorrectionReason,
    HouseholdMember,
    HouseholdRegistered,
    MemberRole,
    RegistrationChannel,
    RegistrationCorrected,
    Relation,
)
from shared.contracts.procedure import DecisionBecameFinal, DecisionIssued, DecisionOutcome
from shared.contracts.repatriation import DeparturePeriodExpired, ReturnCaseOpened
from shared.envelope import Envelope
from shared.eventstore import UnitOfWorkFactory
from shared.eventstore.database import create_engine, session_factory
from shared.eventstore.migrations import upgrade_to_head_async
from shared.ids import new_id

FINAL = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
DEADLINE = FINAL + timedelta(days=28)


@pytest.fixture
async def units(tmp_path: Path) -> AsyncIterator[UnitOfWorkFactory]:
    url = f"sqlite+aiosqlite:///{tmp_path}/r.db"
    await upgrade_to_head_async(url, DEFINITION.migrations)
    engine = create_engine(url)
    yield UnitOfWorkFactory(
        session_factory(engine), chain_registry(), source="urn:test", topic="return.events"
    )
    await engine.dispose()


def consumed(event: Event, topic: str = "procedure.events") -> ConsumedEvent:
    envelope = Envelope(
        id=new_id(),
        source="urn:test",
        type=event.type_name,
        subject=event.subject,
        time=datetime.now(UTC),
        occurredat=event.occurred_at,
        schemaversion=event.schema_version,
        actor="IND:test",
        correlationid=new_id(),
        causationid=None,
        streamid=f"stream-{event.subject}",
        streamversion=1,
        legalbasis=event.legal_basis,
        data=event.data(),
    )
    return ConsumedEvent(envelope, event, topic, 0, 0)


def final(
    household_id: str,
    outcome: DecisionOutcome = DecisionOutcome.REJECTED_UNFOUNDED,
    deadline: datetime | None = DEADLINE,
    at: datetime = FINAL,
) -> DecisionBecameFinal:
    return DecisionBecameFinal(
        application_id=new_id(),
        household_id=household_id,
        person_ids=(new_id(), new_id()),
        outcome=outcome,
        departure_deadline=deadline,
        occurred_at=at,
    )


def registered(household_id: str, *roles: MemberRole) -> HouseholdRegistered:
    members = tuple(
        HouseholdMember(
            person_id=new_id(),
            role=role,
            relation=Relation.HEAD
            if index == 0
            else Relation.CHILD
            if role is MemberRole.CHILD
            else Relation.PARTNER,
            birth_year=1990 if role is MemberRole.ADULT else 2016,
            nationality="GEO",
        )
        for index, role in enumerate(roles)
    )
    return HouseholdRegistered(
        household_id=household_id,
        channel=RegistrationChannel.TER_APEL,
        arrival_group=ArrivalGroup.FIRST_APPLICATION,
        members=members,
        occurred_at=FINAL - timedelta(days=200),
    )


async def apply(units: UnitOfWorkFactory, handler: Handler, message: ConsumedEvent) -> None:
    async with units() as uow:
        await handler(uow, message)
        await uow.commit()  # what the consumer does, together with its processed-event row


async def stream_of(units: UnitOfWorkFactory, household_id: str) -> list[Event]:
    async with units() as uow:
        recorded = await uow.events.read_stream(return_case.stream_id(return_case.case_id_for(household_id)))
    return [r.event for r in recorded]


async def pending_expiry(units: UnitOfWorkFactory, household_id: str) -> scheduler.Deadline | None:
    async with units() as uow:
        case_id = return_case.case_id_for(household_id)
        return await scheduler.pending(uow.session, DEPARTURE_PERIOD_EXPIRED, case_id)


def test_the_consumer_reads_intake_and_procedure_and_no_longer_reacts_to_a_mere_rejection() -> None:
    (spec,) = reactions.consumers(None)  # type: ignore[arg-type]
    assert list(spec.topics) == ["intake.events", "procedure.events"]
    assert DecisionBecameFinal in spec.handlers and HouseholdRegistered in spec.handlers
    assert DecisionIssued not in spec.handlers


async def test_a_final_rejection_opens_the_case_and_schedules_its_departure_deadline(
    units: UnitOfWorkFactory,
) -> None:
    household_id = new_id()
    decision = final(household_id, DecisionOutcome.DUBLIN_NOT_CONSIDERED)
    message = consumed(decision)
    await apply(units, reactions.on_decision_became_final, message)
    (opened,) = await stream_of(units, household_id)
    assert isinstance(opened, ReturnCaseOpened)
    assert opened.person_ids == decision.person_ids and opened.departure_deadline == DEADLINE
    deadline = await pending_expiry(units, household_id)
    assert deadline is not None and deadline.due_at == DEADLINE
    assert deadline.payload == {"correlationId": message.envelope.correlationid}
    async with units() as uow:
        state, version = await handlers.get(uow, opened.case_id)
    assert state.final_outcome is DecisionOutcome.DUBLIN_NOT_CONSIDERED and version == 1


async def test_a_final_grant_opens_nothing(units: UnitOfWorkFactory) -> None:
    household_id = new_id()
    await apply(
        units, reactions.on_decision_became_final, consumed(final(household_id, DecisionOutcome.GRANTED))
    )
    assert await stream_of(units, household_id) == []
    assert await pending_expiry(units, household_id) is None


async def test_a_second_final_rejection_neither_duplicates_the_case_nor_fails(
    units: UnitOfWorkFactory,
) -> None:
    household_id = new_id()
    await apply(units, reactions.on_decision_became_final, consumed(final(household_id)))
    later = final(household_id, deadline=DEADLINE + timedelta(days=120), at=FINAL + timedelta(days=120))
    await apply(units, reactions.on_decision_became_final, consumed(later))
    assert [type(e) for e in await stream_of(units, household_id)] == [ReturnCaseOpened]
    deadline = await pending_expiry(units, household_id)
    assert deadline is not None and deadline.due_at == DEADLINE  # the case goes on as it was


async def test_a_0_day_departure_period_expires_as_the_case_opens(units: UnitOfWorkFactory) -> None:
    household_id = new_id()
    await apply(units, reactions.on_decision_became_final, consumed(final(household_id, deadline=None)))
    opened, expired = await stream_of(units, household_id)
    assert isinstance(opened, ReturnCaseOpened) and isinstance(expired, DeparturePeriodExpired)
    assert expired.occurred_at == FINAL
    assert await pending_expiry(units, household_id) is None


async def test_nothing_is_kept_unless_the_consumer_commits(units: UnitOfWorkFactory) -> None:
    household_id = new_id()
    async with units() as uow:
        await reactions.on_decision_became_final(uow, consumed(final(household_id)))
        await reactions.on_household_registered(
            uow, consumed(registered(household_id, MemberRole.ADULT), "intake.events")
        )
    assert await stream_of(units, household_id) == []
    assert await pending_expiry(units, household_id) is None
    async with units() as uow:
        assert await tables.has_minor_children(uow.session, household_id) is None


async def test_a_registered_household_s_members_are_kept_for_the_family_location_rule(
    units: UnitOfWorkFactory,
) -> None:
    family, single = new_id(), new_id()
    with_child = registered(family, MemberRole.ADULT, MemberRole.CHILD)
    await apply(units, reactions.on_household_registered, consumed(with_child, "intake.events"))
    await apply(
        units, reactions.on_household_registered, consumed(with_child, "intake.events")
    )  # again: no crash
    await apply(
        units,
        reactions.on_household_registered,
        consumed(registered(single, MemberRole.ADULT), "intake.events"),
    )
    async with units() as uow:
        rows = (
            await uow.session.execute(
                sa.select(tables.household_members.c.person_id, tables.household_members.c.role).where(
                    tables.household_members.c.household_id == family
                )
            )
        ).all()
        assert sorted(rows) == sorted((m.person_id, m.role.value) for m in with_child.members)
        assert await tables.has_minor_children(uow.session, family) is True
        assert await tables.has_minor_children(uow.session, single) is False
        assert await tables.has_minor_children(uow.session, new_id()) is None


async def test_a_role_correction_changes_whether_the_household_has_minor_children(
    units: UnitOfWorkFactory,
) -> None:
    household_id = new_id()
    household = registered(household_id, MemberRole.ADULT, MemberRole.CHILD)
    await apply(units, reactions.on_household_registered, consumed(household, "intake.events"))
    correction = RegistrationCorrected(
        person_id=household.members[1].person_id,
        household_id=household_id,
        field=CorrectedField.ROLE,
        value="adult",
        reason=CorrectionReason.AGE_ASSESSMENT,
        occurred_at=FINAL,
    )
    await apply(units, reactions.on_registration_corrected, consumed(correction, "intake.events"))
    async with units() as uow:
        assert await tables.has_minor_children(uow.session, household_id) is False
