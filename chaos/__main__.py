"""`python -m chaos --faults N --seed S [--report CHAOS.md]`: one chaos run; exit 1 on a broken invariant."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from chaos.faults import Kind
from chaos.runner import ChaosOptions, run_chaos


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    parser.add_argument("--faults", type=int, default=55, help="faults to inject (default 55)")
    parser.add_argument("--seed", type=int, default=8, help="the same seed, the same faults and load")
    parser.add_argument("--postgres-restarts", type=int, default=3, help="at most this many (shared cluster)")
    parser.add_argument(
        "--brokers", type=int, choices=[1, 3], default=3, help="Kafka brokers (3: RF 3, ISR 2)"
    )
    parser.add_argument("--households", type=int, default=40, help="households per simulated round")
    parser.add_argument(
        "--kind",
        action="append",
        choices=[k.name.lower() for k in Kind],
        help="only these kinds (repeatable)",
    )
    parser.add_argument("--report", type=Path, default=None, help="write the report here (CHAOS.md)")
    parser.add_argument("--keep", action="store_true", help="keep the run folder and databases")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    command = " ".join(["python -m chaos", *(argv if argv is not None else sys.argv[1:])])
    options = ChaosOptions(
        faults=args.faults,
        seed=args.seed,
        kinds=[Kind[name.upper()] for name in args.kind] if args.kind else None,
        postgres_restarts=args.postgres_restarts,
        households_per_round=args.households,
        brokers=args.brokers,
        report_path=args.report,
        keep=args.keep,
        command=command,
    )
    result = asyncio.run(run_chaos(options))
    verdict = "all invariants hold" if result.passed else "INVARIANTS BROKEN"
    print(f"chaos: {len(result.outcomes)} faults in {result.seconds / 60:.1f} min; {verdict}", flush=True)
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
