"""Benchmark: rebuild the read side from offset 0 beside a live one, prove them equal, query over HTTP.

    .venv/bin/python -m bench.rebuild --events 100000    (make bench-rebuild; EVENTS=1000000: the full run)

Starts a broker of its own (deploy/kafka/kafka.sh) and uses the machine's PostgreSQL (deploy/postgres),
produces N `resident-placed` facts for N people to `placement.events` (6 partitions), then:
1. times `asielketen rebuild`'s code path into a fresh database (nothing else running);
2. starts the read-side service itself (uvicorn, its own fresh database) and times how long its live
   consumer takes to apply the first `--live-events` events of the same topic (all of them by default up
   to 200,000; a live read side catches up several times slower than a rebuild, and 1,000,000 would take
   most of `make bench`'s half hour);
3. if it applied them all: compares `asielketen checksum` of the two databases, model by model;
4. times 1,000 residence-history searches (`POST /v1/residence-history/_zoek`) for random people over
   HTTP against a read side holding every stay (the live one, or one started on the rebuilt database,
   to which the rebuild handed its positions), sequentially, after 50 warm-up requests; then 100
   occupancy queries (`GET /v1/occupancy?groupBy=location`) and 100 children-policy lists
   (`GET /v1/children-policy`);
5. reads the peak resident memory of the rebuild (this process) and of the read sides.
Prints the figures and appends a row to BENCHMARKS.md. Nothing here is asserted; a checksum mismatch is
reported in the row and makes the command exit 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.databases import drop, fresh_database
from bench.report import peak_memory_mb, percentile, save_results
from history.entrypoints.rebuild import checksums, rebuild
from history.service_layer.freshness import CONSUMER
from shared.auth import ensure_dev_keys, mint_token
from shared.contracts.intake import MemberRole
from shared.contracts.placement import LocationType, MoveReason, ResidentPlaced
from shared.envelope import Envelope, to_kafka
from shared.eventstore.database import create_engine
from shared.eventstore.schema import consumer_positions
from shared.ids import new_id
from shared.kafka import ensure_topics, make_producer, start_bounded, stop_quietly
from shared.settings import DEFAULT_AUDIENCE, DEV_ISSUER
from shared.supervisor import start_service
from tests.infrastructure import KAFKA_SCRIPT, POSTGRES_SCRIPT, free_port

REPO = Path(__file__).resolve().parent.parent
LOCATIONS = [(new_id(), f"azc {n}", "Noord-Brabant") for n in range(40)]


def placed(person_id: str, n: int) -> Envelope:
    location_id, name, province = LOCATIONS[n % len(LOCATIONS)]
    event = ResidentPlaced(
        person_id=person_id,
        household_id=new_id(),
        role=MemberRole.ADULT,
        location_id=location_id,
        location_name=name,
        location_type=LocationType.AZC_AANMELD,
        municipality="Gilze en Rijen",
        province=province,
        reason=MoveReason.REGISTRATION,
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    now = datetime.now(UTC)
    return Envelope(
        id=new_id(),
        source="urn:nld:asielketen:systeem:placement",
        type=event.type_name,
        subject=event.subject,
        time=now,
        occurredat=event.occurred_at,
        schemaversion=event.schema_version,
        actor="COA:bench",
        correlationid=new_id(),
        causationid=None,
        streamid=f"reception-{event.household_id}",
        streamversion=1,
        legalbasis=event.legal_basis,
        data=event.data(),
    )


async def produce(bootstrap: str, count: int) -> list[str]:
    producer = make_producer(bootstrap, "bench-producer")
    await start_bounded(producer)
    people = [new_id() for _ in range(count)]
    started = time.monotonic()
    try:
        pending = []
        for n, person in enumerate(people):
            message = to_kafka(placed(person, n))
            pending.append(
                await producer.send(
                    "placement.events", value=message.value, key=message.key, headers=message.headers
                )
            )
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await stop_quietly(producer)
    print(f"produced {count} events in {time.monotonic() - started:.1f}s", flush=True)
    return people


async def applied_offsets(url: str, consumer: str) -> int:
    import sqlalchemy as sa

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            total = await connection.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(consumer_positions.c.next_offset), 0)).where(
                    consumer_positions.c.consumer == consumer
                )
            )
            return int(total or 0)
    except sa.exc.ProgrammingError:  # the service has not migrated its database yet
        return 0
    finally:
        await engine.dispose()


async def live_catch_up(
    url: str, bootstrap: str, events: int, work: Path
) -> tuple[subprocess.Popen[bytes], float, str]:
    """Start the read-side service on `url` and wait until it applied `events`; return it, the time that
    took, and its base URL."""
    _, jwks = ensure_dev_keys(work / "auth")
    port = free_port()
    env = dict(
        os.environ,
        ASIELKETEN_ENV="test",
        ASIELKETEN_DATA_DIR=str(work),
        KAFKA_BOOTSTRAP_SERVERS=bootstrap,
        AUTH_JWKS_PATH=str(jwks),
        HISTORY_DATABASE_URL=url,
    )
    started = time.monotonic()
    service = start_service("history.entrypoints.app:create_app", port, env, work / "history.log")
    last_report = started
    while (done := await applied_offsets(url, CONSUMER)) < events:
        if service.poll() is not None:
            raise RuntimeError(f"the read side exited; see {work / 'history.log'}")
        if time.monotonic() - last_report > 10:
            elapsed = time.monotonic() - started
            print(f"live read side: {done}/{events} ({done / elapsed:,.0f} events/s)", flush=True)
            last_report = time.monotonic()
        await asyncio.sleep(0.5)
    caught_up_s = time.monotonic() - started
    base_url = f"http://127.0.0.1:{port}"
    # On a database that is caught up already (the rebuilt one) that is at once, before it answers HTTP.
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as client:
        for _ in range(300):
            if service.poll() is not None:
                raise RuntimeError(f"the read side exited; see {work / 'history.log'}")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/ready")).status_code == 200:
                    return service, caught_up_s, base_url
            await asyncio.sleep(0.2)
    raise RuntimeError(f"the read side did not become ready; see {work / 'history.log'}")


async def http_latencies(base_url: str, token: str, people: list[str], samples: int = 1000) -> list[float]:
    latencies = []
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as client:
        chosen = random.sample(people, min(samples + 50, len(people)))
        for n, person in enumerate(chosen):
            started = time.perf_counter()
            response = await client.post("/v1/residence-history/_zoek", json={"personId": person})
            elapsed_ms = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"search answered {response.status_code}: {response.text[:300]}")
            if len(response.json()["stays"]) != 1:
                raise RuntimeError(f"expected one stay for {person}: {response.text[:300]}")
            if n >= 50:  # the first 50 warm up connections and caches
                latencies.append(elapsed_ms)
    return latencies


async def query_latencies(
    base_url: str, token: str, path: str, samples: int = 100, budget_s: float = 60
) -> list[float]:
    """ms per GET of `path`, sequentially, after up to 10 warm-up requests; at most `samples`, and no more
    than fit in `budget_s` once three are in (at 1,000,000 stays the occupancy took about a minute per
    query, which would have kept `make bench` busy for hours)."""
    latencies: list[float] = []
    started_all = time.monotonic()
    async with httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=600
    ) as client:
        for n in range(samples + 10):
            started = time.perf_counter()
            response = await client.get(path)
            elapsed_ms = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:300]}")
            if n >= 10 or elapsed_ms > 1000:  # a slow query warms nothing up: count it
                latencies.append(elapsed_ms)
            if len(latencies) >= 3 and time.monotonic() - started_all > budget_s:
                break
    print(f"{path}: {len(latencies)} timed queries", flush=True)
    return latencies


async def measure(bootstrap: str, events: int, live_events: int, work: Path) -> tuple[str, bool]:
    await ensure_topics(bootstrap, {"placement.events": 6})
    people = await produce(bootstrap, events)
    rebuilt_url, live_url = await fresh_database("rebuilt"), await fresh_database("live")
    result = await rebuild(rebuilt_url, bootstrap, topics=["placement.events"], out=sys.stdout)
    rebuild_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    live_goal = min(events, live_events)
    service, live_s, base_url = await live_catch_up(live_url, bootstrap, live_goal, work)
    peaks = [max(peak_memory_mb(service.pid).values())]
    same: bool | None = None
    try:
        if live_goal == events:
            rebuilt, live = await checksums(rebuilt_url), await checksums(live_url)
            for model in rebuilt:
                mark = "same" if rebuilt[model] == live[model] else "DIFFERENT"
                print(f"checksum {model:18} rebuilt {rebuilt[model][:24]}  live {live[model][:24]}  {mark}")
            same = rebuilt == live
        else:
            # A live read side catches up far slower than a rebuild: timed over the first `live_goal`
            # events only, then stopped; the queries go to a read side on the rebuilt database, which the
            # rebuild handed its positions (blue/green), so it starts caught up with all the stays.
            service.terminate()
            service.wait(timeout=30)
            service, _, base_url = await live_catch_up(rebuilt_url, bootstrap, events, work)
        private_key = (work / "auth" / "dev-private-key.pem").read_bytes()
        token = mint_token(private_key, agency="IND", issuer=DEV_ISSUER, audience=DEFAULT_AUDIENCE)
        latencies = await http_latencies(base_url, token, people)
        occupancy = await query_latencies(base_url, token, "/v1/occupancy?groupBy=location")
        children = await query_latencies(base_url, token, "/v1/children-policy")
        peaks.append(max(peak_memory_mb(service.pid).values()))
    finally:
        service.terminate()
        service.wait(timeout=30)
        for url in (rebuilt_url, live_url):
            await drop(url)
    live_peak_mb = max(peaks)
    save_results(
        "rebuild",
        {
            "events": events,
            "events_per_s": result["events_per_s"],
            "live_events": live_goal,
            "live_events_per_s": live_goal / live_s,
            "checksums_identical": same,
            "search_p99_ms": percentile(latencies, 0.99),
            "rebuild_peak_mb": rebuild_peak_mb,
            "live_peak_mb": live_peak_mb,
        },
    )
    compared = {True: "identical", False: "DIFFERENT", None: f"not compared (live stopped at {live_goal:,})"}
    row = (
        f"| {datetime.now(UTC):%Y-%m-%d} | {events:,} | {result['seconds']:.1f} s | "
        f"{result['events_per_s']:,.0f} | {live_goal / live_s:,.0f} (first {live_goal:,}) | "
        f"{compared[same]} | {statistics.median(latencies):.1f} ms | "
        f"{percentile(latencies, 0.99):.1f} ms | {statistics.median(occupancy):.0f} / "
        f"{percentile(occupancy, 0.99):.0f} ms | {statistics.median(children):.0f} / "
        f"{percentile(children, 0.99):.0f} ms | {rebuild_peak_mb:,.0f} MB | {live_peak_mb:,.0f} MB |"
    )
    return row, same is not False


def main(events: int, live_events: int) -> int:
    subprocess.run([str(POSTGRES_SCRIPT), "ensure", str(os.getpid())], check=True)
    work = Path(tempfile.mkdtemp(prefix="asielketen-bench-"))
    data_dir, port = work / "kafka", free_port()
    subprocess.run([str(KAFKA_SCRIPT), "start", str(data_dir), str(port)], check=True)
    try:
        line, same = asyncio.run(measure(f"127.0.0.1:{port}", events, live_events, work))
    finally:
        subprocess.run([str(KAFKA_SCRIPT), "stop", str(data_dir)], check=False)
    print(line, flush=True)
    report = REPO / "BENCHMARKS.md"
    if not report.exists():
        report.write_text(HEADER.format(machine=f"{platform.machine()}, {os.cpu_count()} cores", table=TABLE))
    report.write_text(with_row(report.read_text(), line))
    return 0 if same else 1


def with_row(text: str, row: str) -> str:
    """The report with `row` added at the end of the rebuild table (the notes below it stay below)."""
    lines = text.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("| date | events | rebuild time"))
    end = start
    while end + 1 < len(lines) and lines[end + 1].startswith("|"):
        end += 1
    return "\n".join([*lines[: end + 1], row, *lines[end + 1 :]]) + "\n"


HEADER = """# Benchmarks

