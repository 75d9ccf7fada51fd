"""What a chaos run starts and owns: PostgreSQL databases of its own (the machine's cluster, which it never
stops for good), a private Kafka broker whose advertised listener is a fault proxy, a fault proxy in front
of PostgreSQL for the services, and the five services as OS processes in their own process groups.

Everything started here is stopped in `close()`, by process id, never by name.
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Coroutine
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from shared.auth import ensure_dev_keys
from shared.cli import SERVICES
from shared.supervisor import start_service

REPO = Path(__file__).resolve().parent.parent
KAFKA_SCRIPT = REPO / "deploy" / "kafka" / "kafka.sh"
POSTGRES_SCRIPT = REPO / "deploy" / "postgres" / "postgres.sh"
POSTGRES_HOST, POSTGRES_PORT = "127.0.0.1", 5432
POSTGRES_CREDENTIALS = "asielketen:asielketen"
PUBLISHING = ("intake", "placement", "procedure", "return")  # services with an event store and outbox
CONSUMERS = {  # consumer (= service) name: the topics it applies
    "history": ("intake.events", "placement.events", "procedure.events", "return.events"),
    "placement": ("intake.events", "procedure.events", "return.events"),
    "procedure": ("intake.events",),
    "return": ("intake.events", "procedure.events"),
}
EVENT_TOPICS = tuple(f"{name}.events" for name in PUBLISHING)

T = TypeVar("T")


def free_port() -> int:
    """A TCP port that is free now, whose successor is free too (a Kafka broker needs PORT and PORT+1)."""
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


def free_port_range(count: int) -> int:
    """The first of `count` consecutive free TCP ports (a broker needs two, a cluster of three six)."""
    for _ in range(100):
        base = free_port()
        probes = []
        try:
            for offset in range(count):
                probe = socket.socket()
                probes.append(probe)
                probe.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
    raise RuntimeError(f"no {count} consecutive free ports found")


def postgres_url(database: str, port: int = POSTGRES_PORT) -> str:
    return f"postgresql+asyncpg://{POSTGRES_CREDENTIALS}@{POSTGRES_HOST}:{port}/{database}"


class ProxyHost:
    """The fault proxies run on an event loop of their own, in a thread: whatever the runner's loop is
    busy with (a rebuild, a slow check), the bytes between the services and Kafka keep flowing."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fault-proxies", daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    async def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(self.run(coroutine))

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)


@dataclass
class Service:
    """One running process of a service (the first replica of each service, or an extra one)."""

    name: str
    replica: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    restarts_by_supervisor: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, extra_env: dict[str, str] | None = None) -> None:
        factory = SERVICES[self.name][0]
        self.process = start_service(factory, self.port, {**self.env, **(extra_env or {})}, self.log_path)

    def kill(self) -> None:
        """SIGKILL the whole process group: no clean-up, no goodbye to Kafka or PostgreSQL."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def terminate(self, grace_s: float = 20.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self.kill()


def healthy(url: str, path: str = "/health", timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}{path}", timeout=timeout) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@dataclass
class KafkaNode:
    """One broker of the run's Kafka (deploy/kafka/kafka.sh), listening on `port`."""

    number: int
    data_dir: Path
    port: int

    def pid(self) -> int | None:
        try:
            pid = int((self.data_dir / "kafka.pid").read_text().strip())
        except (OSError, ValueError):
            return None
        cmdline = Path(f"/proc/{pid}/cmdline")
        if not cmdline.exists() or b"kafka.Kafka" not in cmdline.read_bytes():
            return None
        return pid

    def signal(self, sig: signal.Signals) -> None:
        pid = self.pid()
        if pid is None:
            raise RuntimeError(f"broker {self.number} is not running")
        os.kill(pid, sig)


