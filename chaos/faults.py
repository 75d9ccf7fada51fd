"""The faults of a chaos run: what each kind does, the seeded schedule, and how recovery is measured.

Recovery of a fault is the time from its healing (the process restarted, the broker resumed, the proxy
back to `pass`) until a new household registered at intake has been placed by placement and shows on the
read side's timeline of its first member: a fresh fact has gone through the whole chain again.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from chaos.load import LoadFigures, RetryingChain
from chaos.proxy import FaultProxy, Mode
from chaos.stack import CONSUMERS, PUBLISHING, ChainProcesses, Kafka, KafkaNode, ProxyHost, wait_healthy
from shared.crashpoints import CONSUMER_COMMITTED_NOT_OFFSET, OUTBOX_PUBLISHED_NOT_DELETED
from simulator.flow import SimulationError


class Kind(StrEnum):
    SERVICE_KILL = "kill -9 of a service, restarted"
    CRASH_AFTER_PUBLISH = "kill -9 between Kafka's ack and deleting the outbox rows"
    CRASH_AFTER_APPLY = "kill -9 between the read-model/effect commit and the Kafka offset commit"
    BROKER_STOP = "Kafka stopped and started (every broker)"
    BROKER_SIGSTOP = "a Kafka broker hung (SIGSTOP, then SIGCONT)"
    BROKER_KILL_ONE = "one broker of three killed (-9), restarted later"
    POSTGRES_RESTART = "PostgreSQL restarted"
    KAFKA_LATENCY = "proxy services↔Kafka: latency"
    KAFKA_DROP = "proxy services↔Kafka: connections dropped, new ones refused"
    KAFKA_BLACKHOLE = "proxy services↔Kafka: half-open (blackhole)"
    POSTGRES_LATENCY = "proxy services↔PostgreSQL: latency"
    POSTGRES_DROP = "proxy services↔PostgreSQL: connections dropped, new ones refused"
    POSTGRES_BLACKHOLE = "proxy services↔PostgreSQL: half-open (blackhole)"
    REPLICA_JOIN_LEAVE = "second consumer replica joins, then leaves (rebalances)"


# How often each kind is drawn (PostgreSQL restarts are capped separately: the cluster is shared).
WEIGHTS: dict[Kind, int] = {
    Kind.SERVICE_KILL: 6,
    Kind.CRASH_AFTER_PUBLISH: 2,
    Kind.CRASH_AFTER_APPLY: 2,
    Kind.BROKER_STOP: 1,
    Kind.BROKER_SIGSTOP: 2,
    Kind.BROKER_KILL_ONE: 3,
    Kind.POSTGRES_RESTART: 1,
    Kind.KAFKA_LATENCY: 1,
    Kind.KAFKA_DROP: 2,
    Kind.KAFKA_BLACKHOLE: 1,
    Kind.POSTGRES_LATENCY: 1,
    Kind.POSTGRES_DROP: 2,
    Kind.POSTGRES_BLACKHOLE: 1,
    Kind.REPLICA_JOIN_LEAVE: 2,
}


@dataclass(frozen=True)
class PlannedFault:
    number: int
    kind: Kind
    target: str  # a service, or "" for the broker / PostgreSQL
    seconds: float  # how long the fault lasts before it is healed (0: healed at once)
    detail: int  # kind-specific: latency in ms, the crash point's pass count, 1 = leave by SIGKILL
    gap_s: float  # calm before the fault


def schedule(
    seed: int, count: int, *, kinds: list[Kind] | None = None, postgres_restarts: int = 3, brokers: int = 1
) -> list[PlannedFault]:
    """`count` faults drawn from the seed: the same seed, the same faults in the same order. Every kind
    allowed comes at least once (when count allows), the rest by weight. Killing one broker of several
    needs several."""
    r = random.Random(seed)
    allowed = [
        k
        for k in (kinds or list(Kind))
        if (k is not Kind.POSTGRES_RESTART or postgres_restarts > 0)
        and (k is not Kind.BROKER_KILL_ONE or brokers > 1)
    ]
    drawn: list[Kind] = allowed[:count]
    restarts = drawn.count(Kind.POSTGRES_RESTART)
    while len(drawn) < count:
        kind = r.choices(allowed, [WEIGHTS[k] for k in allowed])[0]
        if kind is Kind.POSTGRES_RESTART:
            if restarts >= postgres_restarts:
                continue
            restarts += 1
        drawn.append(kind)
    r.shuffle(drawn)
    return [_plan(r, number, kind, brokers) for number, kind in enumerate(drawn, start=1)]


def _plan(r: random.Random, number: int, kind: Kind, brokers: int) -> PlannedFault:
    target, seconds, detail = "", 0.0, 0
    match kind:
        case Kind.SERVICE_KILL:
            target = r.choice(["history", *PUBLISHING])
        case Kind.CRASH_AFTER_PUBLISH:
            target, detail = r.choice(PUBLISHING), r.randint(1, 3)
        case Kind.CRASH_AFTER_APPLY:
            target, detail = r.choice(list(CONSUMERS)), r.randint(1, 3)
        case Kind.BROKER_STOP:
            seconds = r.uniform(3, 10)
        case Kind.BROKER_SIGSTOP:
            target, seconds = f"broker {r.randint(1, brokers)}", r.uniform(3, 12)
        case Kind.BROKER_KILL_ONE:
            target, seconds = f"broker {r.randint(1, brokers)}", r.uniform(5, 15)
        case Kind.KAFKA_LATENCY | Kind.POSTGRES_LATENCY:
            seconds, detail = r.uniform(4, 10), r.choice([50, 200, 800])
        case Kind.KAFKA_DROP | Kind.POSTGRES_DROP | Kind.KAFKA_BLACKHOLE | Kind.POSTGRES_BLACKHOLE:
            seconds = r.uniform(3, 10)
        case Kind.REPLICA_JOIN_LEAVE:
            target, seconds, detail = r.choice(list(CONSUMERS)), r.uniform(5, 15), r.randint(0, 1)
        case Kind.POSTGRES_RESTART:
            pass
    return PlannedFault(number, kind, target, round(seconds, 1), detail, round(r.uniform(1, 4), 1))


@dataclass
class FaultOutcome:
    planned: PlannedFault
    injected_at: float  # seconds since the run started
    outage_s: float  # from injection to healing
    recovery_s: float | None  # from healing to a fresh fact through the chain; None: did not recover
    note: str = ""


@dataclass
class Injector:
    """Injects planned faults into one chaos run's stack and measures recovery."""

    processes: ChainProcesses
    kafka: Kafka
    proxies: ProxyHost
    kafka_proxies: list[FaultProxy]
    postgres_proxy: FaultProxy
    restart_postgres: Callable[[], Awaitable[None]]
    private_key: bytes
    recovery_timeout_s: float = 240.0
    started: float = field(default_factory=time.monotonic)

    async def inject(self, fault: PlannedFault) -> FaultOutcome:
        injected = time.monotonic()
        restarts_before = self._supervisor_restarts()
        note = await self._fault(fault)
        healed = time.monotonic()
        recovery = await self._recovered()
        restarted = self._supervisor_restarts() - restarts_before
        if restarted:
            note = f"{note}; {restarted} service start(s) that exited by themselves, started again".lstrip(
                "; "
            )
        return FaultOutcome(
            planned=fault,
            injected_at=round(injected - self.started, 1),
            outage_s=round(healed - injected, 2),
            recovery_s=None if recovery is None else round(recovery, 2),
            note=note,
        )

    async def _fault(self, fault: PlannedFault) -> str:
        match fault.kind:
            case Kind.SERVICE_KILL:
                service = self.processes.services[fault.target]
                await asyncio.to_thread(service.kill)
                service.start()
                return ""
            case Kind.CRASH_AFTER_PUBLISH:
                return await self._crash_at(fault, OUTBOX_PUBLISHED_NOT_DELETED)
            case Kind.CRASH_AFTER_APPLY:
                return await self._crash_at(fault, CONSUMER_COMMITTED_NOT_OFFSET)
            case Kind.BROKER_STOP:
                await asyncio.to_thread(self.kafka.stop)
                await asyncio.sleep(fault.seconds)
                await asyncio.to_thread(self.kafka.start)
                return ""
            case Kind.BROKER_SIGSTOP:
                node = self._node(fault.target)
                node.signal(signal.SIGSTOP)
                try:
                    await asyncio.sleep(fault.seconds)
                finally:
                    node.signal(signal.SIGCONT)
                return ""
            case Kind.BROKER_KILL_ONE:
                await asyncio.to_thread(self.kafka.kill_node, self._node(fault.target))
                await asyncio.sleep(fault.seconds)
                await asyncio.to_thread(self.kafka.start)  # starts the one that is not running
                return ""
            case Kind.POSTGRES_RESTART:
                await self.restart_postgres()
                return ""
            case Kind.KAFKA_LATENCY | Kind.KAFKA_DROP | Kind.KAFKA_BLACKHOLE:
                return await self._proxy_fault(self.kafka_proxies, fault)
            case Kind.POSTGRES_LATENCY | Kind.POSTGRES_DROP | Kind.POSTGRES_BLACKHOLE:
                return await self._proxy_fault([self.postgres_proxy], fault)
            case Kind.REPLICA_JOIN_LEAVE:
                return await self._replica_join_leave(fault)

    async def _crash_at(self, fault: PlannedFault, point: str) -> str:
        """Kill -9 the service, start it armed to kill itself at `point` on its n-th pass, wait for that
        death, then start it normally."""
        service = self.processes.services[fault.target]
        await asyncio.to_thread(service.kill)
        service.start({"ASIELKETEN_CRASH_POINT": f"{point}:{fault.detail}"})
        assert service.process is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(service.process.wait, 90)
        reached = not service.alive
        if not reached:  # the load did not take it there in time: an ordinary kill -9 instead
            await asyncio.to_thread(service.kill)
        service.start()
        return f"crash point reached (pass {fault.detail})" if reached else "crash point not reached in 90 s"

    def _supervisor_restarts(self) -> int:
        return sum(service.restarts_by_supervisor for service in self.processes.services.values())

    def _node(self, target: str) -> KafkaNode:
        return self.kafka.nodes[int(target.removeprefix("broker ")) - 1]

    async def _proxy_fault(self, proxies: list[FaultProxy], fault: PlannedFault) -> str:
        mode = {
            Kind.KAFKA_LATENCY: Mode.LATENCY,
            Kind.POSTGRES_LATENCY: Mode.LATENCY,
            Kind.KAFKA_DROP: Mode.DROP,
            Kind.POSTGRES_DROP: Mode.DROP,
            Kind.KAFKA_BLACKHOLE: Mode.BLACKHOLE,
            Kind.POSTGRES_BLACKHOLE: Mode.BLACKHOLE,
        }[fault.kind]
        open_before = sum(proxy.open_connections for proxy in proxies)
        for proxy in proxies:
            await self.proxies.call(proxy.set_mode(mode, latency_ms=fault.detail))
        try:
            await asyncio.sleep(fault.seconds)
        finally:
            for proxy in proxies:
                await self.proxies.call(proxy.set_mode(Mode.PASS))
        if mode is Mode.LATENCY:
            return f"{fault.detail} ms each way"
        return f"{open_before} connections open when it began"

    async def _replica_join_leave(self, fault: PlannedFault) -> str:
        replica = self.processes.start_replica(fault.target)
        joined = await wait_healthy(replica, 120)
        await asyncio.sleep(fault.seconds)
        if fault.detail:
            await asyncio.to_thread(replica.kill)
        else:
            await asyncio.to_thread(replica.terminate)
        how = "killed (-9)" if fault.detail else "stopped (SIGTERM)"
        return f"replica {'joined' if joined else 'never became healthy'}, then {how}"

    async def _recovered(self) -> float | None:
        """Seconds until a fresh household has gone through the chain; None if not within the timeout."""
        began = time.monotonic()
        chain = RetryingChain(
            self.processes.urls, self.private_key, LoadFigures(), retry_for_s=self.recovery_timeout_s
        )
        try:
            async with asyncio.timeout(self.recovery_timeout_s):
                for service in self.processes.services.values():
                    if not await wait_healthy(service, self.recovery_timeout_s, restart_if_exited=True):
                        return None
                await _probe(chain)
            return time.monotonic() - began
        except (TimeoutError, SimulationError):
            return None
        finally:
            await chain.close()


async def _probe(chain: RetryingChain) -> None:
    registered = await chain.call(
        "POST",
        "intake",
        "/v1/households",
        "AVIM",
        {
            "arrivalGroup": "first-application",
            "channel": "ter-apel",
            "members": [{"role": "adult", "relation": "head", "birthYear": 1990, "nationality": "ERI"}],
        },
    )
    if registered.status_code != 201:
        raise SimulationError(f"probe registration: {registered.status_code} {registered.text[:300]}")
    body: dict[str, Any] = registered.json()
    household, person = body["householdId"], body["members"][0]["personId"]
    while True:
        reception = await chain.call("GET", "placement", f"/v1/households/{household}/reception", "COA")
        timeline = await chain.call("GET", "history", f"/v1/persons/{person}/timeline", "COA")
        if reception.status_code == 200 and timeline.status_code == 200 and timeline.json()["entries"]:
            return
        await asyncio.sleep(0.25)