Measured on this project's machines ({machine}, PostgreSQL 15, Kafka 4.1.1 single node), never asserted
in tests. Each row is one run of the command named above its table.

## Read-side rebuild from offset 0, beside a live read side, and the residence-history search over HTTP

`.venv/bin/python -m bench.rebuild --events N` (`make bench-rebuild EVENTS=N`): N `resident-placed` facts
for N people (so N stays) on `placement.events` (6 partitions). *rebuild*: `asielketen rebuild`'s code path
into a fresh PostgreSQL database, alone on the machine. *live*: the read-side service itself (uvicorn) on
another fresh database, catching up with the same topic. *checksums*: `asielketen checksum` of the two,
model by model. *search*: 1,000 sequential `POST /v1/residence-history/_zoek` for random people against
the live service, after 50 warm-up requests. *occupancy*, *children*: p50 / p99 of up to 100 sequential
`GET /v1/occupancy?groupBy=location` and `GET /v1/children-policy` (as many as fit in a minute, at
least 3). *peak RSS*: the rebuild process's and the live read side's peak resident memory.

{table}
"""
TABLE = (
    "| date | events | rebuild time | rebuild events/s | live events/s | checksums | search p50 | search p99 "
    "| occupancy p50 / p99 | children p50 / p99 | rebuild peak RSS | live peak RSS |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|"
)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument(
        "--live-events",
        type=int,
        default=200_000,
        help="time the live read side over this many events; with fewer than --events it is stopped "
        "there and the two databases are not compared",
    )
    arguments = parser.parse_args()
    raise SystemExit(main(arguments.events, arguments.live_events))
