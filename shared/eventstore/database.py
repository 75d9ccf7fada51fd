"""Engines and sessions for the two supported stores: SQLite (embedded default) and PostgreSQL.

SQLite: WAL, a generous busy timeout, and every transaction opened with BEGIN IMMEDIATE, so two
writers in one process queue for the lock instead of failing half-way with "database is locked"
(SQLAlchemy's documented recipe for pysqlite/aiosqlite transaction control).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import Table, event, insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

# Every PostgreSQL statement and every new connection is bounded. Without a bound
# a half-open connection — the server or a middlebox gone silent without closing it — hangs the consumer,
# the outbox relay or a request on it for ever; the chaos run's blackholed PostgreSQL link did exactly
# that (chaos/). A failed statement is an error like any other: the relay and the consumers retry, the
# client gets a 5xx. Migrations use an engine of their own, without these bounds.
POSTGRES_CONNECT_TIMEOUT_S = 10.0
POSTGRES_COMMAND_TIMEOUT_S = 30.0
# The other half: when our side gives up on a half-open connection, the server's session lives on (its
# peer never said goodbye), holding whatever it held — the outbox relay's leader lock (a session advisory
# lock), a consumer's row locks in an open transaction — so no other connection could take them over: the
# chaos run's chain stood still after the link healed. The server ends such sessions itself: one idle in
# a transaction after a minute, one idle outside a transaction after two (the relay's leader checks its
# session every few seconds; a pooled connection the server ended is refused at checkout).
POSTGRES_IDLE_IN_TRANSACTION_TIMEOUT_S = 60.0
POSTGRES_IDLE_SESSION_TIMEOUT_S = 120.0


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    command_timeout_s: float = POSTGRES_COMMAND_TIMEOUT_S,
    idle_in_transaction_timeout_s: float = POSTGRES_IDLE_IN_TRANSACTION_TIMEOUT_S,
    idle_session_timeout_s: float = POSTGRES_IDLE_SESSION_TIMEOUT_S,
) -> AsyncEngine:
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        # No pool_pre_ping: on asyncpg it costs three round trips per checkout (BEGIN, a query, ROLLBACK),
        # more than the append it guards. Instead a connection the server closed (restart, idle timeout,
        # pg_terminate_backend) is noticed locally at checkout (_discard_closed_connections) and one that
        # goes stale unnoticed is replaced after half an hour; a statement that still meets a dead
        # connection fails, SQLAlchemy invalidates the pool, and the command fails before anything was
        # committed (the caller may retry it, as after any other failed transaction).
        pool_recycle=1800,
        connect_args={
            "timeout": POSTGRES_CONNECT_TIMEOUT_S,
            "command_timeout": command_timeout_s,
            "server_settings": {
                "idle_in_transaction_session_timeout": str(int(idle_in_transaction_timeout_s * 1000)),
                "idle_session_timeout": str(int(idle_session_timeout_s * 1000)),
            },
            **_loopback_without_tls(url),
        },
    )
    _discard_closed_connections(engine)
    return engine


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _loopback_without_tls(url: str) -> dict[str, Any]:
    """asyncpg's default (sslmode=prefer) is TLS whenever the server offers it, also to 127.0.0.1, where
    it protects nothing (the bytes never leave this machine's kernel) and costs a handshake per connection
    and an encryption per message. So: no TLS to a loopback host, unless the URL or PGSSLMODE asks for
    an sslmode. Every other host keeps asyncpg's default."""
    parsed = make_url(url)
    if parsed.host not in LOOPBACK_HOSTS or {"ssl", "sslmode"} & set(parsed.query):
        return {}
    if os.environ.get("PGSSLMODE"):
        return {}
    return {"ssl": False}


def _discard_closed_connections(engine: AsyncEngine) -> None:
    """A pre-ping without the round trip: asyncpg marks a connection closed as soon as the server's
    goodbye (or the socket's end) has been read; such a connection is refused at checkout, and the
    pool tries again with another one (SQLAlchemy's documented DisconnectionError protocol)."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        driver = record.driver_connection
        if driver is not None and driver.is_closed():
            raise DisconnectionError("the server closed this connection")


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let us issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "busy_timeout=30000", "synchronous=NORMAL", "foreign_keys=ON"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


COPY_FROM_ROWS = 50


async def append_rows(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert many rows of one table inside the session's transaction, as fast as the store allows.

    On PostgreSQL, from `COPY_FROM_ROWS` rows: COPY (binary) on the session's own connection, so it
    commits or rolls back with everything else; about four times faster than a multi-row INSERT of the
    same rows, which is what a read-side rebuild spends its time on. Values go through the columns' bind
    processors first (UTC timestamps, JSON), as an INSERT would. A unique violation is raised as
    SQLAlchemy's IntegrityError, as an INSERT would. Elsewhere, for fewer rows (a command's access-log
    rows, a live consumer's few facts: COPY's extra round trips cost more than it saves) and for rows that
    do not all give the same columns: one INSERT.
    """
    if not rows:
        return
    connection = await session.connection()
    names = list(rows[0])
    if (
        connection.dialect.name != "postgresql"
        or len(rows) < COPY_FROM_ROWS
        or any(list(row) != names for row in rows)
    ):
        await session.execute(insert(table), list(rows))
        return
    dialect = connection.dialect
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]
    converted = [(n, process) for n, process in enumerate(processors) if process is not None]
    records = []
    for row in rows:
        values = list(row.values())
        for n, process in converted:
            values[n] = process(values[n])
        records.append(values)
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    if not driver.is_in_transaction():
        # SQLAlchemy's asyncpg adapter sends BEGIN only before its first statement; COPY goes around the
        # adapter, so in a unit of work that has run no statement yet it would commit on its own, apart
        # from the rest. One statement through the adapter opens the transaction first.
        await connection.exec_driver_sql("SELECT 1")
    try:
        await driver.copy_records_to_table(table.name, records=records, columns=names)
    except asyncpg.IntegrityConstraintViolationError as error:
        raise IntegrityError(f"COPY {table.name}", None, error) from error
