"""The append benchmark's three writers really write what they are timed for — on a handful of events, so
that `make bench-append` cannot rot between runs. Timings are never asserted here."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from bench.append import (
    CONFIGURATIONS,
    NEXT_SECTION,
    REPO,
    SECTION,
    WRITERS,
    append_eventsourcing,
    append_ours,
    append_raw,
    section,
    shares,
    with_section,
)
from bench.databases import asyncpg_dsn
from tests.fixtures import NewDatabase

pytestmark = pytest.mark.postgres

EVENTS = 7  # odd, so two writers get different shares
TWO = 2  # writers: enough to share the events out


async def count(url: str, table: str) -> int:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return int(await connection.fetchval(f"SELECT count(*) FROM {table}"))
    finally:
        await connection.close()


def test_the_events_are_shared_out_over_the_writers_without_losing_any() -> None:
    assert shares(7, 2) == [4, 3]
    assert shares(3000, 8) == [375] * 8
    assert sum(shares(10, 8)) == 10


async def test_our_event_store_writes_every_event_with_its_outbox_row(
    new_postgres_database: NewDatabase,
) -> None:
    url = await new_postgres_database("bench_ours")

    measured = await append_ours(url, EVENTS, TWO)

    assert measured.events == EVENTS and measured.per_second > 0
    assert await count(url, "events") == EVENTS
    assert await count(url, "outbox") == EVENTS


async def test_the_raw_insert_writes_every_event_into_the_same_table(
    new_postgres_database: NewDatabase,
) -> None:
    url = await new_postgres_database("bench_raw")

    await append_raw(url, EVENTS, TWO)

    assert await count(url, "events") == EVENTS
    assert await count(url, "outbox") == 0  # the limit does nothing but the one INSERT


async def test_the_eventsourcing_library_stores_every_event_on_the_same_server(
    new_postgres_database: NewDatabase,
) -> None:
    url = await new_postgres_database("bench_anchor")

    await asyncio.to_thread(append_eventsourcing, url, EVENTS, TWO)

    assert await count(url, "application_events") == EVENTS


def test_a_new_run_replaces_the_append_figures_and_keeps_the_notes_and_the_rebuild_section() -> None:
    report = (REPO / "BENCHMARKS.md").read_text()
    rates = {(name, writers): [100.0, 200.0, 300.0] for name in CONFIGURATIONS for writers in WRITERS}

    updated = with_section(report, section(30, 3, rates, "1.0, then 2.0", 0.5))

    assert updated.count(SECTION) == 1 and "| 1 | 200 | 200 | 200 | 100% | 1.0 x |" in updated
    assert "### How to read the append table" in updated
    assert updated.split(NEXT_SECTION)[1] == report.split(NEXT_SECTION)[1]
