"""The simulator's side of HTTP: a client per agency on the running chain, and what the read side then
shows about the people the simulation registered."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from shared.contracts.intake import HouseholdRegistered
from shared.contracts.procedure import ReceptionStream, ReceptionStreamDetermined
from simulator.flow import Chain, SimulationReport

TOKEN_REFRESH_S = 3600  # development tokens live 8 hours; a long national run mints fresh ones hourly


class HttpChain:
    """The five services at `urls` (name → base URL), called as an agency with a token from `mint`."""

    def __init__(self, urls: Mapping[str, str], mint: Callable[[str], str], *, timeout: float = 30) -> None:
        self.urls = dict(urls)
        self._mint = mint
        self._tokens: dict[str, tuple[str, float]] = {}
        self._client = httpx.AsyncClient(timeout=timeout)

    def _token(self, agency: str) -> str:
        token, minted = self._tokens.get(agency, ("", 0.0))
        if time.monotonic() - minted > TOKEN_REFRESH_S or not token:
            token = self._mint(agency)
            self._tokens[agency] = (token, time.monotonic())
        return token

    async def call(
        self, method: str, service: str, path: str, agency: str, json: Any = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token(agency)}"}
        return await self._client.request(method, self.urls[service] + path, headers=headers, json=json)

    async def close(self) -> None:
        await self._client.aclose()


@dataclass(frozen=True)
class Observed:
    """Read-side figures about (a sample of) the people the simulation registered."""

    sampled: int
    registered: int  # of the sample, people whose registration the read side shows
    minors: int
    streamed: int  # people with a reception stream determined
    accelerated: int

    @property
    def minors_share(self) -> float:
        return self.minors / self.registered if self.registered else 0.0

    @property
    def accelerated_share(self) -> float:
        return self.accelerated / self.streamed if self.streamed else 0.0


async def observe(chain: Chain, report: SimulationReport, *, sample: int = 500, seed: int = 0) -> Observed:
    """Read every sampled person's chain-wide timeline from the read side (as COA, with person-level
    access) and count what it says: their registration and role, and their reception stream. Per person,
    so other traffic on the same chain does not count."""
    people = [p for h in report.households for p in h.person_ids]
    chosen = people if len(people) <= sample else random.Random(seed).sample(people, sample)
    gate = asyncio.Semaphore(8)

    async def timeline(person_id: str) -> list[dict[str, Any]]:
        async with gate:
            response = await chain.call("GET", "history", f"/v1/persons/{person_id}/timeline", "COA")
        response.raise_for_status()
        entries: list[dict[str, Any]] = response.json()["entries"]
        return entries

    registered = minors = streamed = accelerated = 0
    for person_id, entries in zip(chosen, await asyncio.gather(*map(timeline, chosen)), strict=True):
        roles = [
            member["role"]
            for entry in entries
            if entry["type"] == HouseholdRegistered.type_name
            for member in entry["data"]["members"]
            if member["person_id"] == person_id
        ]
        streams = [e["data"]["stream"] for e in entries if e["type"] == ReceptionStreamDetermined.type_name]
        registered += bool(roles)
        minors += roles[:1] == ["child"]
        streamed += bool(streams)
        accelerated += streams[-1:] == [ReceptionStream.ACCELERATED.value]
    return Observed(len(chosen), registered, minors, streamed, accelerated)
