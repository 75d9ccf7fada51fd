"""The outbox relay: publishes committed events to Kafka, in order, at least once.

Why a queue and not a cursor. Positions are assigned when a row is inserted, but transactions commit
in any order, so a relay that remembers "published up to position N" can pass a lower position that a
slower transaction commits later, and skip it for ever (the classic event-store bug: Marten #3321,
Eventuous #222, prooph #189). Locking the table to serialise inserts would avoid that at the cost of
all write concurrency. Instead the outbox is a queue: the relay publishes every row still present,
lowest id first, and deletes a row only after Kafka acknowledged it. A row that commits late is simply
there on the next poll; nothing can be skipped by construction.

Order per subject. Events of one stream commit in version order (the unique (stream, version) key
makes a second writer wait for the first), so they enter the queue in that order and are sent in that
order by one idempotent producer to one partition (key = subject). Only one relay per database sends
at a time: on PostgreSQL a session advisory lock elects it, so replicas of a service stand by. The leader
reads and deletes outbox rows on that same session, in autocommit (one round trip per statement): a
session that lost its lock (the server restarted, the link broke) fails its next statement, so a relay
never publishes beside a new leader without knowing; and at a command's pace the relay costs three round
trips per batch instead of the fifteen that a separate lock check and a pooled transaction per step took
(bench/http.py's CPU per command).

At least once. A crash between Kafka's acknowledgement and the delete republishes the batch; the
consumers deduplicate by event id (shared.consumer).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import AsyncIterator

from aiokafka import AIOKafkaProducer
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.crashpoints import OUTBOX_PUBLISHED_NOT_DELETED, crash_point
from shared.envelope import to_kafka
from shared.eventstore.schema import events, outbox
from shared.eventstore.store import envelope_from_row
from shared.kafka import KAFKA_CALL_TIMEOUT_S, make_producer, start_bounded, stop_quietly
from shared.metrics import observe_published

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        source: str,
        bootstrap_servers: str,
        client_id: str,
        batch_size: int = 500,
        idle_interval_s: float = 0.5,
        kafka_timeout_s: float = KAFKA_CALL_TIMEOUT_S,
    ) -> None:
        self._engine = engine
        self._source = source
        self._bootstrap_servers = bootstrap_servers
        self._client_id = client_id
        self._batch_size = batch_size
        self._idle_interval_s = idle_interval_s
        self._kafka_timeout_s = kafka_timeout_s
        self._wakeup = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self._leader: AsyncConnection | None = None
        self._lock_key = zlib.crc32(f"outbox-relay:{source}".encode())
        self.published_total = 0
        self.last_error: str | None = None

    def notify(self) -> None:
        """Tell the relay that new rows were committed, so it need not wait for its next poll."""
        self._wakeup.set()

    async def backlog(self) -> int:
        async with self._engine.connect() as connection:
            return int((await connection.execute(select(func.count()).select_from(outbox))).scalar_one())

    async def run(self, stopping: asyncio.Event) -> None:
        """Publish until `stopping` is set. Kafka or database trouble is logged and retried with backoff."""
        backoff = 0.2
        try:
            while not stopping.is_set():
                try:
                    if not await self._is_leader():
                        await self._sleep(stopping, 2.0)
                        continue
                    self._wakeup.clear()  # before reading: a commit from now on wakes the next sleep
                    published = await self.publish_batch()
                    backoff = 0.2
                    self.last_error = None
                    if published == 0:
                        await self._sleep(stopping, self._idle_interval_s)
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # broker or database down: keep the backlog, retry
                    self.last_error = repr(error)
                    log.warning("outbox relay: %r; retrying in %.1fs", error, backoff)
                    await self._drop_producer()
                    await self._resign()  # its session may be the broken part: elect again
                    await self._sleep(stopping, backoff)
                    backoff = min(backoff * 2, 5.0)
        finally:
            await self._drop_producer()
            await self._resign()

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        """The leader's own session (autocommit) once elected on PostgreSQL; otherwise (SQLite, or a
        caller that publishes without running the relay) a pooled connection in a transaction."""
        if self._leader is not None:
            yield self._leader
            return
        async with self._engine.begin() as connection:
            yield connection

    async def publish_batch(self) -> int:
        """Publish the oldest unpublished rows (one batch) and delete them. Returns how many."""
        async with self._connection() as connection:
            result = await connection.execute(
                select(outbox.c.id, outbox.c.topic, events)
                .join(events, events.c.position == outbox.c.event_position)
                .order_by(outbox.c.id)
                .limit(self._batch_size)
            )
            rows = list(result.mappings())
        if not rows:
            return 0
        producer = await self._ensure_producer()
        async with asyncio.timeout(self._kafka_timeout_s):
            acknowledgements = []
            for row in rows:
                message = to_kafka(envelope_from_row(row, source=self._source))
                acknowledgements.append(
                    await producer.send(
                        row["topic"], value=message.value, key=message.key, headers=message.headers
                    )
                )
            await asyncio.gather(*acknowledgements)
        crash_point(OUTBOX_PUBLISHED_NOT_DELETED)  # chaos runs only: published, rows still in the outbox
        async with self._connection() as connection:
            await connection.execute(delete(outbox).where(outbox.c.id.in_([row["id"] for row in rows])))
        self.published_total += len(rows)
        observe_published(self._source, (row["recorded_at"] for row in rows))
        return len(rows)

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = make_producer(self._bootstrap_servers, self._client_id)
            await start_bounded(producer, self._kafka_timeout_s)
            self._producer = producer
        return self._producer

    async def _drop_producer(self) -> None:
        # A producer that timed out may hold half-sent batches; a fresh one starts a clean session.
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await stop_quietly(producer)

    async def _is_leader(self) -> bool:
        if self._engine.dialect.name != "postgresql":
            return True  # SQLite is embedded: one process owns the file
        if self._leader is not None:
            return True  # its next statement says whether the session (and the lock) still holds
        connection = await self._engine.connect()
        try:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            acquired = (
                await connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._lock_key})
            ).scalar_one()
        except Exception:
            await connection.invalidate()  # a session that may hold the lock must not go back to the pool
            await connection.close()
            raise
        if not acquired:
            await connection.close()
            return False
        self._leader = connection
        return True

    async def _resign(self) -> None:
        if self._leader is not None:
            connection, self._leader = self._leader, None
            try:
                # The advisory lock belongs to the PostgreSQL session. Closing a pooled connection only
                # returns it to the pool, session and lock included, so no standby could ever take over:
                # invalidate it, which ends the session and releases the lock.
                await connection.invalidate()
                await connection.close()
            except Exception as error:
                log.info("outbox relay: leader connection did not close cleanly: %r", error)

    async def _sleep(self, stopping: asyncio.Event, seconds: float) -> None:
        waiters = [asyncio.ensure_future(stopping.wait()), asyncio.ensure_future(self._wakeup.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
