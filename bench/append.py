"""Benchmark: event-store append, one event per transaction, against the limit and the anchor.

    .venv/bin/python -m bench.append --events 3000    (make bench-append; needs the `bench` extra)

On the machine's PostgreSQL (deploy/postgres), each configuration appends `--events` events, one event per
transaction, into a database of its own made for that run, and is timed from the first append to the last
commit:
- *ours*: `EventStore.append` through a `UnitOfWork` (on PostgreSQL one statement for the version check,
  the event row and its outbox row; then the commit),
  each writer appending to a stream of its own, as a command handler does;
- *raw asyncpg*: one single-row `INSERT` of the same row into the same migrated `events` table per
  transaction, nothing else (the limit: what one round trip and one commit cost);
- *eventsourcing*: the `eventsourcing` library from PyPI on the same server, one aggregate per writer, one
  new event per `save()` (the anchor the performance issue names).
Each with 1 and 8 concurrent writers (asyncio tasks; threads for the synchronous library). The
configurations take turns within each of `--runs` rounds, so a change in the machine's load hits them
alike; the figure is the median over the rounds. Writes its section of BENCHMARKS.md. Nothing asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import asyncpg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from sqlalchemy.engine import make_url

from bench.databases import asyncpg_dsn, drop, fresh_database
from bench.report import load_average, replace_table_section, save_results
from shared.contracts import chain_registry
from shared.contracts.placement import LocationPlacesTaken
from shared.eventstore import CommandContext, UnitOfWorkFactory
from shared.eventstore.database import create_engine, session_factory
from shared.eventstore.migrations import upgrade_to_head_async
from shared.ids import new_id
from tests.infrastructure import POSTGRES_SCRIPT

REPO = Path(__file__).resolve().parent.parent
# Intake's migrations create the event-store tables every service has (and intake's own, unused here).
EVENT_STORE_MIGRATIONS = REPO / "services" / "intake" / "intake" / "adapters" / "migrations"
WRITERS = (1, 8)
SECTION = "## Event-store append, one event per transaction"
NEXT_SECTION = "## Read-side rebuild"


@dataclass(frozen=True, slots=True)
class Measurement:
    events: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.events / self.seconds


def shares(events: int, writers: int) -> list[int]:
    """`events` split over `writers` as evenly as possible (the first ones take the remainder)."""
    return [events // writers + (1 if n < events % writers else 0) for n in range(writers)]


def placed_event() -> LocationPlacesTaken:
    return LocationPlacesTaken(
        location_id=new_id(), household_id=new_id(), places=2, occurred_at=datetime.now(UTC)
    )


async def append_ours(url: str, events: int, writers: int) -> Measurement:
    """Our EventStore through a UnitOfWork, each writer on a stream of its own."""
    await upgrade_to_head_async(url, EVENT_STORE_MIGRATIONS)
    engine = create_engine(url, pool_size=writers)
    units = UnitOfWorkFactory(
        session_factory(engine), chain_registry(), source="urn:bench", topic="bench.events"
    )
    context = CommandContext(actor="COA:bench", correlation_id=new_id())

    async def writer(count: int) -> None:
        stream = f"location-{new_id()}"
        for version in range(count):
            async with units() as uow:
                await uow.events.append(stream, version, [placed_event()], context)
                await uow.commit()

    try:
        return await timed(events, [writer(count) for count in shares(events, writers)])
    finally:
        await engine.dispose()


INSERT = """
INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, subject, occurred_at,
                    recorded_at, actor, correlation_id, causation_id, legal_basis, traceparent, payload)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11, NULL, $12::jsonb)
"""


async def append_raw(url: str, events: int, writers: int) -> Measurement:
    """The limit: one single-row INSERT per transaction (autocommit) into the same `events` table."""
    await upgrade_to_head_async(url, EVENT_STORE_MIGRATIONS)
    pool = await asyncpg.create_pool(asyncpg_dsn(url), min_size=writers, max_size=writers)

    async def writer(count: int) -> None:
        stream = f"location-{new_id()}"
        async with pool.acquire() as connection:
            for version in range(1, count + 1):
                event = placed_event()
                now = datetime.now(UTC)
                await connection.execute(
                    INSERT,
                    new_id(),
                    stream,
                    version,
                    event.type_name,
                    event.schema_version,
                    event.subject,
                    event.occurred_at,
                    now,
                    "COA:bench",
                    new_id(),
                    event.legal_basis,
                    json.dumps(event.data()),
                )

    try:
        return await timed(events, [writer(count) for count in shares(events, writers)])
    finally:
        await pool.close()


async def timed(events: int, writers: list[Awaitable[None]]) -> Measurement:
    started = time.perf_counter()
    await asyncio.gather(*writers)
    return Measurement(events, time.perf_counter() - started)


class Location(Aggregate):
    """The anchor's aggregate: a location whose places are taken, one event each time."""

    taken = 0

    @event("PlacesTaken")
    def take(self, household_id: str, places: int) -> None:
        self.taken += places


