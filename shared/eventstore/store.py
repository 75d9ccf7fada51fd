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

from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import RowMapping, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

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
        current = await self.version(stream_id)
        if current != expected_version:
            raise ConcurrencyConflict(stream_id, expected_version, current)
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
        rows = [_row(envelope) for envelope in envelopes]
        try:
            result = await self._session.execute(
                insert(events_table).returning(events_table.c.position, sort_by_parameter_order=True),
                rows,
            )
            positions = [int(p) for p in result.scalars().all()]
            await self._session.execute(
                insert(outbox_table),
                [{"event_position": position, "topic": self._topic} for position in positions],
            )
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
