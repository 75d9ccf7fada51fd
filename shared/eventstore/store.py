"""The event store port and its SQLAlchemy adapter.

Contract (the same on SQLite and PostgreSQL, proven by tests/contract/test_event_store.py):
- `append(stream_id, expected_version, events, context)` writes the events as versions
  expected_version+1.. of the stream, plus one outbox row each, in the caller's transaction.
  If the stream is not at `expected_version` it raises `ConcurrencyConflict` and writes nothing;
  two concurrent appends with the same expected version cannot both commit (the unique
  `(stream_id, stream_version)` constraint turns the loser into a `ConcurrencyConflict`).
- `read_stream(stream_id)` returns the stream in version order, upcast to the current contracts.
- `read_all(after_position)` scans the whole store in position order. Positions are assigned at
  insert, not at commit, so on PostgreSQL a live scan may pass a position that a slower transaction
  commits later. It is meant for offline work (exports, audits of a quiet store); live consumers read
  Kafka, which the outbox relay feeds without a cursor and therefore without that hazard.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import RowMapping, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from shared.contracts import Event, EventRegistry
from shared.envelope import Envelope
from shared.eventstore.access_log import AccessOperation
from shared.eventstore.schema import events as events_table
from shared.eventstore.schema import outbox as outbox_table
from shared.ids import new_id


class ConcurrencyConflict(Exception):
    """The stream was not at the expected version: someone else appended first."""

    def __init__(self, stream_id: str, expected_version: int, actual_version: int | None) -> None:
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        actual = "unknown (a concurrent append won)" if actual_version is None else str(actual_version)
        super().__init__(f"stream {stream_id} expected at version {expected_version}, is at {actual}")


@dataclass(frozen=True, kw_only=True, slots=True)
class CommandContext:
    """Who caused the events and why: copied into every envelope the command produces."""

    actor: str  # "<AGENCY>:<client id>", e.g. "COA:placement-service"
    correlation_id: str
    causation_id: str | None = None
    traceparent: str | None = None
    # Set for a command a client sent over HTTP: the unit of work then records the write in the access
    # log, one row per subject of the events appended, in the command's own transaction.
    access: AccessOperation | None = None


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    position: int
    envelope: Envelope
    event: Event


# The ids of the events appended while handling one HTTP request, in order: the edge middleware puts a
# fresh list here for each request and returns the ids in response headers (read-your-writes; see
# shared/http.py). Outside a request (consumers, scheduler) it is None and nothing is collected.
appended_event_ids: ContextVar[list[str] | None] = ContextVar("appended_event_ids", default=None)


class EventStore:
    """Session-bound: it never commits; the unit of work that owns the session does."""

    def __init__(self, session: AsyncSession, registry: EventRegistry, *, source: str, topic: str) -> None:
        self._session = session
        self._registry = registry
        self._source = source
        self._topic = topic
        self.appended = 0  # events appended through this store; counted as metrics when the unit commits
        # Writes for the access log: (operation, activity, subject, legal basis) per event appended for a
        # client; the unit of work writes them at commit.
        self.accessed: list[tuple[AccessOperation, str, str, str]] = []

    async def version(self, stream_id: str) -> int:
        """The stream's current version: 0 for a stream that does not exist yet."""
        result = await self._session.execute(
            select(func.max(events_table.c.stream_version)).where(events_table.c.stream_id == stream_id)
        )
        return int(result.scalar_one() or 0)

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        new_events: Sequence[Event],
        context: CommandContext,
    ) -> list[RecordedEvent]:
        if not new_events:
            return []
        recorded_at = datetime.now(UTC)
        envelopes = [
            Envelope(
                id=new_id(),
                source=self._source,
                type=event.type_name,
                subject=event.subject,
                time=recorded_at,
                occurredat=event.occurred_at,
                schemaversion=event.schema_version,
                actor=context.actor,
                correlationid=context.correlation_id,
                causationid=context.causation_id,
                streamid=stream_id,
                streamversion=expected_version + offset,
                legalbasis=event.legal_basis,
                traceparent=context.traceparent,
                data=event.data(),
            )
            for offset, event in enumerate(new_events, start=1)
        ]
        connection = await self._session.connection()
        try:
            if connection.dialect.name == "postgresql":
                positions = await self._insert_checked(connection, stream_id, expected_version, envelopes)
            else:
                positions = await self._insert_after_version_check(stream_id, expected_version, envelopes)
        except IntegrityError as error:
            raise ConcurrencyConflict(stream_id, expected_version, None) from error
        self.appended += len(envelopes)
        if context.access is not None:
            self.accessed.extend(
                (context.access, event.type_name, event.subject, event.legal_basis) for event in new_events
            )
        collected = appended_event_ids.get()
        if collected is not None:
            collected.extend(envelope.id for envelope in envelopes)
        return [
            RecordedEvent(position, envelope, event)
            for position, envelope, event in zip(positions, envelopes, new_events, strict=True)
        ]

    async def _insert_checked(
        self, connection: AsyncConnection, stream_id: str, expected_version: int, envelopes: list[Envelope]
    ) -> list[int]:
        """PostgreSQL: the version check, the events and their outbox rows in one statement, one round
        trip (_APPEND_CHECKED). The check and the insert see one snapshot; a concurrent append that
        commits in between makes the insert wait and then fail on the unique (stream, version) key."""
        first = envelopes[0]
        result = await connection.exec_driver_sql(
            _APPEND_CHECKED,
            (
                stream_id,
                expected_version,
                self._topic,
                _utc(first.time),
                first.actor,
                first.correlationid,
                first.causationid,
                first.traceparent,
                [envelope.id for envelope in envelopes],
                [envelope.type for envelope in envelopes],
                [envelope.schemaversion for envelope in envelopes],
                [envelope.subject for envelope in envelopes],
                [_utc(envelope.occurredat) for envelope in envelopes],
                [envelope.legalbasis for envelope in envelopes],
                [json.dumps(envelope.data) for envelope in envelopes],
            ),
        )
        rows = result.all()
        current = int(rows[0].current_version)
        if current != expected_version:
            raise ConcurrencyConflict(stream_id, expected_version, current)
        by_id = {row.event_id: int(row.position) for row in rows}
        return [by_id[envelope.id] for envelope in envelopes]

    async def _insert_after_version_check(
        self, stream_id: str, expected_version: int, envelopes: list[Envelope]
    ) -> list[int]:
        """SQLite: every transaction begins IMMEDIATE, so nobody writes between the check and the insert;
        three statements on an embedded database cost no round trips."""
        current = await self.version(stream_id)
        if current != expected_version:
            raise ConcurrencyConflict(stream_id, expected_version, current)
        result = await self._session.execute(
            insert(events_table).returning(events_table.c.position, sort_by_parameter_order=True),
            [_row(envelope) for envelope in envelopes],
        )
        positions = [int(p) for p in result.scalars().all()]
        await self._session.execute(
            insert(outbox_table),
            [{"event_position": position, "topic": self._topic} for position in positions],
        )
        return positions

    async def read_stream(self, stream_id: str) -> list[RecordedEvent]:
        result = await self._session.execute(
            select(events_table)
            .where(events_table.c.stream_id == stream_id)
            .order_by(events_table.c.stream_version)
        )
        return [self._decode(row) for row in result.mappings()]

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        result = await self._session.execute(
            select(events_table)
            .where(events_table.c.position > after_position)
            .order_by(events_table.c.position)
            .limit(limit)
        )
        return [self._decode(row) for row in result.mappings()]

    def _decode(self, row: RowMapping) -> RecordedEvent:
        envelope = envelope_from_row(row, source=self._source)
        event = self._registry.decode(envelope.type, envelope.schemaversion, envelope.data)
        return RecordedEvent(int(row["position"]), envelope, event)


