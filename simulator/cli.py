"""`asielketen simulate`: a national flow through a running chain (`make run`'s ports by default)."""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from shared.auth import ensure_dev_keys, mint_token
from shared.settings import DEFAULT_AUDIENCE, DEV_ISSUER
from simulator.client import HttpChain, observe
from simulator.flow import Simulation
from simulator.parameters import ACCELERATED_SHARE, MINORS_SHARE, FlowParameters, national

# The services and their ports with `asielketen run --port-base 8000` (shared.cli.SERVICES).
PORT_OFFSETS = {"history": 0, "intake": 1, "placement": 2, "procedure": 3, "return": 4}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--years", type=float, default=1.0, help="simulated period, ending now")
    parser.add_argument("--scale", type=float, default=1.0, help="share of the national inflow (1: ~35,000)")
    parser.add_argument(
        "--speed",
        type=float,
        default=0.0,
        help="simulated time per real time (604800: a week per second); 0: as fast as the chain answers",
    )
    parser.add_argument("--seed", type=int, default=5, help="the same seed tells the same story")
    parser.add_argument("--base-url", default="http://127.0.0.1", help="where the services listen")
    parser.add_argument("--port-base", type=int, default=8000, help="history's port; intake +1, … return +4")
    parser.add_argument(
        "--url", action="append", default=[], metavar="SERVICE=URL", help="one service elsewhere (repeatable)"
    )
    parser.add_argument("--data-dir", default=None, help="where `make run` keeps the dev key (default data/)")
    parser.add_argument("--concurrency", type=int, default=8, help="commands in flight at once")
    parser.add_argument("--sample", type=int, default=500, help="people whose timelines are read back")


def service_urls(base_url: str, port_base: int, overrides: list[str]) -> dict[str, str]:
    urls = {name: f"{base_url}:{port_base + offset}" for name, offset in PORT_OFFSETS.items()}
    for override in overrides:
        name, _, url = override.partition("=")
        if name not in urls or not url:
            raise SystemExit(f"--url takes SERVICE=URL with SERVICE one of {', '.join(urls)}")
        urls[name] = url.rstrip("/")
    return urls


def run(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir or os.environ.get("ASIELKETEN_DATA_DIR", "data"))
    private_key, _ = ensure_dev_keys(data_dir / "auth")  # the key `make run` made: its services trust it
    key = private_key.read_bytes()

    def mint(agency: str) -> str:
        return mint_token(key, agency=agency, issuer=DEV_ISSUER, audience=DEFAULT_AUDIENCE)

    parameters = national(years=args.years, scale=args.scale)
    print(
        f"simulating {args.years:g} year(s) at scale {args.scale:g}: {parameters.households:,} households, "
        f"~{parameters.households * parameters.people_per_household:,.0f} people (seed {args.seed})",
        flush=True,
    )
    return asyncio.run(_simulate(args, parameters, mint))


async def _simulate(args: argparse.Namespace, parameters: FlowParameters, mint: Callable[[str], str]) -> int:
    chain = HttpChain(service_urls(args.base_url, args.port_base, args.url), mint)
    try:
        simulation = Simulation(
            chain,
            parameters,
            seed=args.seed,
            concurrency=args.concurrency,
            window=timedelta(days=7),  # a week at a time, as the inflow figures are counted
            speed=args.speed,
            settle_timeout=600,  # a national week is a few thousand commands and their reactions
        )
        report = await simulation.run()
        print(f"{report.commands:,} commands, {report.registered_people:,} people in {report.seconds:,.0f} s")
        print(f"seconds per phase: {report.phases}")
        seen = await observe(chain, report, sample=args.sample, seed=args.seed)
    finally:
        await chain.close()
    print(
        f"read side, {seen.sampled:,} people sampled: {seen.registered:,} registered; "
        f"minors {seen.minors_share:.1%} (parameter {MINORS_SHARE:.0%}); "
        f"accelerated {seen.accelerated_share:.1%} of {seen.streamed:,} with a stream "
        f"(parameter {ACCELERATED_SHARE:.0%})"
    )
    return 0 if seen.registered == seen.sampled else 1
