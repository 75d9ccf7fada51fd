"""`asielketen`: the operators' command line.

asielketen token --agency COA            a development access token (creates the dev key if needed)
asielketen run                           Kafka + the five services, until Ctrl-C (what `make run` does)
asielketen kafka-ready / topics          wait for the broker / create the chain's topics
asielketen migrate SERVICE               bring one service's database to the newest schema
asielketen rebuild [MODEL ...] --into URL  rebuild the read side (or some models) from offset 0 into a
                                         fresh database
asielketen checksum [URL] [--model M]    a deterministic checksum of the read side's models
asielketen import SERVICE FILE          bulk-import events (JSON lines, one CloudEvent a line) into a
                                         service's event store, all or nothing (docs/operations.md)
asielketen dlq list CONSUMER             what a consumer dead-lettered: offset, time, reason, type, event
asielketen dlq show CONSUMER OFFSET      one dead-lettered message: its headers, error and payload
asielketen dlq replay CONSUMER OFFSET    after a fix: forget the dead-lettering in the consumer's
                                         database (<CONSUMER>_DATABASE_URL or --database-url) and
                                         republish the message to its original topic (shared/dlq.py)
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from pathlib import Path

from shared.auth import AGENCY_SCOPES, ensure_dev_keys, mint_token
from shared.settings import DEFAULT_AUDIENCE, DEV_ISSUER

SERVICES: dict[str, tuple[str, int]] = {
    # name: (uvicorn factory, port with the default --port-base 8000)
    "history": ("history.entrypoints.app:create_app", 8000),
    "intake": ("intake.entrypoints.app:create_app", 8001),
    "placement": ("placement.entrypoints.app:create_app", 8002),
    "procedure": ("procedure.entrypoints.app:create_app", 8003),
    "return": ("repatriation.entrypoints.app:create_app", 8004),
}
EVENT_TOPICS = [f"{name}.events" for name in ("intake", "placement", "procedure", "return")]


def _data_dir(value: str | None) -> Path:
    return Path(value or os.environ.get("ASIELKETEN_DATA_DIR", "data"))


def cmd_token(args: argparse.Namespace) -> int:
    agency, _, municipality = args.agency.partition(":")
    if agency not in AGENCY_SCOPES:
        print(f"unknown agency {agency!r}; choose from {', '.join(AGENCY_SCOPES)}", file=sys.stderr)
        return 2
    if agency == "GEMEENTE" and not municipality:
        print(
            "a municipality token names the municipality: --agency GEMEENTE:<municipality>", file=sys.stderr
        )
        return 2
    private_key, _ = ensure_dev_keys(_data_dir(args.data_dir) / "auth")
    print(
        mint_token(
            private_key.read_bytes(),
            agency=agency,
            municipality=municipality or None,
            issuer=os.environ.get("AUTH_ISSUER", DEV_ISSUER),
            audience=os.environ.get("AUTH_AUDIENCE", DEFAULT_AUDIENCE),
            client_id=args.client,
            lifetime_s=args.hours * 3600,
        )
    )
    return 0


def cmd_kafka_ready(args: argparse.Namespace) -> int:
    from shared.kafka import wait_until_ready

    asyncio.run(wait_until_ready(args.bootstrap, args.timeout))
    return 0


def cmd_topics(args: argparse.Namespace) -> int:
    from shared.kafka import ensure_topics

    topics = {name: args.partitions for name in EVENT_TOPICS}
    created = asyncio.run(ensure_topics(args.bootstrap, topics, replication_factor=args.replication_factor))
    print("created: " + (", ".join(created) if created else "nothing (all topics exist)"))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    import importlib

    from shared.eventstore.migrations import upgrade_to_head
    from shared.settings import ServiceSettings

    module = importlib.import_module(SERVICES[args.service][0].split(":")[0])
    settings = ServiceSettings.load(args.service)
    upgrade_to_head(settings.database_url, module.DEFINITION.migrations)
    print(f"{args.service}: schema is current")
    return 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    import importlib

    from shared.settings import ServiceSettings

    rebuild = importlib.import_module("history.entrypoints.rebuild")  # shared imports no service statically
    settings = ServiceSettings.load("history")  # KAFKA_BOOTSTRAP_SERVERS, KAFKA_REPLICATION_FACTOR
    models = args.models or rebuild.READ_MODELS
    try:
        asyncio.run(
            rebuild.rebuild(
                args.into,
                settings.kafka_bootstrap_servers,
                models=models,
                replication_factor=settings.kafka_replication_factor,
            )
        )
    except ValueError as error:  # an unknown model name
        print(f"asielketen rebuild: {error}", file=sys.stderr)
        return 2
    where = args.into.split("@")[-1]
    if args.models:
        print(f"rebuilt {', '.join(models)} into {where}; compare: asielketen checksum URL --model M")
    else:
        print(f"rebuilt into {where}; point HISTORY_DATABASE_URL at it to switch over")
    return 0


def cmd_checksum(args: argparse.Namespace) -> int:
    import importlib

    from shared.settings import ServiceSettings

    rebuild = importlib.import_module("history.entrypoints.rebuild")
    url = args.database_url or ServiceSettings.load("history").database_url
    try:
        found = asyncio.run(rebuild.checksums(url, args.model or rebuild.READ_MODELS))
    except ValueError as error:
        print(f"asielketen checksum: {error}", file=sys.stderr)
        return 2
    for model, value in found.items():
        print(f"{model}\t{value}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    import asyncpg
    from sqlalchemy.exc import IntegrityError

    from shared.eventstore.bulk_import import ImportRefused, import_events
    from shared.eventstore.database import create_engine
    from shared.kafka import events_topic
    from shared.settings import ServiceSettings

    definition = importlib.import_module(SERVICES[args.service][0].split(":")[0]).DEFINITION
    if not definition.publishes:
        print(f"asielketen import: {args.service} keeps no event stream of its own", file=sys.stderr)
        return 2
    settings = ServiceSettings.load(args.service)  # the database and the event source are all it needs
    url = args.database_url or settings.database_url
    printed_at = [0.0]

    def progress(events: int, seconds: float) -> None:
        if seconds - printed_at[0] >= 1.0:  # a line a second at most
            printed_at[0] = seconds
            print(
                f"imported {events:,} events ({events / seconds:,.0f} events/s)", file=sys.stderr, flush=True
            )

    async def run() -> None:
        engine = create_engine(url, pool_size=1)
        try:
            summary = await import_events(
                engine,
                Path(args.file),
                definition.registry(),
                source=settings.event_source,
                topic=events_topic(args.service),
                publish=not args.no_publish,
                batch_size=args.batch_size,
                progress=progress,
            )
        finally:
            await engine.dispose()
        published = "with outbox rows (the relay publishes them)" if summary.published else "not published"
        print(
            f"imported {summary.events:,} events in {summary.streams:,} streams from {args.file} "
            f"in {summary.seconds:.1f} s ({summary.per_second:,.0f} events/s), {published}"
        )

    try:
        asyncio.run(run())
    except ImportRefused as refused:
        print(f"asielketen import: {args.file}: {refused}; nothing was imported", file=sys.stderr)
        return 1
    except (IntegrityError, asyncpg.IntegrityConstraintViolationError) as error:
        # Checked lines that still collide: the service wrote to one of the file's streams meanwhile.
        print(
            f"asielketen import: a concurrent write to the store ({error}); nothing was imported",
            file=sys.stderr,
        )
        return 1
    except OSError as error:
        print(f"asielketen import: {error}", file=sys.stderr)
        return 2
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    return int(importlib.import_module("simulator.cli").run(args))


def cmd_run(args: argparse.Namespace) -> int:
    from shared.supervisor import run_stack

    return run_stack(
        data_dir=_data_dir(args.data_dir).resolve(),
        kafka_port=args.kafka_port,
        use_existing_kafka=args.external_kafka,
        port_base=args.port_base,
    )


def cmd_dlq(args: argparse.Namespace) -> int:
    from shared import dlq

    if args.action == "list":
        letters = asyncio.run(dlq.dead_letters(args.bootstrap, args.consumer))
        print("offset\ttime\treason\ttype\tevent id\tfrom")
        for letter in letters:
            print(letter.summary())
        return 0
    if args.offset is None:
        print(f"dlq {args.action} needs the OFFSET of the message (see `dlq list`)", file=sys.stderr)
        return 2
    if args.action == "show":
        try:
            letter = asyncio.run(dlq.dead_letter(args.bootstrap, args.consumer, args.offset))
        except LookupError as error:
            print(error, file=sys.stderr)
            return 1
        print(letter.summary())
        for name, value in letter.headers:
            print(f"{name}: {value.decode(errors='replace')}")
        print((letter.value or b"").decode(errors="replace"))
        return 0
    return _dlq_replay(args)


def _dlq_replay(args: argparse.Namespace) -> int:
    from shared import dlq
    from shared.settings import ServiceSettings

    url = args.database_url or ServiceSettings.load(args.consumer).database_url
    try:
        letter = asyncio.run(dlq.replay(args.bootstrap, args.consumer, args.offset, url))
    except (LookupError, ValueError) as error:
        print(error, file=sys.stderr)
        return 1
    print(f"replayed to {letter.header('dlq_topic')}: {letter.summary()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="asielketen", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)

    token = sub.add_parser("token", help="mint a development access token")
    token.add_argument("--agency", required=True, help=f"{', '.join(AGENCY_SCOPES)}; GEMEENTE:<municipality>")
    token.add_argument("--client", default=None, help="client id (default: <agency>-dev-client)")
    token.add_argument("--hours", type=int, default=8, help="lifetime in hours")
    token.add_argument("--data-dir", default=None)
    token.set_defaults(func=cmd_token)

    ready = sub.add_parser("kafka-ready", help="wait until the broker answers a metadata request")
    ready.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    ready.add_argument("--timeout", type=float, default=90.0)
    ready.set_defaults(func=cmd_kafka_ready)

    topics = sub.add_parser("topics", help="create the chain's event topics (kept forever)")
    topics.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    topics.add_argument("--partitions", type=int, default=6)
    topics.add_argument("--replication-factor", type=int, default=1)
    topics.set_defaults(func=cmd_topics)

    migrate = sub.add_parser("migrate", help="migrate one service's database")
    migrate.add_argument("service", choices=sorted(SERVICES))
    migrate.set_defaults(func=cmd_migrate)

    rebuild = sub.add_parser("rebuild", help="rebuild the read side from offset 0 into a fresh database")
    rebuild.add_argument(
        "models", nargs="*", metavar="MODEL", help="residence, locations, persons, timeline, housing"
    )
    rebuild.add_argument("--into", required=True, help="SQLAlchemy URL of a new, empty database")
    rebuild.set_defaults(func=cmd_rebuild)

    checksum = sub.add_parser("checksum", help="deterministic checksum of the read side's models")
    checksum.add_argument("database_url", nargs="?", default=None, help="default: HISTORY_DATABASE_URL")
    checksum.add_argument("--model", action="append", help="only this read model (repeatable)")
    checksum.set_defaults(func=cmd_checksum)

    bulk = sub.add_parser("import", help="bulk-import events from a JSON-lines file, all or nothing")
    bulk.add_argument("service", choices=sorted(name for name in SERVICES if name != "history"))
    bulk.add_argument("file", help="one CloudEvent (JSON) per line, see docs/operations.md")
    bulk.add_argument("--database-url", default=None, help="default: <SERVICE>_DATABASE_URL")
    bulk.add_argument(
        "--no-publish", action="store_true", help="history only: no outbox rows, nothing goes to Kafka"
    )
    bulk.add_argument("--batch-size", type=int, default=5000, help="lines checked and written at a time")
    bulk.set_defaults(func=cmd_import)

    dead = sub.add_parser("dlq", help="list, show or replay a consumer's dead-lettered messages")
    dead.add_argument("action", choices=["list", "show", "replay"])
    dead.add_argument("consumer", help="the consumer (= service) name: history, placement, procedure, return")
    dead.add_argument("offset", type=int, nargs="?", default=None, help="offset on <consumer>.dlq")
    dead.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    dead.add_argument("--database-url", default=None, help="the consumer's database (replay)")
    dead.set_defaults(func=cmd_dlq)

    run = sub.add_parser("run", help="run Kafka and the five services until Ctrl-C")
    run.add_argument("--data-dir", default=None)
    run.add_argument("--kafka-port", type=int, default=9092)
    run.add_argument(
        "--port-base",
        type=int,
        default=8000,
        help="history gets this port, intake +1, placement +2, procedure +3, return +4",
    )
    run.add_argument(
        "--external-kafka",
        action="store_true",
        help="use KAFKA_BOOTSTRAP_SERVERS instead of starting a local broker",
    )
    run.set_defaults(func=cmd_run)

    simulate = sub.add_parser(
        "simulate", help="drive a running chain's HTTP APIs with a seeded national flow (DOMAIN.md figures)"
    )
    importlib.import_module("simulator.cli").add_arguments(simulate)  # shared imports nothing statically
    simulate.set_defaults(func=cmd_simulate)

    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
