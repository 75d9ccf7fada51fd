"""A deadline fires in one transaction with its effect: a handler whose use case commits (as every
service's use cases do) and then fails leaves nothing behind, and the deadline fires once later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared import scheduler
from shared.clock import ManualClock
from shared.eventstore import UnitOfWork
from tests.helpers import command_context, migrated_engine, places_taken, units_of_work

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def test_a_deadline_whose_firing_fails_after_its_use_case_committed_fires_once_later(
    tmp_path: Path,
) -> None:
    engine = await migrated_engine(f"sqlite+aiosqlite:///{tmp_path}/scheduler.db")
    units = units_of_work(engine, "test.events")
    try:
        # given a due deadline, and a handler that appends an event and commits, then fails the first time
        async with units() as uow:
            await scheduler.schedule(uow.session, "test-kind", "location-1", NOW - timedelta(hours=1), {})
            await uow.commit()
        failures = ["the process dies before the deadline is marked fired"]

        async def take_a_place(uow: UnitOfWork, deadline: scheduler.Deadline) -> None:
            stream = f"location-{deadline.key}"
            version = len(await uow.events.read_stream(stream))
            await uow.events.append(stream, version, [places_taken(deadline.key)], command_context())
            await uow.commit()
            if failures:
                raise RuntimeError(failures.pop())

        deadlines = scheduler.DeadlineScheduler(units, {"test-kind": take_a_place}, ManualClock(NOW))

        # when the scheduler polls twice
        assert await deadlines.fire_due() == 0  # the first firing fails (and is logged)
        assert await deadlines.fire_due() == 1

        # then the effect is there once, and the deadline is no longer pending
        async with units() as uow:
            assert len(await uow.events.read_stream("location-location-1")) == 1
            assert await scheduler.pending(uow.session, "test-kind", "location-1") is None
    finally:
        await engine.dispose()
