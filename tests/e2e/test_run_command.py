"""`make run` as a new user meets it: `asielketen run` starts Kafka and the five services, prints a
token that works, keeps its data across a restart, and leaves no process behind after Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from shared.cli import SERVICES
from tests.infrastructure import free_port, free_port_range

TOKEN_LINE = re.compile(r"^(eyJ[\w-]+\.[\w-]+\.[\w-]+)$", re.MULTILINE)


def _start(data_dir: Path, kafka_port: int, port_base: int) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shared.cli",
            "run",
            "--data-dir",
            str(data_dir),
            "--kafka-port",
            str(kafka_port),
            "--port-base",
            str(port_base),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ),
    )
    output = ""
    deadline = time.monotonic() + 150
    assert process.stdout is not None
    while "press Ctrl-C" not in output:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            raise AssertionError(f"asielketen run exited early:\n{output}")
        output += line
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"asielketen run did not come up:\n{output}")
    return process, output


def _interrupt(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    remaining, _ = process.communicate(timeout=90)
    assert process.returncode == 0, remaining
    return remaining


def _processes_using(data_dir: Path) -> list[str]:
    listing = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True).stdout
    return [line for line in listing.splitlines() if str(data_dir) in line and "ps -eo" not in line]


def test_run_starts_everything_prints_a_working_token_and_stops_cleanly(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    kafka_port, port_base = free_port(), free_port_range(len(SERVICES))
    process, output = _start(data_dir, kafka_port, port_base)
    try:
        for offset in range(len(SERVICES)):
            assert httpx.get(f"http://127.0.0.1:{port_base + offset}/health").status_code == 200
        token = TOKEN_LINE.search(output)
        assert token, output
        locations = httpx.get(
            f"http://127.0.0.1:{port_base + 2}/v1/locations",
            headers={"Authorization": f"Bearer {token.group(1)}"},
        )
        assert locations.status_code == 200 and len(locations.json()) > 0
        registered = httpx.post(
            f"http://127.0.0.1:{port_base + 1}/v1/households",
            headers={
                "Authorization": "Bearer "
                + subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "shared.cli",
                        "token",
                        "--agency",
                        "AVIM",
                        "--data-dir",
                        str(data_dir),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.strip()
            },
            json={
                "channel": "ter-apel",
                "arrivalGroup": "first-application",
                "members": [{"role": "adult", "relation": "head", "birthYear": 1990, "nationality": "SYR"}],
            },
        )
        assert registered.status_code == 201, registered.text
    finally:
        _interrupt(process)
    assert _processes_using(data_dir) == []

    # Data survives a restart: the household registered above is still there.
    process, output = _start(data_dir, kafka_port, port_base)
    try:
        ind_token = subprocess.run(
            [sys.executable, "-m", "shared.cli", "token", "--agency", "IND", "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        again = httpx.get(
            f"http://127.0.0.1:{port_base + 1}/v1/households/{registered.json()['householdId']}",
            headers={"Authorization": f"Bearer {ind_token}"},
        )
        assert again.status_code == 200
    finally:
        _interrupt(process)
    assert _processes_using(data_dir) == []
