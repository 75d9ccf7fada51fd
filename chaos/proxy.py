"""A small TCP fault proxy of our own (tc netem is not available on the machine): it listens on a local
port and forwards every connection to an upstream, and its mode can be switched while it runs.

- `pass`: forward bytes both ways.
- `latency`: forward, but hold every chunk `latency_ms` before passing it on (both directions).
- `drop`: close every open connection at once (a reset as the peer sees it: SO_LINGER 0) and refuse new
  ones (accept and close immediately: the port stays open, as a firewall REJECT would answer).
- `blackhole`: a half-open network. Open connections stop forwarding without being closed, and new ones
  are accepted and then never answered. Connections blackholed stay dead when the mode goes back to `pass`,
  as after a real partition the peer's socket is gone: only the client's own timeouts get it out.

Used by the chaos runner between the services and Kafka (the broker advertises the proxy's port, so
every client connection, not just the bootstrap, goes through it) and between the services and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from dataclasses import dataclass, field
from enum import StrEnum

CHUNK = 64 * 1024


class Mode(StrEnum):
    PASS = "pass"
    LATENCY = "latency"
    DROP = "drop"
    BLACKHOLE = "blackhole"


@dataclass(eq=False)  # identity: kept in a set of open connections
class _Connection:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    blackholed: bool = False
    pumps: list[asyncio.Task[None]] = field(default_factory=list)


class FaultProxy:
    """Forward 127.0.0.1:`listen_port` (0: any free port) to `upstream_host`:`upstream_port`."""

    def __init__(self, upstream_host: str, upstream_port: int, *, listen_port: int = 0) -> None:
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.listen_port = listen_port
        self.mode = Mode.PASS
        self.latency_ms = 0
        self.connections_accepted = 0
        self._server: asyncio.Server | None = None
        self._open: set[_Connection] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.listen_port)
        self.listen_port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in list(self._open):
            await self._close(connection, reset=False)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    @property
    def open_connections(self) -> int:
        return len(self._open)

    async def set_mode(self, mode: Mode, *, latency_ms: int = 0) -> None:
        self.mode = mode
        self.latency_ms = latency_ms if mode is Mode.LATENCY else 0
        if mode is Mode.DROP:
            for connection in list(self._open):
                await self._close(connection, reset=True)
        elif mode is Mode.BLACKHOLE:
            for connection in self._open:
                connection.blackholed = True

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections_accepted += 1
        connection = _Connection(client=writer)
        if self.mode is Mode.DROP:
            await self._close(connection, reset=True)
            return
        self._open.add(connection)
        if self.mode is Mode.BLACKHOLE:
            connection.blackholed = True  # accepted, never answered, never closed by us
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                self.upstream_host, self.upstream_port
            )
        except OSError:
            await self._close(connection, reset=True)  # upstream down: the client sees a reset
            return
        connection.upstream = upstream_writer
        connection.pumps = [
            asyncio.create_task(self._pump(reader, upstream_writer, connection)),
            asyncio.create_task(self._pump(upstream_reader, writer, connection)),
        ]

    async def _pump(
        self, source: asyncio.StreamReader, target: asyncio.StreamWriter, connection: _Connection
    ) -> None:
        try:
            while True:
                chunk = await source.read(CHUNK)
                if not chunk:
                    break
                if connection.blackholed:
                    continue  # swallowed: nothing forwarded, nothing closed
                if self.latency_ms:
                    await asyncio.sleep(self.latency_ms / 1000)
                if connection.blackholed:
                    continue
                target.write(chunk)
                await target.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            # One side finished: end the connection, unless it is blackholed (then it just hangs).
            if not connection.blackholed and connection in self._open:
                await self._close(connection, reset=False)

    async def _close(self, connection: _Connection, *, reset: bool) -> None:
        self._open.discard(connection)
        current = asyncio.current_task()
        for pump in connection.pumps:
            if pump is not current:
                pump.cancel()
        for writer in (connection.client, connection.upstream):
            if writer is None:
                continue
            if reset:
                _abort_on_close(writer)
            writer.close()
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await writer.wait_closed()


def _abort_on_close(writer: asyncio.StreamWriter) -> None:
    """SO_LINGER with a zero timeout: closing sends RST, as a dropped connection looks to the peer."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
