"""`asielketen import`: events from a JSON-lines file land in a service's store exactly as written, with
their outbox rows, or not at all. Told on SQLite and on PostgreSQL (COPY), with batches of two lines so
that a refused line always has a batch written before it in the same file."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.cli import main as asielketen
from shared.contracts import chain_registry
from shared.envelope import Envelope
from shared.eventstore import RecordedEvent
from shared.eventstore.bulk_import import ImportRefused, ImportSummary, import_events, json_line
from shared.eventstore.schema import events, outbox
from shared.ids import new_id
from tests.fixtures import NewDatabase
from tests.helpers import (
    TEST_SOURCE,
    command_context,
    drop_database,
    envelope_for,
    migrated_engine,
    places_taken,
    units_of_work,
)

TOPIC = "placement.events"
SMALL_BATCH = 2


@pytest.fixture
async def engine(sqlite_or_postgres_database: NewDatabase) -> AsyncIterator[AsyncEngine]:
    url = await sqlite_or_postgres_database("bulk_import")
    engine = await migrated_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()
        if engine.dialect.name == "postgresql":
            await drop_database(url)


def stream_of(count: int, *, first_version: int = 1, stream: str | None = None) -> list[Envelope]:
    """`count` events of one location's stream, versions first_version, first_version+1, ..."""
    location = stream or new_id()
    return [
        envelope_for(
            places_taken(location, places=n + 1),
            stream_version=first_version + n,
            streamid=location,
            source=TEST_SOURCE,
        )
        for n in range(count)
    ]


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


async def run_import(engine: AsyncEngine, path: Path, *, publish: bool = True) -> ImportSummary:
    return await import_events(
        engine,
        path,
        chain_registry(),
        source=TEST_SOURCE,
        topic=TOPIC,
        publish=publish,
        batch_size=SMALL_BATCH,
    )


async def read_stream(engine: AsyncEngine, stream: str) -> list[RecordedEvent]:
    async with units_of_work(engine, TOPIC)() as uow:
        return await uow.events.read_stream(stream)


async def stored_counts(engine: AsyncEngine) -> tuple[int, int]:
    async with engine.connect() as connection:
        stored = (await connection.execute(select(func.count()).select_from(events))).scalar_one()
        queued = (await connection.execute(select(func.count()).select_from(outbox))).scalar_one()
    return int(stored), int(queued)


async def outbox_positions(engine: AsyncEngine) -> list[tuple[int, str]]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(outbox.c.event_position, outbox.c.topic))
        return sorted((int(position), topic) for position, topic in rows)


