"""Profile: the CPU time one household registration costs each process, one command at a time — the
harness behind the before/after figures in BENCHMARKS.md's HTTP section.

    .venv/bin/python -m bench.sequential_commands [--commands 300] [--workers 1]

Starts a Kafka broker of its own and intake and the read side on fresh PostgreSQL databases (as
bench.http does), sends 50 warm-up registrations, then `--commands` registrations one after another, and
prints the median and p90 latency and the CPU time (user + system, from /proc) each part spent per command:
intake, the read side, PostgreSQL's backends and this client. One client, so nothing queues: the figures
are what a command costs, not what a saturated machine does. Writes nothing; nothing is asserted. To
compare with an older commit, run it from a checkout of that commit.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from bench.http import Stack, client_for, cpu_seconds, pids_named, register, stack_on_this_machine
from bench.report import percentile


def cpu_now(stack: Stack) -> dict[str, float]:
    return {
        "intake": cpu_seconds(stack.processes["intake"].pid),
        "read side": cpu_seconds(stack.processes["history"].pid),
        "PostgreSQL": sum(cpu_seconds(pid) for pid in pids_named(b"postgres")),
        "this client": time.process_time(),
    }


async def measure(stack: Stack, commands: int, workers: int) -> None:
    await stack.start("history", "history.entrypoints.app:create_app")
    await stack.start("intake", "intake.entrypoints.app:create_app", workers=workers)
    async with client_for(stack) as client:
        for _ in range(50):  # connections, caches, topics, consumers
            await register(client)
        await asyncio.sleep(3)  # the read side catches up with the warm-up
        before = cpu_now(stack)
        latencies = [(await register(client)).latency_ms for _ in range(commands)]
        await asyncio.sleep(3)  # and with the measured commands, whose applying is part of their cost
        after = cpu_now(stack)
    print(
        f"{commands} registrations one after another, intake on {workers} worker(s): latency p50 "
        f"{statistics.median(latencies):.1f} ms, p90 {percentile(latencies, 0.9):.1f} ms"
    )
    for name in before:
        print(f"  CPU per command, {name}: {(after[name] - before[name]) * 1000 / commands:.2f} ms")


def main(commands: int, workers: int) -> int:
    with stack_on_this_machine("asielketen-bench-sequential-") as stack:
        asyncio.run(measure(stack, commands, workers))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--commands", type=int, default=300, help="registrations measured")
    parser.add_argument("--workers", type=int, default=1, help="intake's uvicorn workers")
    arguments = parser.parse_args()
    raise SystemExit(main(arguments.commands, arguments.workers))
