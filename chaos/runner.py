"""One chaos run, start to end: set up a stack of its own, load it, inject the scheduled faults, let it
become quiet, check the invariants, write the report, and take everything down again.

`python -m chaos --faults 55 --seed 8 --brokers 3` (what `make chaos` runs);
tests/chaos/test_short_chaos.py runs a few faults through the same `run_chaos`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from chaos import report
from chaos.faults import FaultOutcome, Injector, Kind, schedule
from chaos.invariants import Check, Checker, poison, wait_quiet
from chaos.load import Load, LoadFigures
from chaos.proxy import FaultProxy
from chaos.stack import (
    EVENT_TOPICS,
    POSTGRES_PORT,
    POSTGRES_SCRIPT,
    ChainProcesses,
    Kafka,
    ProxyHost,
    free_port_range,
    postgres_script,
    postgres_url,
    wait_healthy,
)
from shared.cli import SERVICES
from shared.kafka import ensure_topics, wait_until_ready

log = logging.getLogger("chaos")


@dataclass
class ChaosOptions:
    faults: int
    seed: int
    kinds: list[Kind] | None = None  # None: every kind
    postgres_restarts: int = 3  # the cluster is shared with other work on the machine: keep it few
    households_per_round: int = 40
    poisoned: int = 3
    report_path: Path | None = None
    keep: bool = False  # keep the run's folder and databases (they are kept anyway when it fails)
    command: str = "python -m chaos"
    recovery_timeout_s: float = 240.0
    brokers: int = 1  # 3: a cluster, replication factor 3, min.insync.replicas 2
    warm_up_s: float = 10.0


@dataclass
class ChaosResult:
    outcomes: list[FaultOutcome]
    checks: list[Check]
    load: LoadFigures
    events: int
    report: str
    run_dir: Path
    seconds: float
    not_recovered: list[FaultOutcome] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


def _say(message: str) -> None:
    print(f"chaos: {message}", flush=True)


async def run_chaos(options: ChaosOptions) -> ChaosResult:
    started_at, began = report.now(), time.monotonic()
    tag = uuid.uuid4().hex[:8]
    run_dir = Path(tempfile.mkdtemp(prefix=f"asielketen-chaos-{tag}-"))
    databases = {name: f"chaos_{tag}_{name}" for name in SERVICES}
    rebuild_database = f"chaos_{tag}_rebuild"
    holder = str(os.getpid())
    proxies = ProxyHost()
    kafka: Kafka | None = None
    processes: ChainProcesses | None = None
    result: ChaosResult | None = None
    kafka_proxies: list[FaultProxy] = []
    postgres_proxy: FaultProxy | None = None
    try:
        await asyncio.to_thread(postgres_script, "ensure", holder)
        await asyncio.to_thread(postgres_script, "createdb", *databases.values(), rebuild_database)
        postgres_proxy = FaultProxy("127.0.0.1", POSTGRES_PORT)
        await proxies.call(postgres_proxy.start())
        base_port = free_port_range(2 * options.brokers)
        kafka_proxies = [FaultProxy("127.0.0.1", base_port + 2 * i) for i in range(options.brokers)]
        for proxy in kafka_proxies:
            await proxies.call(proxy.start())
        kafka = Kafka(run_dir / "kafka", base_port, [proxy.listen_port for proxy in kafka_proxies])
        _say(f"run folder {run_dir}; {options.brokers} Kafka broker(s) from port {base_port}, behind proxies")
        await asyncio.to_thread(kafka.start)
        bootstrap = ",".join(f"127.0.0.1:{proxy.listen_port}" for proxy in kafka_proxies)
        await wait_until_ready(bootstrap, 120)
        await ensure_topics(
            bootstrap, {topic: 6 for topic in EVENT_TOPICS}, replication_factor=kafka.replication_factor
        )

        direct = {name: postgres_url(db) for name, db in databases.items()}
        proxied = {name: postgres_url(db, postgres_proxy.listen_port) for name, db in databases.items()}
        processes = ChainProcesses(run_dir, bootstrap, proxied, kafka.replication_factor)
        processes.start_all()
        for service in processes.services.values():
            if not await wait_healthy(service, 240, restart_if_exited=True):
                raise RuntimeError(f"{service.name} did not start; see {service.log_path}")
        _say("five services healthy")
        poison_keys = await poison(bootstrap, options.poisoned)
        private_key = processes.private_key.read_bytes()

        load = Load(
            lambda: processes.urls if processes else {},
            private_key,
            seed=options.seed,
            households_per_round=options.households_per_round,
        )
        load.start()
        await asyncio.sleep(options.warm_up_s)  # the load under way before the first fault

        async def restart_postgres() -> None:
            await asyncio.to_thread(postgres_script, "restart")

        injector = Injector(
            processes=processes,
            kafka=kafka,
            proxies=proxies,
            kafka_proxies=kafka_proxies,
            postgres_proxy=postgres_proxy,
            restart_postgres=restart_postgres,
            private_key=private_key,
            recovery_timeout_s=options.recovery_timeout_s,
            started=began,
        )
        outcomes: list[FaultOutcome] = []
        plan = schedule(
            options.seed,
            options.faults,
            kinds=options.kinds,
            postgres_restarts=options.postgres_restarts,
            brokers=options.brokers,
        )
        for fault in plan:
            await asyncio.sleep(fault.gap_s)
            outcome = await injector.inject(fault)
            outcomes.append(outcome)
            recovery = f"{outcome.recovery_s:.1f}s" if outcome.recovery_s is not None else "NOT RECOVERED"
            _say(
                f"fault {fault.number}/{len(plan)}: {fault.kind.value} {fault.target} "
                f"(outage {outcome.outage_s:.1f}s) recovered in {recovery} {outcome.note}"
            )

        _say("faults done; stopping the load")
        await load.stop()
        quiet_s = await wait_quiet(bootstrap, direct, 600)
        _say(f"quiet after {quiet_s:.0f}s; checking the invariants")
        checker = Checker(
            bootstrap, direct, postgres_url(rebuild_database), poison_keys, kafka.replication_factor
        )
        checks = await checker.run()
        not_recovered = [o for o in outcomes if o.recovery_s is None]
        checks.append(
            Check(
                f"the chain recovered from every fault within {options.recovery_timeout_s:.0f} s",
                not not_recovered,
                f"{len(outcomes) - len(not_recovered)} of {len(outcomes)} recovered",
            )
        )
        facts = report.RunFacts(
            command=options.command,
            seed=options.seed,
            started_at=started_at,
            seconds=time.monotonic() - began,
            quiet_s=quiet_s,
            poisoned=options.poisoned,
            brokers=options.brokers,
        )
        text = report.render(facts, outcomes, load.figures, checks, checker.events_processed)
        if options.report_path is not None:
            report.write(options.report_path, text)
        result = ChaosResult(
            outcomes=outcomes,
            checks=checks,
            load=load.figures,
            events=checker.events_processed,
            report=text,
            run_dir=run_dir,
            seconds=time.monotonic() - began,
            not_recovered=not_recovered,
        )
        for check in checks:
            _say(f"{'pass' if check.passed else 'FAIL'}: {check.name}: {check.detail}")
        return result
    finally:
        keep = options.keep or result is None or not result.passed
        if processes is not None:
            await asyncio.to_thread(processes.close)
        if kafka is not None:
            await asyncio.to_thread(kafka.stop)
        for proxy in [*kafka_proxies, *([postgres_proxy] if postgres_proxy else [])]:
            await proxies.call(proxy.stop())
        proxies.close()
        if keep:
            _say(f"kept for a look: {run_dir}; databases {', '.join(databases.values())}, {rebuild_database}")
        else:
            await asyncio.to_thread(
                subprocess.run,
                [str(POSTGRES_SCRIPT), "dropdb", *databases.values(), rebuild_database],
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            shutil.rmtree(run_dir, ignore_errors=True)
