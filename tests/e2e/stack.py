"""The five services as real processes (uvicorn), on PostgreSQL and the test run's Kafka broker:
what an integrating agency would talk to. Used by the end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from shared.cli import SERVICES
from shared.supervisor import start_service
from tests.fixtures import MintToken
from tests.helpers import VAULT_TEST_KEY
from tests.infrastructure import free_port


@dataclass
class ServiceStack:
    kafka_bootstrap: str
    database_urls: dict[str, str]
    jwks_path: Path
    log_dir: Path
    urls: dict[str, str] = field(default_factory=dict)
    _processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, timeout_s: float = 90.0) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        ports = {name: free_port() for name in SERVICES}
        # The read side's system-health panel reads the other services' /metrics.
        peers = ",".join(f"{name}=http://127.0.0.1:{p}" for name, p in ports.items() if name != "history")
        for name, (factory, _) in SERVICES.items():
            port = ports[name]
            env = dict(
                os.environ,
                ASIELKETEN_ENV="test",
                PYTHONUNBUFFERED="1",  # a process killed at the end keeps its last log lines
                ASIELKETEN_DATA_DIR=str(self.log_dir),
                KAFKA_BOOTSTRAP_SERVERS=self.kafka_bootstrap,
                AUTH_JWKS_PATH=str(self.jwks_path),
                VAULT_MASTER_KEY=VAULT_TEST_KEY,
                ASIELKETEN_SERVICE_URLS=peers,
                **{f"{name.upper()}_DATABASE_URL": self.database_urls[name]},
            )
            self._processes[name] = start_service(factory, port, env, self.log_dir / f"{name}.log")
            self.urls[name] = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout_s
        for name, url in self.urls.items():
            while not _healthy(url):
                if self._processes[name].poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"{name} did not become healthy; log:\n{self.log(name)[-4000:]}")
                time.sleep(0.2)

    def log(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        for process in self._processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self._processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes.clear()


class Chain:
    """An HTTP client per agency, pointed at the right service: how the agencies use the chain."""

    def __init__(self, stack: ServiceStack, token_for: MintToken) -> None:
        self.stack = stack
        self._token_for = token_for
        self._client = httpx.AsyncClient(timeout=10)

    def headers(self, agency: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token_for(agency)}"}

    async def call(
        self, method: str, service: str, path: str, agency: str, json: Any = None
    ) -> httpx.Response:
        return await self._client.request(
            method, self.stack.urls[service] + path, headers=self.headers(agency), json=json
        )

    async def close(self) -> None:
        await self._client.aclose()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False
