"""CHAOS.md: what a chaos run did and found — faults per kind, events processed, recovery per kind,
each invariant with pass or fail, and where and how it ran."""

from __future__ import annotations

import os
import platform
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from chaos.faults import FaultOutcome, Kind
from chaos.invariants import Check
from chaos.load import LoadFigures

NOT_COVERED = """## Limits (said plainly)

- The network faults are between the services and Kafka and between the services and PostgreSQL, through
  our own proxy (`chaos/proxy.py`); there is none between two services, because no service calls another.
  Kafka's own traffic (between the brokers, and to the controllers) does not pass a proxy.
- The load opens a location when those of a kind run short and moves households only to a regular azc with
  room, as COA would; a round it gives up is a client that met a fault (a command still in progress under
  its Idempotency-Key after its retries, a connection refused), listed above, never an invariant.
"""


@dataclass
class RunFacts:
    command: str
    seed: int
    started_at: datetime
    seconds: float
    quiet_s: float
    poisoned: int
    brokers: int


def _machine() -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return (
        f"{platform.node()}: {platform.system()} {platform.release()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; load average at the end {load[0]:.1f} / {load[1]:.1f} / "
        f"{load[2]:.1f} (1 / 5 / 15 min; the machine is shared)"
    )


def render(
    facts: RunFacts, outcomes: list[FaultOutcome], load: LoadFigures, checks: list[Check], events: int
) -> str:
    passed = all(c.passed for c in checks)
    per_kind: dict[Kind, list[FaultOutcome]] = defaultdict(list)
    for outcome in outcomes:
        per_kind[outcome.planned.kind].append(outcome)
    lines = [
        "# Chaos run",
        "",
        f"**{'PASSED' if passed else 'FAILED'}**: {len(outcomes)} faults injected, "
        f"{sum(c.passed for c in checks)} of {len(checks)} invariant checks hold; "
        f"{events:,} events on the chain's topics, each applied by every consumer that reads it.",
        "",
        f"- command: `{facts.command}` (seed {facts.seed})",
        f"- date: {facts.started_at:%Y-%m-%d %H:%M} UTC, {facts.seconds / 60:.1f} minutes in all "
        f"(the chain became quiet {facts.quiet_s:.0f} s after the load stopped)",
        f"- machine: {_machine()}",
        "- stack: the five services as separate processes on PostgreSQL (fresh databases); "
        + (
            "a cluster of three Apache Kafka brokers (KRaft; replication factor 3, min.insync.replicas 2)"
            if facts.brokers > 1
            else "one Apache Kafka broker (KRaft)"
        )
        + ", each advertising a fault proxy of ours in front of it; a fault proxy in front of PostgreSQL "
        "for the services (the runner reads the databases directly)",
        f"- load: the simulator (`simulator/`) through the HTTP APIs, {load.rounds_finished} rounds "
        f"finished and {load.rounds_failed} given up, {load.households:,} households, "
        f"{load.commands:,} commands, {load.retries:,} client retries (same Idempotency-Key)",
        f"- poisoned deliberately: {facts.poisoned} messages that are no CloudEvent, on intake.events",
        "",
        "Recovery: from healing the fault (process restarted, broker resumed, proxy back to pass) until a",
        "new household registered at intake is placed by placement and shows on the read side. A kill has",
        "no outage of its own (the service is restarted at once), so its recovery is the whole gap.",
        "",
        "## Faults per kind",
        "",
        "| fault | injected | outage p50 / max (s) | recovery p50 / max (s) | not recovered |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind in Kind:
        done = per_kind.get(kind, [])
        if not done:
            lines.append(f"| {kind.value} | 0 | - | - | - |")
            continue
        outages = [o.outage_s for o in done]
        recoveries = [o.recovery_s for o in done if o.recovery_s is not None]
        recovery = f"{statistics.median(recoveries):.1f} / {max(recoveries):.1f}" if recoveries else "-"
        lines.append(
            f"| {kind.value} | {len(done)} | {statistics.median(outages):.1f} / {max(outages):.1f} | "
            f"{recovery} | {len(done) - len(recoveries)} |"
        )
    lines += ["", "## Invariants", "", "| invariant | result | figures |", "|---|---|---|"]
    for check in checks:
        lines.append(f"| {check.name} | {'pass' if check.passed else '**FAIL**'} | {check.detail} |")
    lines += ["", "## Every fault", "", "| # | at (s) | fault | target | outage (s) | recovery (s) | note |"]
    lines.append("|---:|---:|---|---|---:|---:|---|")
    for o in outcomes:
        recovery = f"{o.recovery_s:.1f}" if o.recovery_s is not None else "**none**"
        target = o.planned.target or "-"
        lines.append(
            f"| {o.planned.number} | {o.injected_at:.0f} | {o.planned.kind.value} | {target} | "
            f"{o.outage_s:.1f} | {recovery} | {o.note} |"
        )
    if load.failures:
        lines += ["", "## Load rounds given up (the client's view, not an invariant)", ""]
        lines += [f"- {failure}" for failure in load.failures[:20]]
    lines += ["", NOT_COVERED]
    return "\n".join(lines)


def write(path: Path, text: str) -> None:
    path.write_text(text + "\n")


def now() -> datetime:
    return datetime.now(UTC)
