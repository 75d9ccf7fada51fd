"""The import benchmark's two sides really write what they are timed for — on a few events, so that
`make bench-import` cannot rot between runs. Timings are never asserted here."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.append import EVENT_STORE_MIGRATIONS, REPO
from bench.import_ import (
    CONFIGURATIONS,
    NEXT_SECTION,
    SECTION,
    copy_raw,
    import_ours,
    section,
    with_section,
    write_file,
)
from shared.eventstore.migrations import upgrade_to_head_async
from tests.bench.test_append_bench import count
from tests.fixtures import NewDatabase

pytestmark = pytest.mark.postgres

EVENTS = 23  # two full streams of ten and a short one


async def test_both_sides_write_every_event_of_the_file(
    new_postgres_database: NewDatabase, tmp_path: Path
) -> None:
    rows = write_file(tmp_path / "events.jsonl", EVENTS)
    ours, raw = (
        await new_postgres_database("bench_import_ours"),
        await new_postgres_database("bench_import_raw"),
    )
    for url in (ours, raw):
        await upgrade_to_head_async(url, EVENT_STORE_MIGRATIONS)

    assert await import_ours(ours, tmp_path / "events.jsonl", publish=True) > 0
    assert await copy_raw(raw, rows) > 0

    assert await count(ours, "events") == EVENTS and await count(ours, "outbox") == EVENTS
    assert await count(raw, "events") == EVENTS and await count(raw, "outbox") == 0


def test_a_new_run_replaces_the_import_figures_and_keeps_the_other_sections() -> None:
    report = (REPO / "BENCHMARKS.md").read_text()
    rates = {name: [1000.0, 2000.0, 3000.0] for name in CONFIGURATIONS}

    updated = with_section(report, section(30, 3, rates, "1.0, then 2.0", 0.5))

    assert updated.count(SECTION) == 1 and "| 30 | 2,000 | 2,000 | 2,000 | 100% | 100% |" in updated
    assert updated.split(NEXT_SECTION)[1] == report.split(NEXT_SECTION)[1]
    again = with_section(updated, section(40, 3, rates, "1.0, then 2.0", 0.5))
    assert again.count(SECTION) == 1 and "| 40 |" in again and "| 30 |" not in again
