"""The five services as real processes (uvicorn), on PostgreSQL and the test run's Kafka broker:
what an integrating agency would talk to. Used by the end-to-end tests."""

from __future__ import annotations

import os
import re
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
                # five services at 4 (+4 overflow) each stay well inside PostgreSQL's 100 connections,
                # beside the tests' own engines (10 + 10 each by default: 5 x 20 would be all of them)
                DATABASE_POOL_SIZE="4",
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


# The routes that serve a person's data, per service (method, path pattern): each successful call must
# leave exactly one access-log operation with one record per person it returned. Written out here, not
# taken from the services, so that a route that forgets to record its reads fails the end-to-end tests.
PERSONAL_READS: dict[str, list[tuple[str, re.Pattern[str]]]] = {
    "intake": [
        ("GET", re.compile(r"/v1/households/[^/]+")),
        ("GET", re.compile(r"/v1/persons/[^/]+")),
        ("POST", re.compile(r"/v1/persons/_zoek")),
        ("POST", re.compile(r"/v1/persons/[^/]+/identity/_open")),
        ("POST", re.compile(r"/v1/persons/[^/]+/sealed-fields/_open")),
        ("GET", re.compile(r"/v1/erasures")),
    ],
    "placement": [("GET", re.compile(r"/v1/households/[^/]+/reception"))],
    "procedure": [
        ("GET", re.compile(r"/v1/applications/[^/]+")),
        ("GET", re.compile(r"/v1/households/[^/]+/application")),
    ],
    "return": [
        ("GET", re.compile(r"/v1/return-cases/[^/]+")),
        ("GET", re.compile(r"/v1/households/[^/]+/return-case")),
    ],
    "history": [
        ("GET", re.compile(r"/v1/persons/[^/]+/(residence-history|timeline)")),
        ("POST", re.compile(r"/v1/residence-history/_zoek")),
        ("GET", re.compile(r"/v1/(moves|children-policy)")),
        ("GET", re.compile(r"/v1/housing/households(/[^/]+)?")),
    ],
}


def is_personal_read(service: str, method: str, path: str) -> bool:
    bare = path.split("?", 1)[0]
    return any(method == m and pattern.fullmatch(bare) for m, pattern in PERSONAL_READS.get(service, []))


def persons_in(body: Any) -> tuple[set[str], set[str]]:
    """The person ids and household ids an answer holds (`personId`, `personIds`, `householdId`)."""
    persons: set[str] = set()
    households: set[str] = set()
    if isinstance(body, dict):
        for key, value in body.items():
            if key == "personId" and isinstance(value, str):
                persons.add(value)
            elif key == "personIds" and isinstance(value, list):
                persons.update(v for v in value if isinstance(v, str))
            elif key == "householdId" and isinstance(value, str):
                households.add(value)
            elif key != "data":  # a timeline entry's event data names other facts, not what was read
                inner_persons, inner_households = persons_in(value)
                persons |= inner_persons
                households |= inner_households
    elif isinstance(body, list):
        for value in body:
            inner_persons, inner_households = persons_in(value)
            persons |= inner_persons
            households |= inner_households
    return persons, households


@dataclass(frozen=True)
class PersonalRead:
    service: str
    method: str
    path: str
    status: int
    trace_id: str
    persons: frozenset[str]
    households: frozenset[str]


class Chain:
    """An HTTP client per agency, pointed at the right service: how the agencies use the chain.

    It remembers every read of a person's data it made, so that `verify_access_log` can check, as an
    auditor would, that each left exactly one record per person in that service's access log."""

    def __init__(self, stack: ServiceStack, token_for: MintToken) -> None:
        self.stack = stack
        self._token_for = token_for
        self._client = httpx.AsyncClient(timeout=10)
        self.personal_reads: list[PersonalRead] = []

    def headers(self, agency: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token_for(agency)}"}

    async def call(
        self, method: str, service: str, path: str, agency: str, json: Any = None
    ) -> httpx.Response:
        response = await self._client.request(
            method, self.stack.urls[service] + path, headers=self.headers(agency), json=json
        )
        if is_personal_read(service, method, path):
            persons, households = persons_in(response.json()) if response.is_success else (set(), set())
            self.personal_reads.append(
                PersonalRead(
                    service,
                    method,
                    path,
                    response.status_code,
                    response.headers["X-Correlation-ID"],
                    frozenset(persons),
                    frozenset(households),
                )
            )
        return response

    async def verify_access_log(self) -> None:
        """Every personal read this client made left exactly one operation in the access log, with one
        record per person in the answer (and nothing else), or per household for an answer that names
        households only (the municipalities' housing view); a refused or empty read left none."""
        for read in self.personal_reads:
            response = await self._client.post(
                self.stack.urls[read.service] + "/v1/access-log/_zoek?pageSize=500",
                headers=self.headers("AUDIT"),
                json={"traceId": read.trace_id},
            )
            assert response.status_code == 200, response.text
            records = response.json()["results"]
            where = f"{read.method} {read.path} on {read.service} ({read.status}, trace {read.trace_id})"
            if not read.persons and not read.households:
                assert records == [], f"{where}: answered no person, yet logged {records}"
                continue
            assert records, f"{where}: answered {len(read.persons)} person(s) but logged no read"
            assert {r["kind"] for r in records} == {"read"}, where
            assert len({r["operationId"] for r in records}) == 1, f"{where}: more than one operation logged"
            subjects = [r["dataSubjectId"] for r in records]
            assert len(subjects) == len(set(subjects)), f"{where}: a person logged twice"
            assert read.persons <= set(subjects), f"{where}: persons read but not logged"
            assert set(subjects) <= read.persons | read.households, f"{where}: logged someone not read"
            if not read.persons:
                assert set(subjects) == read.households, f"{where}: households read but not logged"

    async def close(self) -> None:
        await self._client.aclose()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False
