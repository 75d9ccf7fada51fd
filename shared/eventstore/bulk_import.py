"""Bulk import of events into one service's event store from a JSON-lines file (`asielketen import`).

The line format, the checks and the guarantees are documented for operators in docs/operations.md
("Bulk import"); in short:
- one CloudEvents 1.0 event per line in JSON format, with this chain's extension attributes (the
  envelope of shared/envelope.py: `id`, `source`, `type`, `subject`, `time`, `occurredat`,
  `schemaversion`, `actor`, `correlationid`, `causationid`, `streamid`, `streamversion`, `legalbasis`,
  `traceparent`) and the event's payload as a JSON object in `data`; blank lines are skipped;
- every line is checked before anything of its batch is written: a known type, a supported schema version,
  a payload that decodes (the service's contract registry), the service's own `source`, attribute
  lengths that fit the table, an event id used nowhere else (in the file or the store), and stream
  versions that continue the stream without a gap: the first line of a stream follows the stream's current
  version in the store, every further line the line before it;
- the whole file is one transaction: a refused line (ImportRefused, with its line number and reason) rolls
  back every batch written before it, so a file lands completely or not at all. Running the same file
  twice is refused at its first line (its event id is already in the store);
- each event gets an outbox row, so the service's outbox relay publishes it to `<service>.events` like an
  appended one, unless `publish=False` (a history-only import: the store gets the events, Kafka does not).

On PostgreSQL the rows are written with COPY (binary), a batch at a time, with positions drawn from the
events' own sequence in file order (the outbox rows need them, and COPY returns nothing); on SQLite with
one multi-row INSERT per table and batch.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, cast

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.contracts import EventRegistry
from shared.contracts.registry import UndecodablePayload, UnknownEventType, UnsupportedSchemaVersion
from shared.envelope import CONTENT_TYPE, SPEC_VERSION, Envelope
from shared.eventstore.schema import events as events_table
from shared.eventstore.schema import outbox as outbox_table

DEFAULT_BATCH_SIZE = 5000

# The envelope attribute that fills each column of `events` (position comes from the store).
_COLUMN_OF_ATTRIBUTE = {
    "id": "event_id",
    "streamid": "stream_id",
    "streamversion": "stream_version",
    "type": "event_type",
    "schemaversion": "schema_version",
    "subject": "subject",
    "occurredat": "occurred_at",
    "time": "recorded_at",
    "actor": "actor",
    "correlationid": "correlation_id",
    "causationid": "causation_id",
    "legalbasis": "legal_basis",
    "traceparent": "traceparent",
    "data": "payload",
}
EVENT_COLUMNS = ["position", *_COLUMN_OF_ATTRIBUTE.values()]
_LARGEST_INTEGER = 2**31 - 1  # schema_version and stream_version are 32-bit integer columns


def _length_of(column: str) -> int:
    length: int = events_table.c[column].type.length  # type: ignore[attr-defined]
    return length


# Every text attribute: its name, whether it may be missing or null, and the longest value it may have
# (its column's length, so that a too-long value is refused with its line number instead of failing the
# COPY without one). One pass over this tuple per line: checking is most of an import's time in Python.
_TEXT_ATTRIBUTES: tuple[tuple[str, bool, int | None], ...] = (
    ("id", False, _length_of("event_id")),
    ("source", False, None),
    ("type", False, _length_of("event_type")),
    ("subject", False, _length_of("subject")),
    ("time", False, None),
    ("occurredat", False, None),
    ("actor", False, _length_of("actor")),
    ("correlationid", False, _length_of("correlation_id")),
    ("causationid", True, _length_of("causation_id")),
    ("streamid", False, _length_of("stream_id")),
    ("legalbasis", False, _length_of("legal_basis")),
    ("traceparent", True, _length_of("traceparent")),
)


class ImportRefused(Exception):
    """A line that may not be imported; nothing of the file was written."""

    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}")


@dataclass(frozen=True, slots=True)
class ImportSummary:
    events: int
    streams: int
    seconds: float
    published: bool

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    event_id: str
    stream_id: str
    stream_version: int
    row: tuple[Any, ...]  # the columns of EVENT_COLUMNS after position, ready for COPY or INSERT


Progress = Callable[[int, float], None]  # (events written so far, seconds since the start)


async def import_events(
    engine: AsyncEngine,
    path: Path,
    registry: EventRegistry,
    *,
    source: str,
    topic: str,
    publish: bool = True,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import the events of the JSON-lines file at `path` into the store behind `engine`, all or
    nothing. Raises ImportRefused for the first line that may not be imported."""
    started = time.perf_counter()
    checker = _StreamChecker()
    written = 0
    async with engine.connect() as connection:
        store: _Store = (
            await _PostgresStore.open(connection)
            if connection.dialect.name == "postgresql"
            else _SqlAlchemyStore(connection)
        )
        async with store.transaction():
            for batch in _batches(_parsed_lines(path, registry, source), batch_size):
                await checker.check(batch, store)
                await store.write(batch, topic if publish else None)
                written += len(batch)
                if progress is not None:
                    progress(written, time.perf_counter() - started)
    return ImportSummary(written, checker.streams, time.perf_counter() - started, publish)


