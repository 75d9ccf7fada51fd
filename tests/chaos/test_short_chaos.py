"""The short chaos run of `make test`: the same runner as `make chaos` (chaos/runner.py), on its own
PostgreSQL databases and its own Kafka broker behind a fault proxy, with simulated load and a few faults —
a service killed (-9) between a consumer's commit and its Kafka offset commit, a hung broker, dropped
connections to Kafka — and then every invariant: nothing lost, nothing applied twice, the read side equal
to a rebuild from offset 0, nobody in two places, occupancy never negative, order per person kept, and
the dead-letter topics holding only what was poisoned. A PostgreSQL restart is left to `make chaos`: the
machine's cluster is shared by everything else `make test` runs."""

from __future__ import annotations

import pytest

from chaos.faults import Kind
from chaos.runner import ChaosOptions, run_chaos

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_a_few_faults_under_load_break_no_invariant() -> None:
    options = ChaosOptions(
        faults=3,
        seed=11,
        kinds=[Kind.CRASH_AFTER_APPLY, Kind.BROKER_SIGSTOP, Kind.KAFKA_DROP],
        postgres_restarts=0,
        households_per_round=8,
        poisoned=2,
        recovery_timeout_s=120,
        warm_up_s=5,
    )

    result = await run_chaos(options)

    assert len(result.outcomes) == 3
    assert {o.planned.kind for o in result.outcomes} == set(options.kinds or [])
    assert result.events > 0
    broken = [f"{c.name}: {c.detail}" for c in result.checks if not c.passed]
    assert not broken, "\n".join(broken) + f"\n(run folder kept: {result.run_dir})"
