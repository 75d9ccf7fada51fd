"""Benchmark: the intake service over HTTP (2 workers), the way from a command to the read side, the
outbox relay, and the services' memory.

    .venv/bin/python -m bench.http    (make bench-http)

Starts a Kafka broker of its own (deploy/kafka/kafka.sh) and uses the machine's PostgreSQL; runs intake
(uvicorn, 2 worker processes) and the read side (history, 1 process) on fresh databases, as `make run`
runs them. The command is intake's household registration (`POST /v1/households`, two members: three
events). Then:
1. *throughput*: `--clients` concurrent clients register households for `--seconds`, each sending its
   next command when the last is answered (closed loop): commands/s answered 201, and the CPU time per
   command of each part meanwhile (intake's workers, the read side, PostgreSQL, Kafka, this load
   generator), which says where a 2-core machine's 2 CPU-seconds per second go;
2. *latency at fixed offered loads*: a command every 1/rate s whatever the answers (open loop, so a slow
   answer cannot lower the load), at each of `--rates` for `--seconds`: p50/p99 of the time to the 201,
   and the commands that got none (an error, a timeout) counted by kind — above the service's capacity
   they are the result;
3. *end-to-end lag* at the same loads: from intake's commit of the command's events (`recorded_at`) to
   the moment the read side applied the last of them (its consumer's `processed_at`; both servers on one
   machine clock): p50/p99;
4. *relay*: with intake stopped, `--relay-events` events are appended to its store (100 per
   transaction); intake is started again and the time from its first published event to an empty
   outbox gives the relay's events/s into Kafka;
5. *memory*: the peak resident set (VmHWM) of each process: intake's workers and the read side, read at
   the end of the run.
Writes its section of BENCHMARKS.md. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa

from bench.databases import drop, fresh_database
from bench.report import load_average, peak_memory_mb, percentile, run_line, save_results, write_section
from history.service_layer.freshness import CONSUMER
from shared.auth import ensure_dev_keys, mint_token
from shared.contracts import chain_registry
from shared.contracts.placement import LocationPlacesTaken
from shared.eventstore import CommandContext, UnitOfWorkFactory
from shared.eventstore.database import create_engine, session_factory
from shared.eventstore.schema import events, outbox, processed_events
from shared.ids import new_id
from shared.kafka import ensure_topics
from shared.settings import DEFAULT_AUDIENCE, DEV_ISSUER
from shared.supervisor import start_service
from tests.helpers import VAULT_TEST_KEY
from tests.infrastructure import KAFKA_SCRIPT, POSTGRES_SCRIPT, free_port

SECTION = "## HTTP commands, end-to-end lag, outbox relay and memory"
RELAY_TOPIC = "bench.relay"
REGISTRATION = {
    "channel": "ter-apel",
    "arrivalGroup": "first-application",
    "members": [
        {"role": "adult", "relation": "head", "birthYear": 1988, "nationality": "SYR"},
        {"role": "child", "relation": "child", "birthYear": 2016, "nationality": "SYR"},
    ],
}


@dataclass(frozen=True, slots=True)
class Answer:
    latency_ms: float
    event_ids: tuple[str, ...]


@dataclass
class Stack:
    work: Path
    bootstrap: str
    databases: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]]
    urls: dict[str, str]
    token: str

    def environment(self, service: str) -> dict[str, str]:
        return dict(
            os.environ,
            ASIELKETEN_ENV="test",
            ASIELKETEN_DATA_DIR=str(self.work),
            KAFKA_BOOTSTRAP_SERVERS=self.bootstrap,
            AUTH_JWKS_PATH=str(self.work / "auth" / "jwks.json"),
            VAULT_MASTER_KEY=VAULT_TEST_KEY,
            **{f"{service.upper()}_DATABASE_URL": self.databases[service]},
        )

    async def start(self, service: str, factory: str, workers: int = 1) -> None:
        port = free_port()
        self.processes[service] = start_service(
            factory, port, self.environment(service), self.work / f"{service}.log", workers=workers
        )
        self.urls[service] = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as client:
            for _ in range(600):
                if self.processes[service].poll() is not None:
                    raise RuntimeError(f"{service} exited; see {self.work / f'{service}.log'}")
                try:
                    if (await client.get(f"{self.urls[service]}/ready")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise RuntimeError(f"{service} did not become ready")

    def stop(self, service: str) -> None:
        process = self.processes.pop(service)
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def register(client: httpx.AsyncClient) -> Answer:
    started = time.perf_counter()
    response = await client.post("/v1/households", json=REGISTRATION)
    latency_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 201:
        raise RuntimeError(f"registration answered {response.status_code}: {response.text[:300]}")
    return Answer(latency_ms, tuple(response.headers["X-Event-Ids"].split(",")))


async def register_or_fail(client: httpx.AsyncClient) -> Answer | str:
    """The answer, or why there was none (an error status, a timeout, a refused connection): under an
    offered load above what the service can take, failures are a result to report, not a crash."""
    try:
        return await register(client)
    except (RuntimeError, httpx.HTTPError) as error:
        return f"{type(error).__name__}: {str(error)[:120]}"


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process and its children so far (from /proc)."""
    total = 0.0
    for current in peak_memory_mb(pid):  # the process tree, by pid
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def pids_named(marker: bytes) -> list[int]:
    """Processes whose command line contains `marker` (PostgreSQL's backends, the Kafka broker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def cpu_by_process(stack: Stack) -> dict[str, float]:
    return {
        "intake (2 workers)": cpu_seconds(stack.processes["intake"].pid),
        "read side": cpu_seconds(stack.processes["history"].pid),
        "PostgreSQL": sum(cpu_seconds(pid) for pid in pids_named(b"postgres")),
        "Kafka": sum(cpu_seconds(pid) for pid in pids_named(str(stack.work / "kafka").encode())),
        "load generator": time.process_time(),
    }


def client_for(stack: Stack) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=stack.urls["intake"],
        headers={"Authorization": f"Bearer {stack.token}"},
        timeout=30,
        limits=httpx.Limits(max_connections=400, max_keepalive_connections=400),
    )


def milliseconds(value: float) -> str:
    return f"{value:,.1f} ms" if math.isfinite(value) else "no answer"


@dataclass(frozen=True, slots=True)
class ClosedLoop:
    commands_per_s: float
    cpu_ms_per_command: dict[str, float]  # by process group, while the loop ran


async def closed_loop(stack: Stack, clients: int, seconds: float) -> ClosedLoop:
    """Commands/s answered when `clients` each send the next command once the last is answered, and the
    CPU time each part of the system spent per command meanwhile."""
    answered = 0
    deadline = time.monotonic() + seconds

    async def one_client(client: httpx.AsyncClient) -> None:
        nonlocal answered
        while time.monotonic() < deadline:
            await register(client)
            answered += 1

    async with client_for(stack) as client:
        before = cpu_by_process(stack)
        started = time.monotonic()
        await asyncio.gather(*(one_client(client) for _ in range(clients)))
        elapsed = time.monotonic() - started
        after = cpu_by_process(stack)
    return ClosedLoop(
        answered / elapsed, {name: (after[name] - before[name]) * 1000 / answered for name in before}
    )


async def open_loop(stack: Stack, rate: float, seconds: float) -> list[Answer | str]:
    """A command every 1/`rate` s for `seconds`, each on its own task, whatever the answers."""
    loop = asyncio.get_running_loop()
    async with client_for(stack) as client:
        started = loop.time()
        tasks = []
        for n in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, started + n / rate - loop.time()))
            tasks.append(asyncio.create_task(register_or_fail(client)))
        return list(await asyncio.gather(*tasks))


async def lags_ms(stack: Stack, answers: list[Answer], timeout_s: float = 300) -> list[float]:
    """Per command, ms from intake's commit of its events (their `recorded_at` in intake's store) to the
    read side's applying the last of them (its consumer's `processed_at`): both stamped by the servers on
    one machine clock. (From the client's receipt of the 201 instead, an overloaded load generator that
    reads its answers late made lags come out negative.)"""
    wanted = {event_id for answer in answers for event_id in answer.event_ids}
    if not wanted:
        return []
    intake, history = create_engine(stack.databases["intake"]), create_engine(stack.databases["history"])
    try:
        async with intake.connect() as connection:
            recorded = dict(
                (
                    await connection.execute(
                        sa.select(events.c.event_id, events.c.recorded_at).where(
                            events.c.event_id.in_(wanted)
                        )
                    )
                ).all()
            )
        deadline = time.monotonic() + timeout_s
        while True:
            async with history.connect() as connection:
                rows = (
                    await connection.execute(
                        sa.select(processed_events.c.event_id, processed_events.c.processed_at).where(
                            processed_events.c.consumer == CONSUMER,
                            processed_events.c.event_id.in_(wanted),
                        )
                    )
                ).all()
            applied = {event_id: moment for event_id, moment in rows}
            if len(applied) == len(wanted):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the read side applied {len(applied)} of {len(wanted)} events")
            await asyncio.sleep(0.5)
    finally:
        await intake.dispose()
        await history.dispose()
    return [
        (
            max(applied[event_id] for event_id in answer.event_ids)
            - min(recorded[event_id] for event_id in answer.event_ids)
        ).total_seconds()
        * 1000
        for answer in answers
    ]


async def relay_rate(stack: Stack, events: int) -> float:
    """Events/s the outbox relay publishes, from its first publication to an empty outbox."""
    stack.stop("intake")
    # A topic of its own, so that no consumer of intake's events sees these
    await ensure_topics(stack.bootstrap, {RELAY_TOPIC: 6})
    engine = create_engine(stack.databases["intake"])
    units = UnitOfWorkFactory(
        session_factory(engine), chain_registry(), source="/bench/relay", topic=RELAY_TOPIC
    )
    context = CommandContext(actor="BENCH:relay", correlation_id=new_id())
    for _ in range(events // 100):
        stream = f"bench-relay-{new_id()}"
        async with units() as uow:
            taken = [
                LocationPlacesTaken(
                    location_id=stream, household_id=new_id(), places=1, occurred_at=datetime.now(UTC)
                )
                for _ in range(100)
            ]
            await uow.events.append(stream, 0, taken, context)
            await uow.commit()

    async def backlog() -> int:
        async with engine.connect() as connection:
            return int(
                (await connection.execute(sa.select(sa.func.count()).select_from(outbox))).scalar_one()
            )

    try:
        full = await backlog()
        starting = asyncio.create_task(stack.start("intake", "intake.entrypoints.app:create_app"))
        # polled: the relay runs in another process, nothing here could be awaited instead
        while await backlog() == full:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        first = time.monotonic()
        while await backlog() > 0:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        elapsed = time.monotonic() - first
        await starting
    finally:
        await engine.dispose()
    return full / elapsed


async def measure(arguments: argparse.Namespace, stack: Stack) -> str:
    await stack.start("history", "history.entrypoints.app:create_app")
    await stack.start("intake", "intake.entrypoints.app:create_app", workers=2)
    async with client_for(stack) as client:  # warm-up: connections, caches, topics, consumers
        for _ in range(100):
            await register(client)
    loop = await closed_loop(stack, arguments.clients, arguments.seconds)
    throughput = loop.commands_per_s
    print(f"throughput: {throughput:,.0f} commands/s with {arguments.clients} clients", flush=True)
    cpu_line = ", ".join(f"{name} {ms:.1f} ms" for name, ms in loop.cpu_ms_per_command.items())
    print(f"CPU per command: {cpu_line}", flush=True)
    rows = []
    by_rate: dict[str, dict[str, float]] = {}
    for rate in arguments.rates:
        results = await open_loop(stack, rate, arguments.seconds)
        answers = [result for result in results if isinstance(result, Answer)]
        failures = Counter(result.split(":")[0] for result in results if isinstance(result, str))
        # A command without an answer counts as slower than any answered one: a p99 above the answered
        # commands' when more than 1% got none, instead of the p99 of the lucky ones.
        unanswered = [math.inf] * (len(results) - len(answers))
        latencies = [answer.latency_ms for answer in answers] + unanswered
        lags = await lags_ms(stack, answers) + unanswered
        failed = ", ".join(f"{count} {kind}" for kind, count in failures.most_common()) or "0"
        row = (
            f"| {rate:,.0f} | {len(results) / arguments.seconds:,.0f} | {len(answers):,} | {failed} | "
            f"{milliseconds(statistics.median(latencies))} | {milliseconds(percentile(latencies, 0.99))} | "
            f"{milliseconds(statistics.median(lags))} | {milliseconds(percentile(lags, 0.99))} |"
        )
        print(row, flush=True)
        rows.append(row)
        by_rate[f"{rate:g}"] = {
            "sent": len(results),
            "answered": len(answers),
            "latency_p99_ms": percentile(latencies, 0.99),
            "lag_p99_ms": percentile(lags, 0.99),
        }
        await asyncio.sleep(5)  # let a backlog drain before the next load
    memory = {
        "intake (2 workers)": peak_memory_mb(stack.processes["intake"].pid),
        "read side": peak_memory_mb(stack.processes["history"].pid),
    }
    relay = await relay_rate(stack, arguments.relay_events)
    print(f"relay: {relay:,.0f} events/s", flush=True)
    save_results(
        "http",
        {
            "commands_per_s": throughput,
            "cpu_ms_per_command": loop.cpu_ms_per_command,
            "by_rate": by_rate,
            "relay_events_per_s": relay,
            "peak_mb": {name: max(peaks.values()) for name, peaks in memory.items()},
        },
    )
    memory_line = "; ".join(
        f"{name}: " + ", ".join(f"{mb:,.0f} MB" for mb in sorted(peaks.values(), reverse=True))
        for name, peaks in memory.items()
    )
    return "\n".join(
        [
            f"- Throughput, {arguments.clients} clients in a closed loop for {arguments.seconds:.0f} s: "
            f"**{throughput:,.0f} commands/s** (each command appends 3 events).",
            f"- CPU time per command during that loop, by process (2 cores give 2,000 ms per second in "
            f"all): {cpu_line}.",
            f"- Outbox relay, {arguments.relay_events:,} events waiting: **{relay:,.0f} events/s** "
            "into Kafka.",
            "- Peak resident memory (VmHWM, per process, largest first; uvicorn's parent and helper "
            f"processes included): {memory_line}.",
            "",
            "| offered commands/s | sent commands/s | answered 201 | failed | latency p50 | latency p99 | "
            "lag to read side p50 | lag p99 |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )


@contextlib.contextmanager
def stack_on_this_machine(prefix: str) -> Iterator[Stack]:
    """PostgreSQL ensured, a Kafka broker of its own, development keys, fresh intake and read-side
    databases; the services the caller starts on the stack are stopped afterwards, and the broker too."""
    subprocess.run([str(POSTGRES_SCRIPT), "ensure", str(os.getpid())], check=True)
    work = Path(tempfile.mkdtemp(prefix=prefix))
    kafka_dir, port = work / "kafka", free_port()
    subprocess.run([str(KAFKA_SCRIPT), "start", str(kafka_dir), str(port)], check=True)
    private_key_path, _ = ensure_dev_keys(work / "auth")
    token = mint_token(
        private_key_path.read_bytes(), agency="AVIM", issuer=DEV_ISSUER, audience=DEFAULT_AUDIENCE
    )
    databases = {name: asyncio.run(fresh_database(f"http_{name}")) for name in ("intake", "history")}
    stack = Stack(work, f"127.0.0.1:{port}", databases, {}, {}, token)
    try:
        yield stack
    finally:
        for service in list(stack.processes):
            stack.stop(service)
        subprocess.run([str(KAFKA_SCRIPT), "stop", str(kafka_dir)], check=False)
        for url in databases.values():
            asyncio.run(drop(url))


def main(arguments: argparse.Namespace) -> int:
    started, before = time.monotonic(), load_average()
    with stack_on_this_machine("asielketen-bench-http-") as stack:
        body = asyncio.run(measure(arguments, stack))
    minutes = (time.monotonic() - started) / 60
    rates = " ".join(f"{rate:g}" for rate in arguments.rates)
    new = "\n".join(
        [
            SECTION,
            "",
            f"`.venv/bin/python -m bench.http --clients {arguments.clients} --seconds {arguments.seconds:g} "
            f"--rates {rates} --relay-events {arguments.relay_events}` (`make bench-http`): intake with 2",
            "uvicorn workers and the read side as processes on fresh PostgreSQL databases and a Kafka",
            "broker of their own; the command is a household registration (`POST /v1/households`, 3",
            "events). Latency: request sent to 201 received, at a fixed offered load (open loop). Lag:",
            "intake's commit of the command's events (`recorded_at`) to the read side's applying the last of",
            "them (`processed_at`). The load generator runs on the same 2 cores as everything it measures.",
            "",
            run_line(minutes, f"{before}, then {load_average()}"),
            "",
            body,
        ]
    )
    print(new, flush=True)
    write_section(new)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients for the throughput")
    parser.add_argument("--seconds", type=float, default=20, help="duration of each load")
    parser.add_argument(
        "--rates", type=float, nargs="+", default=[10, 25, 50, 200], help="offered loads, commands/s"
    )
    parser.add_argument("--relay-events", type=int, default=20_000, help="events waiting for the relay")
    raise SystemExit(main(parser.parse_args()))
