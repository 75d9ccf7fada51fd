"""Rebuilding the read side from offset 0 into a fresh database gives exactly the live read models."""

from __future__ import annotations

import io

import sqlalchemy as sa

from history.entrypoints.rebuild import checksums, end_offsets, rebuild
from shared.cli import EVENT_TOPICS
from shared.eventstore.database import create_engine
from shared.eventstore.schema import consumer_positions
from tests.e2e.stack import Chain
from tests.e2e.test_chain_flow import _register
from tests.fixtures import NewDatabase, eventually


async def test_the_rebuilt_read_side_equals_the_live_one(
    chain: Chain, kafka_bootstrap: str, new_postgres_database: NewDatabase
) -> None:
    # some history of our own, in case this test runs alone
    await _register(chain, [{"role": "adult", "birthYear": 1991, "nationality": "AFG"}])
    live_url = chain.stack.database_urls["history"]
    live = create_engine(live_url)

    async def live_caught_up() -> bool:
        ends = await end_offsets(kafka_bootstrap, EVENT_TOPICS)
        async with live.connect() as connection:
            rows = await connection.execute(
                sa.select(consumer_positions).where(consumer_positions.c.consumer == "history")
            )
            positions = {(r.topic, r.partition): r.next_offset for r in rows}
        behind = {
            f"{tp.topic}[{tp.partition}]": (positions.get((tp.topic, tp.partition), 0), end)
            for tp, end in ends.items()
            if end and positions.get((tp.topic, tp.partition), 0) < end
        }
        return not behind

    await eventually(live_caught_up, timeout=60, what="the live read side to apply every event")
    await live.dispose()

    out = io.StringIO()
    fresh = await new_postgres_database("history_rebuild")
    result = await rebuild(fresh, kafka_bootstrap, out=out, timeout_s=120)

    assert result["events"] > 0 and result["events_per_s"] > 0
    assert "events/s" in out.getvalue() and out.getvalue().startswith("\rrebuild: ")
    live_sums, rebuilt_sums = await checksums(live_url), await checksums(fresh)
    assert rebuilt_sums == live_sums
    assert int(live_sums["placement_facts"].split(":")[0]) > 0
