"""Alembic support shared by the services: the event-store tables as a migration step, the async
`env.py` body, and `upgrade_to_head` that a service runs at start-up (or `asielketen migrate`).

Each service owns its own Alembic script folder and version table in its own database; this module
only saves them from writing the same code five times.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from shared.eventstore.schema import Json, Position, UTCDateTime

# Any number will do, as long as every replica of a service uses the same one: it keeps two replicas
# starting at once on one PostgreSQL database from running the same migration twice.
_MIGRATION_LOCK_KEY = 0x61736B6E


def create_event_store_tables(op: Any) -> None:
    """Revision 0001 of every service: the event store, outbox and consumer bookkeeping."""
    op.create_table(
        "events",
        sa.Column("position", Position, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("stream_id", sa.String(200), nullable=False),
        sa.Column("stream_version", sa.Integer, nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("subject", sa.String(100), nullable=False),
        sa.Column("occurred_at", UTCDateTime, nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("causation_id", sa.String(64), nullable=True),
        sa.Column("legal_basis", sa.String(300), nullable=False),
        sa.Column("traceparent", sa.String(64), nullable=True),
        sa.Column("payload", Json, nullable=False),
        sa.UniqueConstraint("stream_id", "stream_version", name="uq_events_stream_version"),
    )
    op.create_index("ix_events_subject", "events", ["subject"])
    op.create_table(
        "outbox",
        sa.Column("id", Position, primary_key=True, autoincrement=True),
        sa.Column("event_position", Position, sa.ForeignKey("events.position"), nullable=False, unique=True),
        sa.Column("topic", sa.String(200), nullable=False),
    )
    op.create_table(
        "consumer_positions",
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("topic", sa.String(200), primary_key=True),
        sa.Column("partition", sa.Integer, primary_key=True),
        sa.Column("next_offset", sa.BigInteger, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("processed_at", UTCDateTime, nullable=False),
    )


def create_idempotency_table(op: Any) -> None:
    """The Idempotency-Key store (shared/idempotency.py): a revision of each service that takes commands."""
    op.create_table(
        "idempotency_keys",
        sa.Column("client", sa.String(200), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("headers", Json, nullable=True),
        sa.Column("body", sa.Text, nullable=True),
        sa.Column("event_ids", Json, nullable=True),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])


def drop_idempotency_table(op: Any) -> None:
    op.drop_index("ix_idempotency_keys_expires_at", "idempotency_keys")
    op.drop_table("idempotency_keys")


def create_access_log_table(op: Any) -> None:
    """The access log (shared/eventstore/access_log.py), append-only: the database itself refuses an
    UPDATE, DELETE or TRUNCATE of it, so no code path and no mistaken script can rewrite what was read."""
    op.create_table(
        "access_log",
        sa.Column("id", Position, primary_key=True, autoincrement=True),
        sa.Column("operation_id", sa.String(36), nullable=False),
        sa.Column("trace_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("service", sa.String(50), nullable=False),
        sa.Column("agency", sa.String(50), nullable=False),
        sa.Column("client_id", sa.String(200), nullable=False),
        sa.Column("processing_activity", sa.String(100), nullable=False),
        sa.Column("legal_basis", sa.String(300), nullable=False),
        sa.Column("data_subject_id", sa.String(100), nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_access_log_client_id", "access_log", ["client_id"])
    op.create_index("ix_access_log_data_subject_id", "access_log", ["data_subject_id"])
    op.create_index("ix_access_log_trace_id", "access_log", ["trace_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION access_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'the access log is append-only: % refused', TG_OP; END $$"
        )
        op.execute(
            "CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log "
            "FOR EACH ROW EXECUTE FUNCTION access_log_is_append_only()"
        )
        op.execute(
            "CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION access_log_is_append_only()"
        )
    else:  # SQLite has no TRUNCATE
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER access_log_no_{operation.lower()} BEFORE {operation} ON access_log "
                "BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END"
            )


def drop_access_log_table(op: Any) -> None:
    op.drop_table("access_log")  # its indexes and triggers go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION access_log_is_append_only()")


def drop_event_store_tables(op: Any) -> None:
    for table in ("processed_events", "consumer_positions", "outbox", "events"):
        op.drop_table(table)


def run_env(context: Any, target_metadata: sa.MetaData | list[sa.MetaData]) -> None:
    """The body of every service's `env.py` (online mode only: migrations run against a database)."""
    url = context.config.get_main_option("sqlalchemy.url")

    def run(connection: sa.Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()

    async def main() -> None:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                if connection.dialect.name == "postgresql":
                    await connection.execute(text(f"SELECT pg_advisory_lock({_MIGRATION_LOCK_KEY})"))
                    await connection.commit()
                await connection.run_sync(run)
                await connection.commit()
        finally:
            await engine.dispose()

    asyncio.run(main())


def upgrade_to_head(database_url: str, script_location: Path) -> None:
    """Bring a service's database to the newest revision. Blocking: call it in a worker thread."""
    from shared.eventstore.database import is_sqlite

    if is_sqlite(database_url):
        database = sa.engine.make_url(database_url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    command.upgrade(config, "head")


async def upgrade_to_head_async(database_url: str, script_location: Path) -> None:
    await asyncio.to_thread(upgrade_to_head, database_url, script_location)
