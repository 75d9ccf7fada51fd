"""The chaos runner's TCP fault proxy, against a real echo server on a real socket: it forwards, delays,
drops and blackholes as told, and switches while connections are open."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from chaos.proxy import FaultProxy, Mode


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(1024):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


@pytest.fixture
async def proxy() -> AsyncIterator[FaultProxy]:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    proxy = FaultProxy("127.0.0.1", int(server.sockets[0].getsockname()[1]))
    await proxy.start()
    yield proxy
    await proxy.stop()
    server.close()
    await server.wait_closed()


async def _connect(proxy: FaultProxy) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", proxy.listen_port)


async def _round_trip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, text: bytes) -> bytes:
    writer.write(text)
    await writer.drain()
    return await asyncio.wait_for(reader.readexactly(len(text)), timeout=2)


async def test_in_pass_mode_bytes_go_to_the_upstream_and_back(proxy: FaultProxy) -> None:
    reader, writer = await _connect(proxy)
    assert await _round_trip(reader, writer, b"hello") == b"hello"
    writer.close()


async def test_latency_delays_every_round_trip_by_both_directions(proxy: FaultProxy) -> None:
    reader, writer = await _connect(proxy)
    await proxy.set_mode(Mode.LATENCY, latency_ms=150)
    started = time.monotonic()
    assert await _round_trip(reader, writer, b"slow") == b"slow"
    assert time.monotonic() - started >= 0.3  # 150 ms there, 150 ms back

    await proxy.set_mode(Mode.PASS)
    started = time.monotonic()
    assert await _round_trip(reader, writer, b"fast") == b"fast"
    assert time.monotonic() - started < 0.3
    writer.close()


async def test_drop_closes_open_connections_and_refuses_new_ones_until_pass(proxy: FaultProxy) -> None:
    reader, writer = await _connect(proxy)
    await _round_trip(reader, writer, b"before")

    await proxy.set_mode(Mode.DROP)
    # the open connection ends (reset or end of stream, as the client sees it)
    with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
        await _round_trip(reader, writer, b"during")
    # a new connection is accepted and closed at once
    new_reader, new_writer = await _connect(proxy)
    with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
        await _round_trip(new_reader, new_writer, b"refused")

    await proxy.set_mode(Mode.PASS)
    reader, writer = await _connect(proxy)
    assert await _round_trip(reader, writer, b"after") == b"after"
    writer.close()


async def test_blackhole_keeps_connections_open_but_silent_even_after_pass(proxy: FaultProxy) -> None:
    reader, writer = await _connect(proxy)
    await _round_trip(reader, writer, b"before")

    await proxy.set_mode(Mode.BLACKHOLE)
    # the open connection is neither answered nor closed: a half-open peer
    writer.write(b"into the void")
    await writer.drain()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.read(100), timeout=0.5)
    assert not reader.at_eof()
    # a new connection is accepted and then never answered either
    new_reader, new_writer = await _connect(proxy)
    new_writer.write(b"hello?")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(new_reader.read(100), timeout=0.5)

    # back to pass: the blackholed connections stay dead (their peer is gone), new ones work
    await proxy.set_mode(Mode.PASS)
    writer.write(b"still there?")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.read(100), timeout=0.5)
    fresh_reader, fresh_writer = await _connect(proxy)
    assert await _round_trip(fresh_reader, fresh_writer, b"fresh") == b"fresh"
    for w in (writer, new_writer, fresh_writer):
        w.close()


async def test_a_connection_to_a_dead_upstream_is_reset(proxy: FaultProxy) -> None:
    dead = FaultProxy("127.0.0.1", 1)  # nothing listens on port 1
    await dead.start()
    try:
        reader, writer = await _connect(dead)
        with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
            await _round_trip(reader, writer, b"anyone?")
    finally:
        await dead.stop()
