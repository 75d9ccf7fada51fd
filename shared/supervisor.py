"""`asielketen run` (what `make run` calls): Kafka and the five services on one machine, until Ctrl-C.

Each service is its own process (`uvicorn --factory`), in its own process group so that Ctrl-C reaches
only this supervisor, which then stops the services (SIGTERM, then SIGKILL after a grace period) and
the broker it started, in that order, leaving nothing behind. Logs go to <data dir>/logs/<service>.log.
Data (SQLite files, Kafka log) stays under the data folder and survives a restart.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from shared.auth import ensure_dev_keys, mint_token
from shared.cli import EVENT_TOPICS, SERVICES
from shared.settings import DEFAULT_AUDIENCE, DEV_ISSUER

REPO = Path(__file__).resolve().parent.parent
KAFKA_SCRIPT = REPO / "deploy" / "kafka" / "kafka.sh"


def start_service(
    factory: str, port: int, env: dict[str, str], log_path: Path, *, workers: int = 1
) -> subprocess.Popen[bytes]:
    """One service as its own process (`uvicorn --factory`) on 127.0.0.1:`port`, logging to `log_path`,
    in its own process group so that a Ctrl-C reaches only whoever started it. With `workers` > 1,
    uvicorn forks that many worker processes under this one."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                factory,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
                *(["--workers", str(workers)] if workers > 1 else []),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _say(message: str) -> None:
    print(f"asielketen: {message}", flush=True)


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _stop_processes(processes: dict[str, subprocess.Popen[bytes]], grace_s: float = 15.0) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for name, process in processes.items():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _say(f"{name} did not stop in {grace_s:.0f}s; killing it")
            process.kill()
            process.wait()


def run_stack(*, data_dir: Path, kafka_port: int, use_existing_kafka: bool, port_base: int = 8000) -> int:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "logs").mkdir(exist_ok=True)
    private_key, jwks = ensure_dev_keys(data_dir / "auth")
    kafka_dir = data_dir / "kafka"
    started_kafka = False
    processes: dict[str, subprocess.Popen[bytes]] = {}
    stop_requested = False
    ports = {name: port_base + (default_port - 8000) for name, (_, default_port) in SERVICES.items()}

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        if use_existing_kafka:
            bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
        else:
            _say(f"starting Apache Kafka on 127.0.0.1:{kafka_port} (data in {kafka_dir})")
            subprocess.run([str(KAFKA_SCRIPT), "start", str(kafka_dir), str(kafka_port)], check=True)
            started_kafka = True
            bootstrap = f"127.0.0.1:{kafka_port}"
        from shared.kafka import ensure_topics, wait_until_ready

        asyncio.run(wait_until_ready(bootstrap, 90))
        asyncio.run(ensure_topics(bootstrap, {topic: 6 for topic in EVENT_TOPICS}))

        env = dict(
            os.environ,
            ASIELKETEN_DATA_DIR=str(data_dir),
            KAFKA_BOOTSTRAP_SERVERS=bootstrap,
            AUTH_JWKS_PATH=str(jwks),
            # The read side's system-health panel reads the other services' /metrics.
            ASIELKETEN_SERVICE_URLS=",".join(
                f"{name}=http://127.0.0.1:{port}" for name, port in ports.items() if name != "history"
            ),
        )
        for name, (factory, _) in SERVICES.items():
            port = ports[name]
            processes[name] = start_service(factory, port, env, data_dir / "logs" / f"{name}.log")
        deadline = time.monotonic() + 90
        waiting = dict(ports)
        while waiting and not stop_requested:
            for name, port in list(waiting.items()):
                if processes[name].poll() is not None:
                    _say(f"{name} exited during start-up; see {data_dir / 'logs' / (name + '.log')}")
                    return 1
                if _healthy(port):
                    del waiting[name]
            if time.monotonic() > deadline:
                _say(f"not healthy after 90s: {', '.join(waiting)}; see {data_dir / 'logs'}")
                return 1
            time.sleep(0.3)
        if stop_requested:
            return 0

        token = mint_token(
            private_key.read_bytes(),
            agency="COA",
            issuer=os.environ.get("AUTH_ISSUER", DEV_ISSUER),
            audience=os.environ.get("AUTH_AUDIENCE", DEFAULT_AUDIENCE),
        )
        _say("all services are up:")
        for name, port in ports.items():
            print(f"  {name:<10} http://127.0.0.1:{port}/docs", flush=True)
        print(f"\nKafka: {bootstrap}    logs: {data_dir / 'logs'}    data: {data_dir}", flush=True)
        print(
            "\nA development token (agency COA, valid 8 hours); other agencies: "
            "asielketen token --agency IND|AVIM|DTV|AUDIT|GEMEENTE:<municipality>",
            flush=True,
        )
        print(f"\n{token}\n", flush=True)
        _say("press Ctrl-C to stop everything")

        while not stop_requested:
            for name, process in processes.items():
                if process.poll() is not None:
                    _say(
                        f"{name} stopped unexpectedly (exit {process.returncode}); see "
                        f"{data_dir / 'logs' / (name + '.log')}; stopping the rest"
                    )
                    return 1
            time.sleep(0.5)
        return 0
    finally:
        if processes:
            _say("stopping the services")
            _stop_processes(processes)
        if started_kafka:
            _say("stopping Kafka")
            subprocess.run([str(KAFKA_SCRIPT), "stop", str(kafka_dir)], check=False)
        _say("stopped")
