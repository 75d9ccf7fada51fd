"""Tables every service has: its event store, its outbox, and its consumers' bookkeeping.

- `events`: append-only; `position` is the store-wide order of insertion; `(stream_id, stream_version)`
  is unique, which is what makes a lost update impossible (a concurrent append with the same expected
  version fails on this constraint instead of overwriting).
- `outbox`: one row per event still to be published, written in the same transaction as the event and
  deleted once Kafka has acknowledged it (see shared.outbox for why it is a queue and not a cursor).
- `consumer_positions`: per consumer and partition, the next Kafka offset to read; written in the same
  transaction as the consumer's effect, so the database, not Kafka, is the truth about what was applied.
- `processed_events`: per consumer, the ids of events already applied (or dead-lettered), so a message
  that Kafka delivers twice (a relay restart republishes, a rebalance re-delivers) changes nothing.
- `idempotency_keys`: per client and `Idempotency-Key`, a fingerprint of the command and, once answered,
  the response to replay; claimed in the same transaction as the command's events (shared/idempotency.py).
- `access_log`: the access log (Logboek Dataverwerkingen): one row per operation on a client's behalf per
  person (data subject) whose data it read or wrote; append-only, enforced by the database
  (shared/eventstore/access_log.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
Position = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")

metadata = MetaData()

events = Table(
    "events",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("stream_id", String(200), nullable=False),
    Column("stream_version", Integer, nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("subject", String(100), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("correlation_id", String(64), nullable=False),
    Column("causation_id", String(64), nullable=True),
    Column("legal_basis", String(300), nullable=False),
    Column("traceparent", String(64), nullable=True),
    Column("payload", Json, nullable=False),
    UniqueConstraint("stream_id", "stream_version", name="uq_events_stream_version"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("event_position", Position, ForeignKey("events.position"), nullable=False, unique=True),
    Column("topic", String(200), nullable=False),
)

consumer_positions = Table(
    "consumer_positions",
    metadata,
    Column("consumer", String(100), primary_key=True),
    Column("topic", String(200), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("next_offset", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

processed_events = Table(
    "processed_events",
    metadata,
    Column("consumer", String(100), primary_key=True),
    Column("event_id", String(36), primary_key=True),
    Column("outcome", String(20), nullable=False),  # applied | dead-lettered
    Column("processed_at", UTCDateTime, nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("client", String(200), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
    Column("status_code", Integer, nullable=True),  # null: claimed with the events, not answered yet
    Column("headers", Json, nullable=True),
    Column("body", Text, nullable=True),
    Column("event_ids", Json, nullable=True),
)

access_log = Table(
    "access_log",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("operation_id", String(36), nullable=False),  # shared by the rows of one operation
    Column("trace_id", String(64), nullable=False, index=True),  # the request's correlation id
    Column("name", String(300), nullable=False),  # "GET /v1/persons/{person_id}/timeline"
    Column("kind", String(10), nullable=False),  # read | write
    Column("service", String(50), nullable=False),
    Column("agency", String(50), nullable=False),
    Column("client_id", String(200), nullable=False, index=True),
    Column("processing_activity", String(100), nullable=False),
    Column("legal_basis", String(300), nullable=False),
    Column("data_subject_id", String(100), nullable=False, index=True),  # pseudonymous person/household id
    Column("recorded_at", UTCDateTime, nullable=False),
)
