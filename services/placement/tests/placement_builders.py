"""Builders for placement's tests: locations and households in a few words."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from placement.domain import reception
from placement.domain.location import Location
from placement.domain.reception import (
    AssessChildInterest,
    Member,
    PlaceHousehold,
    Reception,
    TransferHousehold,
)
from placement.entrypoints import reactions
from shared.consumer import ConsumedEvent
from shared.contracts.base import Event
from shared.contracts.intake import (
    ArrivalGroup,
    HouseholdMember,
    HouseholdRegistered,
    MemberRole,
    RegistrationChannel,
    Relation,
)
from shared.contracts.placement import Justification, LocationType, MoveReason
from shared.contracts.procedure import AcceleratedGround, ReceptionStream, ReceptionStreamDetermined
from shared.domain import RuleViolation, fold
from shared.envelope import Envelope
from shared.ids import new_id
from shared.runtime import Runtime

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def a_location(
    location_type: LocationType = LocationType.AZC_REGULIER,
    *,
    capacity: int = 500,
    occupied: int = 0,
    province: str = "Drenthe",
    name: str | None = None,
    near_open_water: bool = False,
) -> Location:
    return Location(
        location_id=new_id(),
        name=name or f"{location_type.value} {new_id()[-4:]}",
        location_type=location_type,
        municipality="Assen",
        province=province,
        capacity=capacity,
        occupied=occupied,
        near_open_water=near_open_water,
    )


def members(adults: int = 1, children: int = 0) -> tuple[Member, ...]:
    return (
        *(Member(person_id=new_id(), role=MemberRole.ADULT) for _ in range(adults)),
        *(Member(person_id=new_id(), role=MemberRole.CHILD) for _ in range(children)),
    )


def placed(at: Location, *, adults: int = 1, children: int = 0) -> Reception:
    """Given a household placed at `at` on registration."""
    household_id = new_id()
    events = reception.place(
        None,
        at,
        PlaceHousehold(
            household_id=household_id,
            members=members(adults, children),
            reason=MoveReason.REGISTRATION,
            occurred_at=NOW,
        ),
    )
    state = fold(reception.evolve, events)
    assert state is not None
    return state


def assessed(state: Reception, justification: Justification | None = None) -> tuple[Reception, str]:
    """Given a recorded child-interest assessment; returns the new state and its id."""
    assessment_id = new_id()
    events = reception.assess_child_interest(
        state,
        state.household_id,
        AssessChildInterest(
            assessment_id=assessment_id,
            first_degree_family_nearby=False,
            medical_necessity=False,
            school_continuity=True,
            justification=justification,
            occurred_at=NOW,
        ),
    )
    new_state = fold(reception.evolve, events, state)
    assert new_state is not None
    return new_state, assessment_id


def moved(
    state: Reception,
    to: Location,
    reason: MoveReason,
    *,
    forced: bool = True,
    assessment_id: str | None = None,
) -> Reception:
    """When the household is transferred (and the transfer is allowed)."""
    events = transfer_events(state, to, reason, forced=forced, assessment_id=assessment_id)
    new_state = fold(reception.evolve, events, state)
    assert new_state is not None
    return new_state


def transfer_events(
    state: Reception,
    to: Location,
    reason: MoveReason,
    *,
    forced: bool = True,
    assessment_id: str | None = None,
) -> list[Event]:
    return reception.transfer(
        state,
        to,
        TransferHousehold(
            household_id=state.household_id,
            reason=reason,
            forced=forced,
            in_school_holiday=False,
            assessment_id=assessment_id,
            occurred_at=NOW,
        ),
    )


@contextmanager
def refused(code: str) -> Iterator[None]:
    """Then the command is refused, for the rule with this code."""
    with pytest.raises(RuleViolation) as caught:
        yield
    assert caught.value.code == code, caught.value.detail


def consumed(event: Event) -> ConsumedEvent:
    """The event as placement's consumer hands it to a reaction."""
    envelope = Envelope(
        id=new_id(),
        source="urn:test",
        type=event.type_name,
        subject=event.subject,
        time=NOW,
        occurredat=event.occurred_at,
        schemaversion=event.schema_version,
        actor="TEST:test",
        correlationid=new_id(),
        causationid=None,
        streamid="test",
        streamversion=1,
        legalbasis=event.legal_basis,
        data=event.data(),
    )
    return ConsumedEvent(envelope=envelope, event=event, topic="test", partition=0, offset=0)


async def a_registered_household(runtime: Runtime, when: datetime, adults: int = 1, children: int = 0) -> str:
    """Given a household registered at `when` and placed at a registration azc (placement's own reaction
    does it, as the consumer would); no stream known yet."""
    household_id = new_id()
    members = (
        *(
            HouseholdMember(
                person_id=new_id(),
                role=MemberRole.ADULT,
                relation=Relation.HEAD if i == 0 else Relation.PARTNER,
                birth_year=1980,
                nationality="SYR",
            )
            for i in range(adults)
        ),
        *(
            HouseholdMember(
                person_id=new_id(),
                role=MemberRole.CHILD,
                relation=Relation.CHILD,
                birth_year=2016,
                nationality="SYR",
            )
            for _ in range(children)
        ),
    )
    async with runtime.units_of_work() as uow:
        await reactions.on_household_registered(
            uow,
            consumed(
                HouseholdRegistered(
                    household_id=household_id,
                    channel=RegistrationChannel.TER_APEL,
                    arrival_group=ArrivalGroup.FIRST_APPLICATION,
                    members=members,
                    occurred_at=when,
                )
            ),
        )
    return household_id


async def a_household_after_its_stream(
    runtime: Runtime, when: datetime, adults: int, children: int, stream: ReceptionStream
) -> str:
    """Given a household registered at `when` and placed, whose reception stream is then determined
    (placement's own reactions do both, as the consumer would)."""
    household_id = await a_registered_household(runtime, when, adults, children)
    async with runtime.units_of_work() as uow:
        await reactions.on_reception_stream_determined(
            uow, consumed(stream_determined(household_id, stream, when))
        )
    return household_id


def stream_determined(
    household_id: str, stream: ReceptionStream, when: datetime
) -> ReceptionStreamDetermined:
    """IND's fact that the household's reception stream is known (with a ground when accelerated)."""
    return ReceptionStreamDetermined(
        application_id=new_id(),
        household_id=household_id,
        stream=stream,
        occurred_at=when,
        ground=None
        if stream is ReceptionStream.NOT_ACCELERATED
        else AcceleratedGround.SAFE_COUNTRY_OF_ORIGIN,
    )
