"""Real servers for the tests: Apache Kafka and PostgreSQL, started by the project's own scripts.

If ASIELKETEN_TEST_KAFKA / ASIELKETEN_TEST_POSTGRES are set (as `make test` does after starting both),
the tests use those; otherwise the first test that needs a server starts it (and stops it at the end),
so `pytest tests/messaging` also works on its own.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KAFKA_SCRIPT = REPO / "deploy" / "kafka" / "kafka.sh"
POSTGRES_SCRIPT = REPO / "deploy" / "postgres" / "postgres.sh"
POSTGRES_BASE = "postgresql+asyncpg://asielketen:asielketen@127.0.0.1:5432"


def free_port() -> int:
    """A TCP port that is free now (and whose successor, for Kafka's controller, is free too)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        with socket.socket() as neighbour:
            try:
                neighbour.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair found")


@contextmanager
def kafka_broker() -> Iterator[str]:
    existing = os.environ.get("ASIELKETEN_TEST_KAFKA")
    if existing:
        yield existing
        return
    data_dir = Path(tempfile.mkdtemp(prefix="asielketen-test-kafka-"))
    port = free_port()
    subprocess.run([str(KAFKA_SCRIPT), "start", str(data_dir), str(port)], check=True)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([str(KAFKA_SCRIPT), "stop", str(data_dir)], check=False)


@contextmanager
def postgres_server() -> Iterator[str]:
    existing = os.environ.get("ASIELKETEN_TEST_POSTGRES")
    if existing:
        yield existing
        return
    holder = str(os.getpid())
    subprocess.run([str(POSTGRES_SCRIPT), "ensure", holder], check=True)
    try:
        yield POSTGRES_BASE
    finally:
        subprocess.run([str(POSTGRES_SCRIPT), "stop", holder], check=False)


def free_port_range(count: int) -> int:
    """The first of `count` consecutive TCP ports that are all free now."""
    for _ in range(100):
        base = free_port()
        sockets = []
        try:
            for offset in range(count):
                probe = socket.socket()
                sockets.append(probe)
                probe.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
        finally:
            for probe in sockets:
                probe.close()
    raise RuntimeError(f"no {count} consecutive free ports found")
