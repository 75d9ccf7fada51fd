"""Profile `EventStore.append` through a `UnitOfWork` on PostgreSQL, one writer, one event per transaction.

    .venv/bin/python -m bench.profile_append --events 500    (needs the `bench` extra: pyinstrument)

Appends `--events` events to one stream in a fresh database (after 50 warm-up appends, so connections
and prepared statements exist), under pyinstrument, and prints the call tree; also the wall time and
the process CPU time per append, which tell waiting on PostgreSQL from work in Python.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import time

from pyinstrument import Profiler

from bench.append import EVENT_STORE_MIGRATIONS, placed_event
from bench.databases import drop, fresh_database
from shared.contracts import chain_registry
from shared.eventstore import CommandContext, UnitOfWorkFactory
from shared.eventstore.database import create_engine, session_factory
from shared.eventstore.migrations import upgrade_to_head_async
from shared.ids import new_id
from tests.infrastructure import POSTGRES_SCRIPT

WARM_UP = 50


async def profile(url: str, events: int) -> None:
    await upgrade_to_head_async(url, EVENT_STORE_MIGRATIONS)
    engine = create_engine(url, pool_size=1)
    units = UnitOfWorkFactory(session_factory(engine), chain_registry(), source="urn:bench", topic="b.events")
    context = CommandContext(actor="COA:bench", correlation_id=new_id())
    stream = f"location-{new_id()}"

    async def append(version: int) -> None:
        async with units() as uow:
            await uow.events.append(stream, version, [placed_event()], context)
            await uow.commit()

    try:
        for version in range(WARM_UP):
            await append(version)
        profiler = Profiler(interval=0.0005, async_mode="enabled")
        cpu, wall = time.process_time(), time.perf_counter()
        with profiler:
            for version in range(WARM_UP, WARM_UP + events):
                await append(version)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        await engine.dispose()
    print(profiler.output_text(unicode=True, color=False, show_all=True))
    per_append = f"{wall / events * 1000:.2f} ms wall, {cpu / events * 1000:.2f} ms CPU per append"
    print(f"{events} appends: {per_append}")


def main(events: int) -> int:
    subprocess.run([str(POSTGRES_SCRIPT), "ensure", str(os.getpid())], check=True)
    url = asyncio.run(fresh_database("append_profile"))
    try:
        asyncio.run(profile(url, events))
    finally:
        asyncio.run(drop(url))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=500)
    raise SystemExit(main(parser.parse_args().events))