def json_line(envelope: Envelope) -> str:
    """One event in the import's line format (without the newline): what an export would write."""
    return json.dumps(
        {
            "specversion": SPEC_VERSION,
            "id": envelope.id,
            "source": envelope.source,
            "type": envelope.type,
            "subject": envelope.subject,
            "time": _rfc3339(envelope.time),
            "occurredat": _rfc3339(envelope.occurredat),
            "schemaversion": envelope.schemaversion,
            "actor": envelope.actor,
            "correlationid": envelope.correlationid,
            "causationid": envelope.causationid,
            "streamid": envelope.streamid,
            "streamversion": envelope.streamversion,
            "legalbasis": envelope.legalbasis,
            "traceparent": envelope.traceparent,
            "datacontenttype": CONTENT_TYPE,
            "data": envelope.data,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parsed_lines(path: Path, registry: EventRegistry, source: str) -> Iterator[_Line]:
    with path.open(encoding="utf-8") as lines:
        for number, text in enumerate(lines, start=1):
            if text.strip():
                yield _parse(number, text, registry, source)


def _batches(lines: Iterable[_Line], size: int) -> Iterator[list[_Line]]:
    batch: list[_Line] = []
    for line in lines:
        batch.append(line)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _parse(number: int, text: str, registry: EventRegistry, source: str) -> _Line:
    """One line checked on its own (everything but the stream rules) and turned into its row."""
    try:
        envelope = json.loads(text)
    except ValueError as error:
        raise ImportRefused(number, f"not JSON: {error}") from None
    if not isinstance(envelope, dict):
        raise ImportRefused(number, "not a JSON object")
    if envelope.get("specversion") != SPEC_VERSION:
        given = envelope.get("specversion")
        raise ImportRefused(number, f"specversion must be {SPEC_VERSION!r}, is {given!r}")
    for attribute, optional, longest in _TEXT_ATTRIBUTES:
        value = envelope.get(attribute)
        if type(value) is not str or not value:
            if optional and value is None:
                continue
            raise ImportRefused(number, f"{attribute} must be a non-empty string")
        if longest is not None and len(value) > longest:
            raise ImportRefused(number, f"{attribute} is longer than {longest} characters")
    for attribute in ("schemaversion", "streamversion"):
        value = envelope.get(attribute)
        if type(value) is not int or not 1 <= value <= _LARGEST_INTEGER:
            raise ImportRefused(number, f"{attribute} must be a whole number from 1 to {_LARGEST_INTEGER}")
    if envelope["source"] != source:
        raise ImportRefused(number, f"source is {envelope['source']!r}, this store's is {source!r}")
    if envelope.get("datacontenttype", CONTENT_TYPE) != CONTENT_TYPE:
        raise ImportRefused(number, f"datacontenttype must be {CONTENT_TYPE!r}")
    data = envelope.get("data")
    if not isinstance(data, dict):
        raise ImportRefused(number, "data must be a JSON object (the event's payload)")
    event_type, schema_version = envelope["type"], envelope["schemaversion"]
    try:
        registry.decode(event_type, schema_version, data)
    except UnknownEventType:
        raise ImportRefused(number, f"unknown event type {event_type!r}") from None
    except UnsupportedSchemaVersion as error:
        raise ImportRefused(number, f"unsupported schema version: {error}") from None
    except UndecodablePayload as error:
        raise ImportRefused(number, f"payload does not decode: {error}") from None
    return _Line(
        number=number,
        event_id=envelope["id"],
        stream_id=envelope["streamid"],
        stream_version=envelope["streamversion"],
        row=(
            envelope["id"],
            envelope["streamid"],
            envelope["streamversion"],
            event_type,
            schema_version,
            envelope["subject"],
            _utc(number, envelope["occurredat"], "occurredat"),
            _utc(number, envelope["time"], "time"),
            envelope["actor"],
            envelope["correlationid"],
            envelope.get("causationid"),
            envelope["legalbasis"],
            envelope.get("traceparent"),
            data,
        ),
    )


def _utc(number: int, text: str, attribute: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)  # Python 3.11 reads RFC 3339, "Z" included
    except ValueError:
        raise ImportRefused(number, f"{attribute} is not an RFC 3339 time: {text!r}") from None
    if moment.tzinfo is None:
        raise ImportRefused(number, f"{attribute} has no time zone: {text!r}")
    return moment.astimezone(UTC)


class _StreamChecker:
    """The rules that span lines: unique event ids, and per stream versions without a gap that continue
    the stream's current version in the store."""

    def __init__(self) -> None:
        self._next_version: dict[str, int] = {}  # per stream seen so far: the version its next line needs
        self._seen_ids: set[str] = set()

    @property
    def streams(self) -> int:
        return len(self._next_version)

    async def check(self, batch: list[_Line], store: _Store) -> None:
        new_streams = {line.stream_id for line in batch} - self._next_version.keys()
        current = await store.current_versions(new_streams)
        for stream in new_streams:
            self._next_version[stream] = current.get(stream, 0) + 1
        stored = await store.stored_event_ids([line.event_id for line in batch])
        for line in batch:
            if line.event_id in self._seen_ids:
                raise ImportRefused(line.number, f"event id {line.event_id} appears on an earlier line")
            if line.event_id in stored:
                raise ImportRefused(
                    line.number, f"event id {line.event_id} is already in the store (imported before?)"
                )
            self._seen_ids.add(line.event_id)
            expected = self._next_version[line.stream_id]
            if line.stream_version != expected:
                raise ImportRefused(
                    line.number,
                    f"stream {line.stream_id} needs version {expected} next, the line has "
                    f"{line.stream_version}",
                )
            self._next_version[line.stream_id] = expected + 1


class _Store(Protocol):
    """Where a checked batch goes, inside one transaction for the whole file."""

    def transaction(self) -> AbstractAsyncContextManager[Any]: ...

    async def current_versions(self, streams: set[str]) -> dict[str, int]: ...

    async def stored_event_ids(self, event_ids: list[str]) -> set[str]: ...

    async def write(self, batch: list[_Line], topic: str | None) -> None: ...


class _PostgresStore:
    """COPY through the asyncpg connection under the engine's connection, in a transaction of its own."""

    def __init__(self, driver: Any) -> None:
        self._driver = driver

    @classmethod
    async def open(cls, connection: AsyncConnection) -> _PostgresStore:
        return cls((await connection.get_raw_connection()).driver_connection)

    def transaction(self) -> AbstractAsyncContextManager[Any]:
        return cast(AbstractAsyncContextManager[Any], self._driver.transaction())

    async def current_versions(self, streams: set[str]) -> dict[str, int]:
        rows = await self._driver.fetch(
            "SELECT stream_id, max(stream_version) AS version FROM events"
            " WHERE stream_id = ANY($1::varchar[]) GROUP BY stream_id",
            list(streams),
        )
        return {row["stream_id"]: int(row["version"]) for row in rows}

    async def stored_event_ids(self, event_ids: list[str]) -> set[str]:
        rows = await self._driver.fetch(
            "SELECT event_id FROM events WHERE event_id = ANY($1::varchar[])", event_ids
        )
        return {row["event_id"] for row in rows}

    async def write(self, batch: list[_Line], topic: str | None) -> None:
        # Positions from the column's own sequence, in file order, so the store's order is the file's
        # and the outbox rows can name their events.
        positions = await self._driver.fetch(
            "SELECT nextval(pg_get_serial_sequence('events', 'position')) FROM generate_series(1, $1)",
            len(batch),
        )
        records = [
            (position[0], *line.row[:-1], json.dumps(line.row[-1], separators=(",", ":"), ensure_ascii=False))
            for position, line in zip(positions, batch, strict=True)
        ]
        await self._driver.copy_records_to_table("events", records=records, columns=EVENT_COLUMNS)
        if topic is not None:
            await self._driver.copy_records_to_table(
                "outbox",
                records=[(record[0], topic) for record in records],
                columns=["event_position", "topic"],
            )


class _SqlAlchemyStore:
    """SQLite (and any other store): one multi-row INSERT per table and batch."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    def transaction(self) -> AbstractAsyncContextManager[Any]:
        return self._connection.begin()

    async def current_versions(self, streams: set[str]) -> dict[str, int]:
        versions: dict[str, int] = {}
        for chunk in _chunks(sorted(streams), 500):  # SQLite caps the number of parameters
            result = await self._connection.execute(
                select(events_table.c.stream_id, func.max(events_table.c.stream_version))
                .where(events_table.c.stream_id.in_(chunk))
                .group_by(events_table.c.stream_id)
            )
            versions.update({stream: int(version) for stream, version in result.all()})
        return versions

    async def stored_event_ids(self, event_ids: list[str]) -> set[str]:
        stored: set[str] = set()
        for chunk in _chunks(event_ids, 500):
            result = await self._connection.execute(
                select(events_table.c.event_id).where(events_table.c.event_id.in_(chunk))
            )
            stored.update(result.scalars())
        return stored

    async def write(self, batch: list[_Line], topic: str | None) -> None:
        names = EVENT_COLUMNS[1:]
        result = await self._connection.execute(
            insert(events_table).returning(events_table.c.position, sort_by_parameter_order=True),
            [dict(zip(names, line.row, strict=True)) for line in batch],
        )
        if topic is not None:
            await self._connection.execute(
                insert(outbox_table),
                [{"event_position": position, "topic": topic} for position in result.scalars()],
            )


def _chunks(values: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