def append_eventsourcing(url: str, events: int, writers: int) -> Measurement:
    """The anchor: the `eventsourcing` library (psycopg 3), one new event per `save()`, writers as threads
    because the library is synchronous."""
    parsed = make_url(url)
    application: Application[UUID] = Application(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": str(parsed.database),
            "POSTGRES_HOST": str(parsed.host),
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": str(parsed.username),
            "POSTGRES_PASSWORD": str(parsed.password),
            "POSTGRES_POOL_SIZE": str(writers),
        }
    )

    def writer(count: int) -> None:
        location = Location()  # its creation is the first of this writer's events
        application.save(location)
        for _ in range(count - 1):
            location.take(household_id=new_id(), places=2)
            application.save(location)

    try:
        with ThreadPoolExecutor(max_workers=writers) as threads:
            started = time.perf_counter()
            for future in [threads.submit(writer, count) for count in shares(events, writers)]:
                future.result()
            return Measurement(events, time.perf_counter() - started)
    finally:
        application.close()


Runner = Callable[[str, int, int], Measurement]
CONFIGURATIONS: dict[str, Runner] = {
    "ours": lambda url, events, writers: asyncio.run(append_ours(url, events, writers)),
    "raw asyncpg": lambda url, events, writers: asyncio.run(append_raw(url, events, writers)),
    "eventsourcing": append_eventsourcing,
}


def measure(events: int, runs: int) -> dict[tuple[str, int], list[float]]:
    """events/s of every configuration in every round, each run in a database of its own."""
    rates: dict[tuple[str, int], list[float]] = {}
    for round_number in range(1, runs + 1):
        for name, runner in CONFIGURATIONS.items():
            for writers in WRITERS:
                url = asyncio.run(fresh_database("append"))
                try:
                    rate = runner(url, events, writers).per_second
                finally:
                    asyncio.run(drop(url))
                rates.setdefault((name, writers), []).append(rate)
                line = f"round {round_number}: {name:14} {writers} writer(s) {rate:8,.0f} events/s"
                print(line, flush=True)
    return rates


def section(
    events: int, runs: int, rates: dict[tuple[str, int], list[float]], load: str, minutes: float
) -> str:
    median = {key: statistics.median(values) for key, values in rates.items()}
    lines = [
        SECTION,
        "",
        f"`.venv/bin/python -m bench.append --events {events} --runs {runs}` (`make bench-append`): each",
        "configuration appends that many events, one event per transaction, into a fresh PostgreSQL",
        "database; the figure is the median of the rounds (the configurations take turns within a round).",
        "*ours*: `EventStore.append` through a `UnitOfWork` (BEGIN; version check, event row and outbox row",
        "in one statement; COMMIT).",
        "*raw asyncpg*: one single-row `INSERT` into the same `events` table per transaction (the limit).",
        "*eventsourcing*: the PyPI library (psycopg 3), one new aggregate event per `save()` (the anchor);",
        "its writers are threads. All three talk plain TCP to the loopback server (`PGSSLMODE=disable`, as",
        "our engine does for a loopback host); runs before 2026-11-30 06:00 UTC had all three on TLS.",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} cores, "
        f"in {minutes:.0f} min. **Load average {load}** (1, 5, 15 min) at the start and the end: where",
        "that is above the core count the machine was shared, and the figures are those of a loaded",
        "machine, not clean ones.",
        "",
        "| writers | ours events/s | raw asyncpg events/s | eventsourcing events/s | ours / raw | "
        "ours / eventsourcing | runs (ours, raw, eventsourcing) |",
        "|---|---|---|---|---|---|---|",
    ]
    for writers in WRITERS:
        ours, raw, anchor = (median[(name, writers)] for name in CONFIGURATIONS)
        each = "; ".join(
            ", ".join(f"{rate:,.0f}" for rate in rates[(name, writers)]) for name in CONFIGURATIONS
        )
        lines.append(
            f"| {writers} | {ours:,.0f} | {raw:,.0f} | {anchor:,.0f} | {ours / raw:.0%} | "
            f"{ours / anchor:.1f} x | {each} |"
        )
    return "\n".join(lines) + "\n"


def with_section(text: str, new: str) -> str:
    """The report with the append section's text and table replaced (or put in, above the rebuild
    section); the notes under the table stay, to be revised by whoever reads the new figures."""
    return replace_table_section(text, new, table_header="| writers |", insert_before=NEXT_SECTION)


def main(events: int, runs: int) -> int:
    subprocess.run([str(POSTGRES_SCRIPT), "ensure", str(os.getpid())], check=True)
    # All three talk plain TCP to the loopback server, as our engine does by default
    # (shared/eventstore/database.py): asyncpg and libpq (the library's psycopg) both read PGSSLMODE.
    # Runs before 2026-11-30 05:40 UTC had all three on TLS (their default, sslmode=prefer).
    os.environ.setdefault("PGSSLMODE", "disable")
    started, before = time.monotonic(), load_average()
    rates = measure(events, runs)
    load = f"{before}, then {load_average()}"
    new = section(events, runs, rates, load, (time.monotonic() - started) / 60)
    print(new, flush=True)
    report = REPO / "BENCHMARKS.md"
    report.write_text(with_section(report.read_text(), new))
    save_results(
        "append",
        {
            "events": events,
            "by_writers": {
                str(writers): {name: statistics.median(rates[(name, writers)]) for name in CONFIGURATIONS}
                for writers in WRITERS
            },
        },
    )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=3000, help="events per configuration and round")
    parser.add_argument("--runs", type=int, default=3, help="rounds; each figure is their median")
    arguments = parser.parse_args()
    raise SystemExit(main(arguments.events, arguments.runs))
