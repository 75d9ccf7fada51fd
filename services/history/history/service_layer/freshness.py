"""Read-your-writes without polling: a command's response names the events it appended (`X-Event-Ids`),
and a query given them as `?after=` waits — bounded — until the read side has applied every one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import sqlalchemy as sa

from shared.eventstore import UnitOfWork
from shared.eventstore.schema import processed_events

CONSUMER = "history"


async def applied_count(units_of_work: Callable[[], UnitOfWork], event_ids: Sequence[str]) -> int:
    async with units_of_work() as uow:
        result = await uow.session.execute(
            sa.select(sa.func.count())
            .select_from(processed_events)
            .where(processed_events.c.consumer == CONSUMER, processed_events.c.event_id.in_(event_ids))
        )
        return int(result.scalar_one())


async def wait_until_applied(
    units_of_work: Callable[[], UnitOfWork],
    event_ids: Sequence[str],
    *,
    timeout_s: float,
    poll_s: float = 0.05,
) -> tuple[bool, int]:
    """(all applied?, how many were) after at most `timeout_s`."""
    wanted = sorted(set(event_ids))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        applied = await applied_count(units_of_work, wanted)
        if applied >= len(wanted):
            return True, applied
        if loop.time() >= deadline:
            return False, applied
        await asyncio.sleep(poll_s)
