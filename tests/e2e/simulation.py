"""A simulated half year of the chain, driven only through the services' HTTP APIs (as the agencies
would), for the dashboard test: several hundred households register on dates spread over the last
months; the IND determines their stream and decides; COA moves some of them (children too, with a
justified second forced move; three single adults to a crisis emergency location, which is to be
avoided); municipalities house some of those granted; DT&V sees some of those rejected depart. Every
command carries its valid time (`occurredAt`), so the months fill as if it had happened then; the
reactions between the services (placement, procedure, return) run over Kafka as always.

It runs in phases — all registrations, then all stream determinations, … — and between phases waits
once until the chain is quiet (no outbox backlog, no consumer lag: the read side's system-health view),
instead of polling every household. Seeded: the same story every run.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.stack import Chain
from tests.fixtures import eventually

NATIONALITIES = ["SYR", "ERI", "AFG", "TUR", "YEM", "IRQ", "MAR", "GEO", "ALB", "SOM"]
AT_CRISIS_LOCATION = 3  # single adults moved to the crisis emergency location: a count below 5


@dataclass
class Household:
    number: int
    registered_at: datetime
    members: list[dict[str, Any]]
    stream_at: datetime | None = None
    accelerated: bool = False
    moved_at: datetime | None = None
    move: str = ""  # own-request | capacity | crisis
    decided_at: datetime | None = None
    granted: bool = False
    ends_at: datetime | None = None  # housed (granted) or departed (rejected)
    household_id: str = ""
    person_ids: list[str] = field(default_factory=list)
    application_id: str = ""

    @property
    def has_children(self) -> bool:
        return any(m["role"] == "child" for m in self.members)


@dataclass
class SimulationReport:
    households: list[Household]
    commands: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase, for the test's log

    @property
    def registered_people(self) -> int:
        return sum(len(h.person_ids) for h in self.households)


class Simulation:
    def __init__(self, chain: Chain, *, households: int, seed: int = 5, concurrency: int = 8) -> None:
        self.chain = chain
        self.random = random.Random(seed)
        self.now = datetime.now(UTC)
        self.gate = asyncio.Semaphore(concurrency)
        self.report = SimulationReport(households=[self._plan(n) for n in range(households)])
        self.crisis_location_id = ""
        self.regular_location_ids: list[str] = []

    # --- the plan: every household's story, decided up front ----------------------------------------

    def _happened(self, moment: datetime) -> datetime | None:
        return moment if moment < self.now - timedelta(hours=1) else None

    def _plan(self, number: int) -> Household:
        r = self.random
        crisis = number < AT_CRISIS_LOCATION
        children = 0 if crisis else r.choice([0, 0, 0, 1, 2, 3])
        adults = 1 if crisis or (children == 0 and r.random() < 0.6) else 2
        nationality = NATIONALITIES[number % len(NATIONALITIES)]
        members = [
            {
                "role": "adult",
                "relation": "head" if i == 0 else "partner",
                "birthYear": 1970 + r.randrange(30),
                "nationality": nationality,
            }
            for i in range(adults)
        ] + [
            {
                "role": "child",
                "relation": "child",
                "birthYear": self.now.year - r.randrange(2, 17),
                "nationality": nationality,
            }
            for _ in range(children)
        ]
        registered_at = self.now - timedelta(days=r.uniform(60 if crisis else 3, 178), hours=r.uniform(0, 8))
        h = Household(number=number, registered_at=registered_at, members=members)
        h.stream_at = self._happened(registered_at + timedelta(days=r.uniform(2, 9)))
        if h.stream_at is None or (not crisis and r.random() < 0.08):
            h.stream_at = None  # still waiting for the IND
            return h
        h.accelerated = r.random() < 0.35
        last = h.stream_at
        h.moved_at = self._happened(last + timedelta(days=r.uniform(3, 20)))
        if h.moved_at is not None and (crisis or r.random() < 0.45):
            h.move = "crisis" if crisis else r.choice(["own-request", "capacity"])
            last = h.moved_at
        else:
            h.moved_at = None
        if crisis:
            return h  # they stay where they were moved: the crisis location's count is known
        h.decided_at = self._happened(last + timedelta(days=r.uniform(8, 50)))
        if h.decided_at is None or r.random() < 0.15:
            h.decided_at = None
            return h
        h.granted = r.random() < (0.15 if h.accelerated else 0.8)
        ends = self._happened(
            h.decided_at + timedelta(days=r.uniform(10, 60) if h.granted else r.uniform(30, 45))
        )
        h.ends_at = ends if ends is not None and r.random() < (0.6 if h.granted else 0.7) else None
        return h

    # --- HTTP ------------------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        service: str,
        path: str,
        agency: str,
        body: Any = None,
        ok: tuple[int, ...] = (200, 201),
    ) -> dict[str, Any]:
        for attempt in range(8):
            async with self.gate:
                response = await self.chain.call(method, service, path, agency, json=body)
            if method == "POST":
                self.report.commands += 1
            # Households moving into the same location at once race for its stream: the API says to
            # read again and retry, as an integrating client would.
            if response.status_code != 409 or response.json().get("code") != "concurrency-conflict":
                break
            await asyncio.sleep(0.05 * (attempt + 1) * (1 + self.random.random()))
        assert response.status_code in ok, (path, response.status_code, response.text)
        return dict(response.json()) if response.status_code in (200, 201) else {}

    async def _each(self, households: list[Household], step: Callable[[Household], Awaitable[None]]) -> None:
        await asyncio.gather(*(step(h) for h in households))

    async def settled(self) -> None:
        """Wait until every event is published and applied by every consumer (seen three times running, so
        a deadline firing or a fetch in flight is not mistaken for quiet)."""
        quiet = [0]
        last: dict[str, Any] = {}

        async def check() -> bool:
            health = (await self.chain.call("GET", "history", "/v1/system-health", "COA")).json()
            last.update(health)
            services = health["services"]
            calm = len(services) == 5 and all(
                s["reachable"]
                and not s["outboxBacklog"]
                and all(c["lagMessages"] == 0 for c in s["consumers"])
                for s in services
            )
            quiet[0] = quiet[0] + 1 if calm else 0
            return quiet[0] >= 3

        try:
            await eventually(check, timeout=120, interval=0.5, what="the chain to settle")
        except AssertionError as error:
            raise AssertionError(f"{error}; last health: {last}") from None

    # --- the run ---------------------------------------------------------------------------------

    async def run(self) -> SimulationReport:
        started = time.monotonic()
        households = self.report.households
        streamed = [h for h in households if h.stream_at]
        phases: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            ("locations", self._open_locations),
            ("registrations", lambda: self._each(households, self._register)),
            ("placed and lodged", self.settled),
            ("applications", lambda: self._each(households, self._application)),
            ("streams", lambda: self._each(streamed, self._stream)),
            ("process moves", self.settled),
            ("moves", lambda: self._each([h for h in streamed if h.moved_at], self._move)),
            ("decisions", lambda: self._each([h for h in streamed if h.decided_at], self._decide)),
            ("links, finality, return cases", self.settled),
            ("housing and departures", lambda: self._each([h for h in streamed if h.ends_at], self._end)),
            ("quiet", self.settled),
        ]
        for name, phase in phases:
            begun = time.monotonic()
            await phase()
            self.report.phases[name] = round(time.monotonic() - begun, 1)
        self.report.seconds = time.monotonic() - started
        return self.report

    async def _open_locations(self) -> None:
        """A crisis emergency location (to be avoided) opened half a year ago, beside the seed locations."""
        opened = await self._call(
            "POST",
            "placement",
            "/v1/locations",
            "COA",
            {
                "name": "Crisisnoodopvang sporthal Emmen",
                "locationType": "crisisnoodopvang",
                "municipality": "Emmen",
                "province": "Drenthe",
                "capacity": 150,
                "occurredAt": (self.now - timedelta(days=200)).isoformat(),
            },
        )
        self.crisis_location_id = opened["locationId"]
        async with self.gate:
            locations = (await self.chain.call("GET", "placement", "/v1/locations", "COA")).json()
        self.regular_location_ids = [
            r["locationId"] for r in locations if r["locationType"] == "azc-regulier"
        ]
        assert self.regular_location_ids, "the seed has regular azcs"

    async def _register(self, h: Household) -> None:
        registered = await self._call(
            "POST",
            "intake",
            "/v1/households",
            "AVIM",
            {
                "arrivalGroup": "first-application",
                "channel": "ter-apel",
                "members": h.members,
                "occurredAt": h.registered_at.isoformat(),
            },
            ok=(201,),
        )
        h.household_id = registered["householdId"]
        h.person_ids = [m["personId"] for m in registered["members"]]

    async def _application(self, h: Household) -> None:
        application = await self._call(
            "GET", "procedure", f"/v1/households/{h.household_id}/application", "IND"
        )
        h.application_id = application["applicationId"]

    async def _ind(self, h: Household, step: str, body: dict[str, Any]) -> None:
        await self._call("POST", "procedure", f"/v1/applications/{h.application_id}/{step}", "IND", body)

    async def _stream(self, h: Household) -> None:
        assert h.stream_at is not None
        await self._ind(
            h,
            "reception-stream",
            {
                "stream": "accelerated" if h.accelerated else "not-accelerated",
                **({"ground": "safe-country-of-origin"} if h.accelerated else {}),
                "occurredAt": h.stream_at.isoformat(),
            },
        )

    async def _move(self, h: Household) -> None:
        """An own-request move, a forced move for capacity (for children their second forced move, so with
        a justified child-interest assessment), or a forced move to the crisis emergency location."""
        assert h.moved_at is not None
        reception = await self._call("GET", "placement", f"/v1/households/{h.household_id}/reception", "COA")
        assert reception["moves"] == 1, reception  # the process move
        here = reception["location"]["locationId"]
        target = (
            self.crisis_location_id
            if h.move == "crisis"
            else self.random.choice([i for i in self.regular_location_ids if i != here])
        )
        forced = h.move != "own-request"
        body: dict[str, Any] = {
            "toLocationId": target,
            "reason": "own-request" if h.move == "own-request" else "capacity",
            "forced": forced,
            "occurredAt": h.moved_at.isoformat(),
        }
        if forced and h.has_children:
            assessment = await self._call(
                "POST",
                "placement",
                f"/v1/households/{h.household_id}/child-interest-assessments",
                "COA",
                {
                    "firstDegreeFamilyNearby": False,
                    "medicalNecessity": True,
                    "schoolContinuity": False,
                    "justification": "medical-necessity",
                    "occurredAt": (h.moved_at - timedelta(hours=2)).isoformat(),
                },
            )
            body["assessmentId"] = assessment["assessmentId"]
        await self._call("POST", "placement", f"/v1/households/{h.household_id}/transfers", "COA", body)

    async def _decide(self, h: Household) -> None:
        assert h.decided_at is not None
        if h.granted:
            await self._ind(h, "decision", {"outcome": "granted", "occurredAt": h.decided_at.isoformat()})
            return
        for step, days_before, body in (
            ("hearings", 6, {"kind": "registration", "site": "on-location"}),
            ("intended-decision", 3, {"intendedOutcome": "rejected-unfounded"}),
            ("decision", 0, {"outcome": "rejected-unfounded"}),
        ):
            await self._ind(
                h, step, {**body, "occurredAt": (h.decided_at - timedelta(days=days_before)).isoformat()}
            )

    async def _end(self, h: Household) -> None:
        assert h.ends_at is not None
        if h.granted:  # the linked municipality housed the household
            await self._call(
                "POST",
                "placement",
                f"/v1/households/{h.household_id}/housing",
                "COA",
                {"occurredAt": h.ends_at.isoformat()},
            )
            return
        # The appeal period passed unused: final, and DT&V has a return case. Its departure period may have
        # ended the reception already (409 then): both are outflow.
        case = await self._call("GET", "return", f"/v1/households/{h.household_id}/return-case", "DTV")
        await self._call(
            "POST",
            "return",
            f"/v1/return-cases/{case['caseId']}/departure",
            "DTV",
            {"departureType": "independent", "occurredAt": h.ends_at.isoformat()},
            ok=(200, 409),
        )
