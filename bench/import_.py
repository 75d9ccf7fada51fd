"""Benchmark: `asielketen import` (bulk import of a JSON-lines file) against raw COPY of the same rows.

    .venv/bin/python -m bench.import_ --events 100000    (make bench-import)

Writes a file of `--events` events (streams of ten `location-places-taken` facts) once, then in each of
`--runs` rounds, each configuration into a fresh PostgreSQL database of its own, timed from start to commit:
- *ours*: `import_events` (shared/eventstore/bulk_import.py) of the file: reading and checking every line
  (JSON, contract, stream rules, ids against the store), COPY of the events and of their outbox rows, in
  batches of 5,000, one transaction;
- *ours, --no-publish*: the same without outbox rows;
- *raw COPY*: asyncpg's `copy_records_to_table` of the same event rows, already built in memory, into the
  same `events` table, in the same batches and one transaction (the limit: what the database takes).
The configurations take turns within each round; the figure is the median over the rounds. Writes its
section of BENCHMARKS.md. Nothing asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bench.append import EVENT_STORE_MIGRATIONS, REPO
from bench.databases import asyncpg_dsn, drop, fresh_database
from bench.report import load_average, replace_table_section, save_results
from shared.contracts import chain_registry
from shared.contracts.placement import LocationPlacesTaken
from shared.envelope import Envelope
from shared.eventstore.bulk_import import DEFAULT_BATCH_SIZE, EVENT_COLUMNS, import_events, json_line
from shared.eventstore.database import create_engine
from shared.eventstore.migrations import upgrade_to_head_async
from shared.ids import new_id
from tests.infrastructure import POSTGRES_SCRIPT

SOURCE = "urn:bench"
TOPIC = "bench.events"
EVENTS_PER_STREAM = 10
SECTION = "## Bulk import (`asielketen import`)"
NEXT_SECTION = "## The simulator's pace"


def write_file(path: Path, events: int) -> list[tuple[Any, ...]]:
    """The file to import, and the same events as rows of `events` (without position) for raw COPY."""
    rows: list[tuple[Any, ...]] = []
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as file:
        stream = ""
        for n in range(events):
            if n % EVENTS_PER_STREAM == 0:
                stream = new_id()
            event = LocationPlacesTaken(
                location_id=stream, household_id=new_id(), places=2, occurred_at=start + timedelta(minutes=n)
            )
            envelope = Envelope(
                id=new_id(),
                source=SOURCE,
                type=event.type_name,
                subject=event.subject,
                time=start + timedelta(minutes=n, seconds=1),
                occurredat=event.occurred_at,
                schemaversion=event.schema_version,
                actor="COA:migration",
                correlationid=new_id(),
                causationid=None,
                streamid=stream,
                streamversion=n % EVENTS_PER_STREAM + 1,
                legalbasis=event.legal_basis,
                data=event.data(),
            )
            file.write(json_line(envelope) + "\n")
            rows.append(
                (
                    envelope.id,
                    envelope.streamid,
                    envelope.streamversion,
                    envelope.type,
                    envelope.schemaversion,
                    envelope.subject,
                    envelope.occurredat,
                    envelope.time,
                    envelope.actor,
                    envelope.correlationid,
                    envelope.causationid,
                    envelope.legalbasis,
                    envelope.traceparent,
                    json.dumps(envelope.data, separators=(",", ":")),
                )
            )
    return rows


async def import_ours(url: str, path: Path, publish: bool) -> float:
    engine = create_engine(url, pool_size=1)
    try:
        summary = await import_events(
            engine, path, chain_registry(), source=SOURCE, topic=TOPIC, publish=publish
        )
    finally:
        await engine.dispose()
    return summary.per_second


async def copy_raw(url: str, rows: list[tuple[Any, ...]]) -> float:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        started = time.perf_counter()
        async with connection.transaction():
            for start in range(0, len(rows), DEFAULT_BATCH_SIZE):
                await connection.copy_records_to_table(
                    "events", records=rows[start : start + DEFAULT_BATCH_SIZE], columns=EVENT_COLUMNS[1:]
                )
        return len(rows) / (time.perf_counter() - started)
    finally:
        await connection.close()


async def in_fresh_database(run: Callable[[str], Awaitable[float]]) -> float:
    url = await fresh_database("import")
    try:
        await upgrade_to_head_async(url, EVENT_STORE_MIGRATIONS)
        return await run(url)
    finally:
        await drop(url)


CONFIGURATIONS = ("ours", "ours, --no-publish", "raw COPY")


def measure(events: int, runs: int) -> dict[str, list[float]]:
    rates: dict[str, list[float]] = {name: [] for name in CONFIGURATIONS}
    with tempfile.TemporaryDirectory(prefix="bench-import-") as directory:
        path = Path(directory) / "events.jsonl"
        rows = write_file(path, events)
        runners: dict[str, Callable[[str], Awaitable[float]]] = {
            "ours": lambda url: import_ours(url, path, publish=True),
            "ours, --no-publish": lambda url: import_ours(url, path, publish=False),
            "raw COPY": lambda url: copy_raw(url, rows),
        }
        for round_number in range(1, runs + 1):
            for name in CONFIGURATIONS:
                rate = asyncio.run(in_fresh_database(runners[name]))
                rates[name].append(rate)
                print(f"round {round_number}: {name:20} {rate:10,.0f} events/s", flush=True)
    return rates


def section(events: int, runs: int, rates: dict[str, list[float]], load: str, minutes: float) -> str:
    median = {name: statistics.median(values) for name, values in rates.items()}
    ours, unpublished, raw = (median[name] for name in CONFIGURATIONS)
    each = "; ".join(", ".join(f"{rate:,.0f}" for rate in rates[name]) for name in CONFIGURATIONS)
    return "\n".join(
        [
            SECTION,
            "",
            f"`.venv/bin/python -m bench.import_ --events {events} --runs {runs}` (`make bench-import`):",
            f"a file of {events:,} events (streams of {EVENTS_PER_STREAM}), imported into a fresh PostgreSQL",
            "database per configuration and round; the figure is the median of the rounds (the",
            "configurations take turns within a round). *ours*: `asielketen import`'s code (every line read",
            "and checked, COPY of the events and their outbox rows, one transaction); *--no-publish*:",
            "without outbox rows; *raw COPY*: asyncpg's `copy_records_to_table` of the same event rows,",
            "built in memory beforehand, into the same table in the same batches (the limit).",
            "",
            f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} cores, "
            f"in {minutes:.0f} min. **Load average {load}** (1, 5, 15 min) at the start and the end: where",
            "that is above the core count the machine was shared, and the figures are those of a loaded",
            "machine, not clean ones.",
            "",
            "| events | ours events/s | ours --no-publish events/s | raw COPY events/s | ours / raw | "
            "--no-publish / raw | runs (ours, --no-publish, raw) |",
            "|---|---|---|---|---|---|---|",
            f"| {events:,} | {ours:,.0f} | {unpublished:,.0f} | {raw:,.0f} | {ours / raw:.0%} | "
            f"{unpublished / raw:.0%} | {each} |",
        ]
    )


def with_section(text: str, new: str) -> str:
    """The report with this section's text and table replaced (or put in above the simulator's
    section); notes under the table stay."""
    return replace_table_section(text, new, table_header="| events |", insert_before=NEXT_SECTION)


def main(events: int, runs: int) -> int:
    subprocess.run([str(POSTGRES_SCRIPT), "ensure", str(os.getpid())], check=True)
    os.environ.setdefault("PGSSLMODE", "disable")  # both sides plain TCP to the loopback server
    started, before = time.monotonic(), load_average()
    rates = measure(events, runs)
    new = section(events, runs, rates, f"{before}, then {load_average()}", (time.monotonic() - started) / 60)
    print(new, flush=True)
    report = REPO / "BENCHMARKS.md"
    report.write_text(with_section(report.read_text(), new))
    save_results(
        "import", {"events": events, **{name: statistics.median(rates[name]) for name in CONFIGURATIONS}}
    )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000, help="events in the file")
    parser.add_argument("--runs", type=int, default=3, help="rounds; each figure is their median")
    arguments = parser.parse_args()
    raise SystemExit(main(arguments.events, arguments.runs))
