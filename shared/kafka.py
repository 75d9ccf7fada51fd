"""Kafka clients with the settings this chain relies on, and every call bounded in time.

aiokafka's defaults differ from the Java client's (acks=1, no idempotence), so producers here set
`acks="all"` and `enable_idempotence=True` explicitly. With idempotence on, `send_and_wait()` and
`stop()` can hang while the broker is down (aiokafka issue #1101), so nothing here awaits Kafka
without `asyncio.timeout`: a broker outage becomes a backlog and a log line, never a hung service.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError

log = logging.getLogger(__name__)

KAFKA_CALL_TIMEOUT_S = 10.0

# Events are kept forever so every read model can be rebuilt from offset 0.
FOREVER = {"retention.ms": "-1", "retention.bytes": "-1"}


def events_topic(service: str) -> str:
    return f"{service}.events"


def dead_letter_topic(consumer: str) -> str:
    return f"{consumer}.dlq"


def make_producer(bootstrap_servers: str, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=int(KAFKA_CALL_TIMEOUT_S * 1000),
        linger_ms=2,
    )


async def start_bounded(
    client: AIOKafkaProducer | AIOKafkaConsumer | AIOKafkaAdminClient, timeout: float = KAFKA_CALL_TIMEOUT_S
) -> None:
    """Start a client within `timeout`; on failure it is stopped again and the error raised."""
    try:
        async with asyncio.timeout(timeout):
            await client.start()
    except BaseException:
        await stop_quietly(client)
        raise


async def stop_quietly(client: Any, timeout: float = 5.0) -> None:
    """Stop a client, giving up after `timeout`: a dead broker must not keep a service from stopping."""
    try:
        async with asyncio.timeout(timeout):
            if isinstance(client, AIOKafkaAdminClient):
                await client.close()
            else:
                await client.stop()
    except Exception as error:  # stopping is best effort; the process is going away or retrying
        log.info("kafka client did not stop cleanly: %r", error)
        await _abandon(client, timeout)


async def _abandon(client: Any, timeout: float) -> None:
    """Close what a cancelled `stop()` left running. A producer's stop() first waits for its pending
    batches, which never come while the broker is down; cancelled there, it leaves its sender task and
    connections retrying in the background for ever (one more after every outage). This uses aiokafka
    internals, each step guarded, since aiokafka has no public "close now" call."""
    sender = getattr(client, "_sender", None)
    accumulator = getattr(client, "_message_accumulator", None)
    fetcher = getattr(client, "_fetcher", None)
    connections = getattr(client, "client", None) or getattr(client, "_client", None)
    if sender is not None:
        await _attempt(sender.close, timeout)  # cancels the sender task: nothing is retried any more
    if accumulator is not None:  # release whoever still waits for those batches
        await _attempt(lambda: _fail_pending(accumulator), timeout)
    if fetcher is not None:
        await _attempt(fetcher.close, timeout)
    if connections is not None:
        await _attempt(connections.close, timeout)  # stops the metadata task, closes the sockets


async def _fail_pending(accumulator: Any) -> None:
    accumulator.fail_all(KafkaConnectionError("the producer was abandoned while the broker was away"))


async def _attempt(step: Callable[[], Awaitable[Any]], timeout: float) -> None:
    try:
        async with asyncio.timeout(timeout):
            await step()
    except Exception as error:
        log.info("kafka client could not be closed completely: %r", error)


async def ensure_topics(
    bootstrap_servers: str,
    topics: dict[str, int],
    *,
    replication_factor: int = 1,
    timeout: float = 30.0,
) -> list[str]:
    """Create the topics that do not exist yet (name → partitions), retained forever.
    Returns the names it created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000)
    async with asyncio.timeout(timeout):
        await start_bounded(admin, timeout)
        try:
            existing = set(await admin.list_topics())
            missing = [
                NewTopic(
                    name,
                    num_partitions=partitions,
                    replication_factor=replication_factor,
                    topic_configs=dict(FOREVER),
                )
                for name, partitions in topics.items()
                if name not in existing
            ]
            if missing:
                response = await admin.create_topics(missing)
                for name, code, *_ in getattr(response, "topic_errors", ()):
                    if code not in (0, 36):  # 36: TOPIC_ALREADY_EXISTS (a concurrent creator won)
                        raise RuntimeError(f"creating topic {name} failed with Kafka error code {code}")
            return [topic.name for topic in missing]
        finally:
            await stop_quietly(admin)


async def wait_until_ready(bootstrap_servers: str, timeout: float = 60.0) -> None:
    """Wait until the broker answers a metadata request."""
    deadline = asyncio.get_running_loop().time() + timeout
    last_error: Exception | None = None
    while asyncio.get_running_loop().time() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=5_000)
        try:
            await start_bounded(admin, 5.0)
            async with asyncio.timeout(5.0):
                await admin.list_topics()
            return
        except Exception as error:  # not ready yet: retry until the deadline
            last_error = error
            await asyncio.sleep(0.5)
        finally:
            await stop_quietly(admin)
    raise TimeoutError(f"Kafka at {bootstrap_servers} not ready after {timeout}s: {last_error!r}")
