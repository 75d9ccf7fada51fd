"""The load of a chaos run: the simulator (simulator/), round after round with a new seed each time, through
the services' HTTP APIs while faults are injected.

A client that meets a dying service does what an integrating agency's client should: it retries, with the
same `Idempotency-Key` for the same command, so a command that was committed before the connection broke
is answered from the stored answer, never applied twice. Retries cover refused and broken connections,
timeouts, 5xx answers and 409 `idempotency-key-in-progress`, for up to `retry_for_s` per call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from shared.auth import mint_token
from shared.settings import DEFAULT_AUDIENCE, DEV_ISSUER
from simulator.flow import Simulation, SimulationError
from simulator.parameters import national

log = logging.getLogger("chaos.load")

RETRYABLE_ERRORS = (httpx.TransportError,)  # refused, reset, timed out, protocol broken off


@dataclass
class LoadFigures:
    rounds_finished: int = 0
    rounds_failed: int = 0
    commands: int = 0
    retries: int = 0
    households: int = 0
    failures: list[str] = field(default_factory=list)  # why rounds failed (not an invariant by itself)


class RetryingChain:
    """The chain over HTTP as a careful client sees it: `call` keeps trying through outages."""

    def __init__(
        self,
        urls: Mapping[str, str],
        private_key: bytes,
        figures: LoadFigures,
        *,
        retry_for_s: float = 180.0,
        timeout_s: float = 15.0,
    ) -> None:
        self.urls = dict(urls)
        self._key = private_key
        self._tokens: dict[str, str] = {}
        self._client = httpx.AsyncClient(timeout=timeout_s)
        self.figures = figures
        self.retry_for_s = retry_for_s

    def _token(self, agency: str) -> str:
        if agency not in self._tokens:
            self._tokens[agency] = mint_token(
                self._key, agency=agency, issuer=DEV_ISSUER, audience=DEFAULT_AUDIENCE, lifetime_s=8 * 3600
            )
        return self._tokens[agency]

    async def call(
        self, method: str, service: str, path: str, agency: str, json: Any = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token(agency)}"}
        if method != "GET":
            headers["Idempotency-Key"] = str(uuid.uuid4())  # one key per command, kept over its retries
        deadline = time.monotonic() + self.retry_for_s
        pause = 0.2
        while True:
            try:
                response = await self._client.request(
                    method, self.urls[service] + path, headers=headers, json=json
                )
                if not _retryable(response):
                    return response
                problem = f"{response.status_code} {response.text[:200]}"
            except RETRYABLE_ERRORS as error:
                problem = repr(error)
            if time.monotonic() > deadline:
                raise SimulationError(f"{method} {service}{path}: still failing after retries: {problem}")
            self.figures.retries += 1
            await asyncio.sleep(pause)
            pause = min(pause * 2, 3.0)

    async def close(self) -> None:
        await self._client.aclose()


def _retryable(response: httpx.Response) -> bool:
    if response.status_code >= 500:
        return True
    if response.status_code == 409:
        try:
            return bool(response.json().get("code") == "idempotency-key-in-progress")
        except ValueError:
            return False
    return False


class Load:
    """Simulation rounds, one after another, until `stop()`; a failed round is recorded and the next one
    starts (the chain must cope with clients that give up half-way too)."""

    def __init__(
        self,
        urls: Callable[[], Mapping[str, str]],
        private_key: bytes,
        *,
        seed: int,
        households_per_round: int,
        concurrency: int = 4,
        settle_timeout_s: float = 300.0,
    ) -> None:
        self._urls = urls
        self._key = private_key
        self._seed = seed
        self._households = households_per_round
        self._concurrency = concurrency
        self._settle_timeout_s = settle_timeout_s
        self._stopping = asyncio.Event()
        self.figures = LoadFigures()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._rounds())

    async def stop(self) -> None:
        """Stop at once, in the middle of a round: clients that give up half-way are part of the load (the
        commands they sent last are committed or not, and the chain must be whole either way)."""
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _rounds(self) -> None:
        round_number = 0
        while not self._stopping.is_set():
            round_number += 1
            chain = RetryingChain(self._urls(), self._key, self.figures)
            # A national quarter's story, for the wanted number of households.
            parameters = replace(national(years=0.25, scale=0.01), households=self._households)
            simulation = Simulation(
                chain,
                parameters,
                seed=self._seed * 1000 + round_number,
                concurrency=self._concurrency,
                settle_timeout=self._settle_timeout_s,
            )
            try:
                report = await simulation.run()
                self.figures.rounds_finished += 1
                self.figures.households += sum(1 for h in report.households if h.household_id)
            except (SimulationError, AssertionError, httpx.HTTPError, KeyError, ValueError) as error:
                self.figures.rounds_failed += 1
                self.figures.failures.append(f"round {round_number}: {type(error).__name__}: {error}"[:400])
                log.warning("load round %s failed: %r", round_number, error)
                self.figures.households += sum(1 for h in simulation.report.households if h.household_id)
            finally:
                self.figures.commands += simulation.report.commands
                await chain.close()
