"""How placement reacts to the rest of the chain: only the stream moves anyone; return facts end
reception or move a household to a return location."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from placement_builders import (
    a_household_after_its_stream,
    a_registered_household,
    consumed,
    stream_determined,
)
from prometheus_client import REGISTRY

from placement.adapters import locations as location_table
from placement.domain.location import ChangeCapacity
from placement.domain.reception import Reception
from placement.domain.recommendation import Purpose
from placement.entrypoints import reactions
from placement.entrypoints.app import create_app
from placement.service_layer import locations as location_service
from placement.service_layer import reception as reception_service
from shared.clock import ManualClock
from shared.contracts.placement import LocationType, MoveReason, ReceptionEndReason
from shared.contracts.procedure import (
    PROCEDURE_EVENTS,
    ReceptionStream,
)
from shared.contracts.repatriation import (
    DeparturePeriodExpired,
    DepartureRealised,
    DepartureType,
    LocalChainDecisionTaken,
    LocalChainOption,
)
from shared.eventstore import CommandContext
from shared.ids import new_id
from shared.runtime import Runtime
from shared.settings import ServiceSettings

WHEN = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
OFFICER = CommandContext(actor="COA:officer", correlation_id="test")


@pytest.fixture
async def runtime(tmp_path: Path, auth_dir: Path) -> AsyncIterator[Runtime]:
    settings = ServiceSettings(
        service="placement",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/placement.db",
        kafka_bootstrap_servers="127.0.0.1:9",
        kafka_create_topics=False,
        auth_jwks_path=auth_dir / "jwks.json",
        environment="test",
    )
    app = create_app(settings, ManualClock(WHEN))
    async with app.router.lifespan_context(app):
        yield app.state.runtime


async def _state(runtime: Runtime, household_id: str) -> Reception:
    async with runtime.units_of_work() as uow:
        state = (await reception_service.load_reception(uow, household_id)).state
    assert state is not None
    return state


def test_only_the_reception_stream_moves_anyone() -> None:
    # Of the sixteen procedure facts placement reacts to two: the stream (the process move) and the permit
    # (a municipality link, no move). Hearings, decisions and appeals reach it not at all.
    procedure_reactions = {event for event in reactions.HANDLERS if event in PROCEDURE_EVENTS}
    assert {event.__name__ for event in procedure_reactions} == {
        "ReceptionStreamDetermined",
        "ResidencePermitGranted",
    }
    # and linking after a permit is no move:
    assert (
        reactions.on_residence_permit_granted.__doc__
        and "linked" in reactions.on_residence_permit_granted.__doc__
    )


async def test_the_stream_makes_the_process_move_with_a_recorded_assessment_for_children(
    runtime: Runtime,
) -> None:
    household_id = await a_household_after_its_stream(
        runtime, WHEN, adults=1, children=2, stream=ReceptionStream.NOT_ACCELERATED
    )
    state = await _state(runtime, household_id)
    assert state.location_type is LocationType.AZC_REGULIER and state.process_moved
    assert len(state.assessments) == 1 and all(a.used for a in state.assessments.values())


async def test_the_departure_period_ends_reception_for_adults_but_not_for_children(runtime: Runtime) -> None:
    adult = await a_household_after_its_stream(
        runtime, WHEN, adults=1, children=0, stream=ReceptionStream.ACCELERATED
    )
    family = await a_household_after_its_stream(
        runtime, WHEN, adults=1, children=1, stream=ReceptionStream.ACCELERATED
    )
    for household_id in (adult, family):
        async with runtime.units_of_work() as uow:
            await reactions.on_departure_period_expired(
                uow,
                consumed(
                    DeparturePeriodExpired(
                        case_id=new_id(),
                        household_id=household_id,
                        person_ids=("p",),
                        occurred_at=WHEN + timedelta(28),
                    )
                ),
            )
    assert (await _state(runtime, adult)).ended
    assert not (await _state(runtime, family)).ended


async def test_a_chain_decision_moves_a_family_to_a_family_location_as_a_justified_second_forced_move(
    runtime: Runtime,
) -> None:
    family = await a_household_after_its_stream(
        runtime, WHEN, adults=2, children=2, stream=ReceptionStream.ACCELERATED
    )
    async with runtime.units_of_work() as uow:
        await reactions.on_local_chain_decision(
            uow,
            consumed(
                LocalChainDecisionTaken(
                    case_id=new_id(),
                    household_id=family,
                    person_ids=("p",),
                    option=LocalChainOption.FAMILY_LOCATION,
                    occurred_at=WHEN + timedelta(days=10),
                )
            ),
        )
    state = await _state(runtime, family)
    assert state.location_type is LocationType.FAMILY_LOCATION and state.forced_moves_with_children == 2


async def test_a_departure_ends_reception_once(runtime: Runtime) -> None:
    household_id = await a_household_after_its_stream(
        runtime, WHEN, adults=1, children=0, stream=ReceptionStream.ACCELERATED
    )
    departure = DepartureRealised(
        case_id=new_id(),
        household_id=household_id,
        person_ids=("p",),
        departure_type=DepartureType.WITHOUT_SUPERVISION,
        occurred_at=WHEN + timedelta(9),
    )
    for _ in range(
        2
    ):  # delivered twice with different ids: the second finds reception ended, changes nothing
        async with runtime.units_of_work() as uow:
            await reactions.on_departure_realised(uow, consumed(departure))
    async with runtime.units_of_work() as uow:
        recorded = await uow.events.read_stream(f"reception-{household_id}")
    ends = [r.event for r in recorded if r.event.type_name.endswith("resident-left-reception")]
    assert len(ends) == 1 and ends[0].reason is ReceptionEndReason.DEPARTED_UNKNOWN_DESTINATION  # type: ignore[attr-defined]


async def test_a_departure_that_reaches_placement_after_a_later_move_ends_reception_when_that_stay_began(
    runtime: Runtime,
) -> None:
    # given a household that a COA officer moved on day 10 (its own request)
    household_id = await a_household_after_its_stream(
        runtime, WHEN, adults=1, children=0, stream=ReceptionStream.NOT_ACCELERATED
    )
    async with runtime.units_of_work() as uow:
        await reception_service.transfer(
            uow,
            household_id,
            target_id=None,
            purpose=Purpose.OWN_REQUEST,
            reason=MoveReason.OWN_REQUEST,
            forced=False,
            assessment_id=None,
            occurred_at=WHEN + timedelta(days=10),
            context=OFFICER,
        )
    # when DT&V's departure on day 5 reaches placement only now (facts of two topics, in any order)
    async with runtime.units_of_work() as uow:
        await reactions.on_departure_realised(
            uow,
            consumed(
                DepartureRealised(
                    case_id=new_id(),
                    household_id=household_id,
                    person_ids=("p",),
                    departure_type=DepartureType.INDEPENDENT,
                    occurred_at=WHEN + timedelta(days=5),
                )
            ),
        )
    # then reception ends — when the current stay began, so the person's stays keep their order
    state = await _state(runtime, household_id)
    assert state.ended
    async with runtime.units_of_work() as uow:
        recorded = await uow.events.read_stream(f"reception-{household_id}")
    assert recorded[-1].event.occurred_at == WHEN + timedelta(days=10)


async def test_the_stream_after_an_officer_made_the_process_move_by_hand_changes_nothing(
    runtime: Runtime,
) -> None:
    # given a household an officer already moved to a regular azc as its process move
    household_id = await a_registered_household(runtime, WHEN)
    async with runtime.units_of_work() as uow:
        await reception_service.transfer(
            uow,
            household_id,
            target_id=None,
            purpose=Purpose.PROCESS_NOT_ACCELERATED,
            reason=MoveReason.PROCESS,
            forced=True,
            assessment_id=None,
            occurred_at=WHEN + timedelta(days=1),
            context=OFFICER,
        )
    moved = await _state(runtime, household_id)
    # when the stream fact reaches placement afterwards
    async with runtime.units_of_work() as uow:
        await reactions.on_reception_stream_determined(
            uow, consumed(stream_determined(household_id, ReceptionStream.NOT_ACCELERATED, WHEN))
        )
    # then it is not refused (and dead-lettered), and nobody moves a second time
    assert await _state(runtime, household_id) == moved


async def test_when_no_location_has_room_the_process_move_is_left_to_an_officer(runtime: Runtime) -> None:
    # given a household at a registration azc, and no azc for the accelerated procedure with a free place
    household_id = await a_registered_household(runtime, WHEN)
    async with runtime.units_of_work() as uow:
        full = [
            found
            for found in await location_table.all_locations(uow.session)
            if found.location_type is LocationType.AZC_VERSNELD
        ]
    for found in full:
        async with runtime.units_of_work() as uow:
            await location_service.change_capacity(
                uow,
                found.location_id,
                ChangeCapacity(capacity=found.occupied, occurred_at=WHEN),
                OFFICER,
            )
    left_before = _left_to_an_officer("process-accelerated")
    # when its stream is determined: accelerated
    async with runtime.units_of_work() as uow:
        await reactions.on_reception_stream_determined(
            uow,
            consumed(stream_determined(household_id, ReceptionStream.ACCELERATED, WHEN + timedelta(days=1))),
        )
    # then the household stays where it is, its process move still to be made, and the metric says so
    state = await _state(runtime, household_id)
    assert state.location_type is LocationType.AZC_AANMELD and not state.process_moved
    assert _left_to_an_officer("process-accelerated") == left_before + 1


def _left_to_an_officer(purpose: str) -> float:
    value = REGISTRY.get_sample_value(
        "asielketen_placement_moves_left_to_officer_total", {"purpose": purpose, "code": "no-location-fits"}
    )
    return value or 0.0