async def test_a_file_lands_as_written_in_file_order_with_an_outbox_row_per_event(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    # given a stream already at version 2 in the store, and a file that continues it and starts two more,
    # their lines interleaved
    existing = new_id()
    async with units_of_work(engine, TOPIC)() as uow:
        await uow.events.append(
            existing, 0, [places_taken(existing), places_taken(existing)], command_context()
        )
        await uow.commit()
    continued, first, second = stream_of(2, first_version=3, stream=existing), stream_of(3), stream_of(2)
    in_file_order = [first[0], continued[0], second[0], first[1], continued[1], second[1], first[2]]
    path = write_lines(tmp_path / "events.jsonl", [json_line(envelope) for envelope in in_file_order])

    # when it is imported
    summary = await run_import(engine, path)

    # then every event is in the store exactly as written, each stream in version order
    assert (summary.events, summary.streams, summary.published) == (7, 3, True)
    for envelopes in (first, second):
        assert [e.envelope for e in await read_stream(engine, envelopes[0].streamid)] == envelopes
    whole = await read_stream(engine, existing)
    assert [e.envelope.streamversion for e in whole] == [1, 2, 3, 4]
    assert [e.envelope for e in whole[2:]] == continued
    # and the store's order (positions) is the file's order
    async with engine.connect() as connection:
        rows = (
            await connection.execute(select(events.c.event_id, events.c.position).order_by(events.c.position))
        ).all()
    imported = [row for row in rows if row.event_id in {e.id for e in in_file_order}]
    assert [row.event_id for row in imported] == [e.id for e in in_file_order]
    # and each event has its one outbox row for the service's topic (the two appended before have theirs)
    assert await outbox_positions(engine) == sorted([(position, TOPIC) for position in (p for _, p in rows)])


async def test_a_history_only_import_writes_no_outbox_rows(engine: AsyncEngine, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "events.jsonl", [json_line(e) for e in stream_of(3)])

    summary = await run_import(engine, path, publish=False)

    assert (summary.events, summary.published) == (3, False)
    assert await stored_counts(engine) == (3, 0)


def unknown_type(lines: list[str]) -> None:
    envelope = json.loads(lines[2])
    envelope["type"] = "placement.location-teleported"
    lines[2] = json.dumps(envelope)


def version_gap(lines: list[str]) -> None:
    envelope = json.loads(lines[2])
    envelope["streamversion"] += 1
    lines[2] = json.dumps(envelope)


def duplicate_id(lines: list[str]) -> None:
    envelope = json.loads(lines[2])
    envelope["id"] = json.loads(lines[0])["id"]
    lines[2] = json.dumps(envelope)


def malformed_json(lines: list[str]) -> None:
    lines[2] = lines[2][:-5]


def payload_that_does_not_decode(lines: list[str]) -> None:
    envelope = json.loads(lines[2])
    envelope["data"]["places"] = "many"
    lines[2] = json.dumps(envelope)


def newer_schema_version(lines: list[str]) -> None:
    envelope = json.loads(lines[2])
    envelope["schemaversion"] = 99
    lines[2] = json.dumps(envelope)


def no_stream(lines: list[str]) -> None:
    envelope = json.loads(lines[2])
    del envelope["streamid"]
    lines[2] = json.dumps(envelope)


def subject_too_long_for_its_column(lines: list[str]) -> None:
    envelope = json.loads(lines[2])
    envelope["subject"] = "x" * 101
    lines[2] = json.dumps(envelope)


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (unknown_type, "unknown event type 'placement.location-teleported'"),
        (version_gap, "needs version 3 next, the line has 4"),
        (duplicate_id, "appears on an earlier line"),
        (malformed_json, "not JSON"),
        (payload_that_does_not_decode, "payload does not decode"),
        (newer_schema_version, "unsupported schema version"),
        (no_stream, "streamid must be a non-empty string"),
        (subject_too_long_for_its_column, "subject is longer than 100 characters"),
    ],
)
async def test_a_bad_line_is_refused_with_its_number_and_nothing_of_the_file_lands(
    engine: AsyncEngine, tmp_path: Path, spoil: Any, reason: str
) -> None:
    # given a file whose third line is bad (its first two lines make a batch before it)
    lines = [json_line(envelope) for envelope in stream_of(4)]
    spoil(lines)
    path = write_lines(tmp_path / "events.jsonl", lines)
    before = await stored_counts(engine)

    # when it is imported, it is refused at line 3, saying why
    with pytest.raises(ImportRefused) as refused:
        await run_import(engine, path)
    assert refused.value.line == 3
    assert reason in refused.value.reason

    # and neither an event nor an outbox row of it is in the store, not even the first batch's
    assert await stored_counts(engine) == before


async def test_a_file_that_does_not_continue_the_stored_stream_is_refused(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    # given a stream at version 1 in the store
    stream = new_id()
    async with units_of_work(engine, TOPIC)() as uow:
        await uow.events.append(stream, 0, [places_taken(stream)], command_context())
        await uow.commit()
    # when a file starts the same stream at version 1 again (after another stream's lines)
    lines = [json_line(e) for e in [*stream_of(2), *stream_of(1, stream=stream)]]
    path = write_lines(tmp_path / "events.jsonl", lines)

    with pytest.raises(ImportRefused) as refused:
        await run_import(engine, path)

    # then it is refused at that line, and the store has only the appended event
    assert (refused.value.line, refused.value.reason) == (
        3,
        f"stream {stream} needs version 2 next, the line has 1",
    )
    assert await stored_counts(engine) == (1, 1)


async def test_importing_the_same_file_twice_is_refused_at_its_first_line(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    envelopes = stream_of(3)
    path = write_lines(tmp_path / "events.jsonl", [json_line(e) for e in envelopes])
    await run_import(engine, path)

    with pytest.raises(ImportRefused) as refused:
        await run_import(engine, path)

    assert refused.value.line == 1
    assert refused.value.reason == f"event id {envelopes[0].id} is already in the store (imported before?)"
    assert await stored_counts(engine) == (3, 3)


async def test_the_command_imports_a_file_and_names_a_refused_line(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # the command runs its own event loop: it is called from a thread, as from a shell
    monkeypatch.setenv("PLACEMENT_EVENT_SOURCE", TEST_SOURCE)
    url = engine.url.render_as_string(hide_password=False)
    good = write_lines(tmp_path / "good.jsonl", [json_line(e) for e in stream_of(3)])
    bad = write_lines(tmp_path / "bad.jsonl", [json_line(e) for e in stream_of(1)] + ["{"])

    assert await asyncio.to_thread(asielketen, ["import", "placement", str(good), "--database-url", url]) == 0
    assert "imported 3 events in 1 streams" in capsys.readouterr().out
    assert await asyncio.to_thread(asielketen, ["import", "placement", str(bad), "--database-url", url]) == 1
    assert "line 2: not JSON" in capsys.readouterr().err
    assert await stored_counts(engine) == (3, 3)
