"""How placement reacts to the rest of the chain: only the stream moves anyone; return facts end
reception or move a household to a return location."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from placement_builders import a_household_after_its_stream, consumed

from placement.domain.reception import Reception
from placement.entrypoints import reactions
from placement.entrypoints.app import create_app
from placement.service_layer import reception as reception_service
from shared.clock import ManualClock
from shared.contracts.placement import LocationType, ReceptionEndReason
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
from shared.ids import new_id
from shared.runtime import Runtime
from shared.settings import ServiceSettings

WHEN = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


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