# One append on PostgreSQL, one round trip: the stream's current version, the events (only if the stream
# is at the expected version) and one outbox row per event; it always returns one row with the current
# version, plus the position of every event inserted. A client's fabricated expected version ahead of the
# stream inserts nothing (no gap), as a stale one does. Values shared by the events of one append are
# scalars, the rest arrays (one element per event), so the statement text, and with it the prepared
# statement that asyncpg keeps per connection, is the same for any number of events.
_APPEND_CHECKED = """
WITH current_version AS (
    SELECT coalesce(max(stream_version), 0) AS version FROM events WHERE stream_id = $1
), appended AS (
    INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, subject, occurred_at,
                        recorded_at, actor, correlation_id, causation_id, legal_basis, traceparent, payload)
    SELECT new.event_id, $1, $2 + new.n, new.event_type, new.schema_version, new.subject, new.occurred_at,
           $4, $5, $6, $7, new.legal_basis, $8, new.payload::jsonb
    FROM unnest($9::varchar[], $10::varchar[], $11::int[], $12::varchar[], $13::timestamptz[],
                $14::varchar[], $15::text[])
         WITH ORDINALITY AS new(event_id, event_type, schema_version, subject, occurred_at, legal_basis,
                                payload, n)
    WHERE (SELECT version FROM current_version) = $2
    ORDER BY new.n
    RETURNING position, event_id
), outboxed AS (
    INSERT INTO outbox (event_position, topic) SELECT position, $3 FROM appended ORDER BY position
)
SELECT current_version.version AS current_version, appended.position, appended.event_id
FROM current_version LEFT JOIN appended ON true
"""


def _utc(moment: datetime) -> datetime:
    """As the timestamp columns' own conversion (schema.UTCDateTime) does for the ORM path."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are not stored; give a time zone")
    return moment.astimezone(UTC)


def _row(envelope: Envelope) -> dict[str, object]:
    return {
        "event_id": envelope.id,
        "stream_id": envelope.streamid,
        "stream_version": envelope.streamversion,
        "event_type": envelope.type,
        "schema_version": envelope.schemaversion,
        "subject": envelope.subject,
        "occurred_at": envelope.occurredat,
        "recorded_at": envelope.time,
        "actor": envelope.actor,
        "correlation_id": envelope.correlationid,
        "causation_id": envelope.causationid,
        "legal_basis": envelope.legalbasis,
        "traceparent": envelope.traceparent,
        "payload": envelope.data,
    }


def envelope_from_row(row: RowMapping, *, source: str) -> Envelope:
    """Rebuild the envelope of a stored event. The store does not repeat `source` on every row:
    it is the service that owns the store."""
    return Envelope(
        id=row["event_id"],
        source=source,
        type=row["event_type"],
        subject=row["subject"],
        time=row["recorded_at"],
        occurredat=row["occurred_at"],
        schemaversion=row["schema_version"],
        actor=row["actor"],
        correlationid=row["correlation_id"],
        causationid=row["causation_id"],
        streamid=row["stream_id"],
        streamversion=row["stream_version"],
        legalbasis=row["legal_basis"],
        traceparent=row["traceparent"],
        data=dict(row["payload"]),
    )