@dataclass
class Kafka:
    """The run's Kafka: one broker (`kafka.sh start`), or a cluster of three (`kafka.sh cluster-start`:
    replication factor 3, min.insync.replicas 2). Node i advertises `advertised_ports[i]`, the port of the
    fault proxy in front of it, so that every client connection goes through a proxy."""

    data_dir: Path
    base_port: int
    advertised_ports: list[int]

    @property
    def clustered(self) -> bool:
        return len(self.advertised_ports) > 1

    @property
    def replication_factor(self) -> int:
        return 3 if self.clustered else 1

    @property
    def nodes(self) -> list[KafkaNode]:
        if not self.clustered:
            return [KafkaNode(1, self.data_dir, self.base_port)]
        return [
            KafkaNode(i + 1, self.data_dir / f"node-{i + 1}", self.base_port + 2 * i)
            for i in range(len(self.advertised_ports))
        ]

    def _script(self, *args: str) -> int:
        env = dict(
            os.environ,
            KAFKA_ADVERTISED_PORT=str(self.advertised_ports[0]),
            KAFKA_ADVERTISED_PORTS=",".join(map(str, self.advertised_ports)),
            KAFKA_START_TIMEOUT="240",  # a loaded machine: the JVMs start slowly
        )
        with (self.data_dir.parent / "kafka-script.log").open("ab") as log:
            return subprocess.run([str(KAFKA_SCRIPT), *args], env=env, stdout=log, stderr=log).returncode

    def start(self) -> None:
        """Start every node that is not running (all of them the first time)."""
        if self.clustered:
            code = self._script("cluster-start", str(self.data_dir), str(self.base_port), "3")
        else:
            code = self._script("start", str(self.data_dir), str(self.base_port))
        if code != 0:
            raise RuntimeError(f"kafka.sh failed to start; see {self.data_dir.parent / 'kafka-script.log'}")

    def stop(self) -> None:
        if self.clustered:
            self._script("cluster-stop", str(self.data_dir))
        else:
            self._script("stop", str(self.data_dir))

    def kill_node(self, node: KafkaNode) -> None:
        node.signal(signal.SIGKILL)
        deadline = time.monotonic() + 30
        while node.pid() is not None and time.monotonic() < deadline:
            time.sleep(0.2)


def postgres_script(*args: str) -> None:
    subprocess.run([str(POSTGRES_SCRIPT), *args], check=True, stdout=subprocess.DEVNULL)


@dataclass
class ChainProcesses:
    """The five services (and any extra replicas) of one chaos run, on its databases and broker."""

    run_dir: Path
    kafka_bootstrap: str  # through the Kafka fault proxy
    database_urls: dict[str, str]  # through the PostgreSQL fault proxy
    replication_factor: int = 1
    services: dict[str, Service] = field(default_factory=dict)
    extra: list[Service] = field(default_factory=list)

    def __post_init__(self) -> None:
        (self.run_dir / "logs").mkdir(parents=True, exist_ok=True)
        self.private_key, self.jwks = ensure_dev_keys(self.run_dir / "auth")
        self.vault_key = base64.b64encode(os.urandom(32)).decode()
        ports = {name: free_port() for name in SERVICES}
        peers = ",".join(f"{name}=http://127.0.0.1:{p}" for name, p in ports.items() if name != "history")
        for name, port in ports.items():
            self.services[name] = Service(
                name=name,
                replica="1",
                port=port,
                env=self._env(name, peers),
                log_path=self.run_dir / "logs" / f"{name}.log",
            )

    def _env(self, name: str, peers: str) -> dict[str, str]:
        return dict(
            os.environ,
            ASIELKETEN_ENV="test",
            PYTHONUNBUFFERED="1",
            ASIELKETEN_DATA_DIR=str(self.run_dir),
            KAFKA_BOOTSTRAP_SERVERS=self.kafka_bootstrap,
            AUTH_JWKS_PATH=str(self.jwks),
            VAULT_MASTER_KEY=self.vault_key,
            ASIELKETEN_SERVICE_URLS=peers,
            LOG_LEVEL="WARNING",
            DATABASE_POOL_SIZE="3",  # the machine's PostgreSQL (max_connections 100) is shared
            KAFKA_REPLICATION_FACTOR=str(self.replication_factor),
            **{f"{name.upper()}_DATABASE_URL": self.database_urls[name]},
        )

    @property
    def urls(self) -> dict[str, str]:
        return {name: service.url for name, service in self.services.items()}

    def start_all(self) -> None:
        for service in self.services.values():
            service.start()

    def start_replica(self, name: str) -> Service:
        first = self.services[name]
        replica = Service(
            name=name,
            replica=str(len(self.extra) + 2),
            port=free_port(),
            env=first.env,
            log_path=self.run_dir / "logs" / f"{name}-replica-{len(self.extra) + 2}.log",
        )
        replica.start()
        self.extra.append(replica)
        return replica

    def all_processes(self) -> list[Service]:
        return [*self.services.values(), *self.extra]

    def close(self) -> None:
        for service in self.all_processes():
            if service.alive:
                assert service.process is not None
                os.killpg(service.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for service in self.all_processes():
            if service.process is None:
                continue
            try:
                service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                service.kill()


async def wait_healthy(
    service: Service, timeout_s: float, path: str = "/health", *, restart_if_exited: bool = False
) -> bool:
    """Wait until the service answers `path`. With `restart_if_exited`, a process that exited by itself
    (a start-up that found no database connection, say) is started again, as Kubernetes restarts a
    container; otherwise such an exit is a failure."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not service.alive:
            if not restart_if_exited:
                return False
            service.restarts_by_supervisor += 1
            await asyncio.sleep(1)
            service.start()
        if await asyncio.to_thread(healthy, service.url, path):
            return True
        await asyncio.sleep(0.3)
    return False


def python() -> str:
    return sys.executable
