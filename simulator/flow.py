"""A simulated flow of households through the chain, driven only through the services' HTTP APIs (as the
agencies would): households register on dates spread over the simulated period; the IND determines their
stream and decides; COA moves some of them (children too, with a justified second forced move; with the
dashboard's figures a few single adults go to a crisis emergency location, which is to be avoided);
municipalities house some of those granted; DT&V sees some of those rejected depart. Every command carries
its valid time (`occurredAt`), so the months fill as if it had happened then; the reactions between the
services (placement, procedure, return) run over Kafka as always.

Every household's story is drawn up front from the seed (simulator.parameters), so the same seed tells the
same story. The run goes window by window (one window for the whole period, or a week at a time), and
within a window in phases — registrations, then stream determinations, … — waiting between phases until
the chain is quiet (no outbox backlog, no consumer lag: the read side's system-health view) instead of
polling every household; only what a step reads from another service's reaction (the application, the
process move) it polls for, as an integrating client would. With a `speed`, a window takes at least its
simulated time divided by it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx

from simulator.parameters import FlowParameters


class Chain(Protocol):
    """What the simulation needs of the chain: an authenticated call as one agency to one service."""

    async def call(
        self, method: str, service: str, path: str, agency: str, json: Any = None
    ) -> httpx.Response: ...


OPENED_CAPACITY = 500  # places of a location the simulation opens (a mid-sized azc)
# Where the simulation opens new locations (municipalities that host or hosted an azc).
OPENING_PLACES = (
    ("Assen", "Drenthe"),
    ("Arnhem", "Gelderland"),
    ("Zwolle", "Overijssel"),
    ("Utrecht", "Utrecht"),
    ("Amersfoort", "Utrecht"),
    ("Leeuwarden", "Fryslân"),
)


class SimulationError(Exception):
    """The chain answered a command in a way no agency should see (a bug, or a chain not running)."""


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
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase, summed over the windows

    @property
    def registered_people(self) -> int:
        return sum(len(h.person_ids) for h in self.households)


class Plan:
    """Every household's story, drawn up front from the seed: the same seed, the same story."""

    def __init__(self, parameters: FlowParameters, *, seed: int, now: datetime) -> None:
        self.parameters = parameters
        self.random = random.Random(seed)
        self.now = now

    def households(self) -> list[Household]:
        return [self._household(n) for n in range(self.parameters.households)]

    def _happened(self, moment: datetime) -> datetime | None:
        return moment if moment < self.now - timedelta(hours=1) else None

    def _members(self, crisis: bool) -> list[dict[str, Any]]:
        r, p = self.random, self.parameters
        children = 0 if crisis else r.choice(p.children_choices)
        adults = 1 if crisis or (children == 0 and r.random() < p.single_adult_share) else 2
        codes, weights = zip(*p.nationalities, strict=True)
        nationality = r.choices(codes, weights)[0]
        return [
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

    def _household(self, number: int) -> Household:
        r, p = self.random, self.parameters
        crisis = number < p.crisis_households
        days_ago = r.uniform(60 if crisis else p.earliest_days_ago, p.period_days)
        registered_at = self.now - timedelta(days=days_ago)  # any time of day: arrivals do not keep hours
        h = Household(number=number, registered_at=registered_at, members=self._members(crisis))
        h.stream_at = self._happened(registered_at + timedelta(days=r.uniform(*p.stream_days)))
        if h.stream_at is None or (not crisis and r.random() < p.waiting_share):
            h.stream_at = None  # still waiting for the IND
            return h
        h.accelerated = r.random() < p.accelerated_share
        last = h.stream_at
        h.moved_at = self._happened(last + timedelta(days=r.uniform(*p.move_days)))
        if h.moved_at is not None and (crisis or r.random() < p.moved_share):
            h.move = "crisis" if crisis else r.choice(["own-request", "capacity"])
            last = h.moved_at
        else:
            h.moved_at = None
        if crisis:
            return h  # they stay where they were moved: the crisis location's count is known
        lead = p.decision_days_accelerated if h.accelerated else p.decision_days
        h.decided_at = self._happened(last + timedelta(days=r.uniform(*lead)))
        if h.decided_at is None or r.random() < p.undecided_share:
            h.decided_at = None
            return h
        h.granted = r.random() < (p.grant_rate_accelerated if h.accelerated else p.grant_rate)
        after = p.housed_days if h.granted else p.departed_days
        ends = self._happened(h.decided_at + timedelta(days=r.uniform(*after)))
        share = p.housed_share if h.granted else p.departed_share
        h.ends_at = ends if ends is not None and r.random() < share else None
        return h


class Simulation:
    def __init__(
        self,
        chain: Chain,
        parameters: FlowParameters,
        *,
        seed: int = 5,
        concurrency: int = 8,
        window: timedelta | None = None,
        speed: float = 0.0,
        settle_timeout: float = 120.0,
    ) -> None:
        self.chain = chain
        self.parameters = parameters
        self.random = random.Random(seed + 1)  # for choices made while running (move targets, retries)
        self.now = datetime.now(UTC)
        self.gate = asyncio.Semaphore(concurrency)
        self.window = window  # None: the whole period at once
        self.speed = speed  # 0: as fast as the chain answers
        self.settle_timeout = settle_timeout
        self.report = SimulationReport(households=Plan(parameters, seed=seed, now=self.now).households())
        self.crisis_location_id = ""
        self.regular_location_ids: list[str] = []
        self.opened = 0  # locations this run opened

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
        if response.status_code not in ok:
            raise SimulationError(f"{method} {path}: {response.status_code} {response.text[:500]}")
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

        deadline = time.monotonic() + self.settle_timeout
        while not await check():
            if time.monotonic() > deadline:
                raise SimulationError(f"the chain did not settle in {self.settle_timeout:.0f} s: {last}")
            await asyncio.sleep(0.5)

    # --- the run ---------------------------------------------------------------------------------

    def _windows(self) -> list[tuple[datetime, datetime]]:
        if self.window is None:
            return [(datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))]
        start = min(h.registered_at for h in self.report.households)
        windows = []
        while start < self.now:
            windows.append((start, start + self.window))
            start += self.window
        return windows

    async def run(self) -> SimulationReport:
        started = time.monotonic()
        await self._timed("locations", self._open_locations)
        for start, end in self._windows():
            begun = time.monotonic()
            await self._window(start, end)
            if self.speed > 0 and self.window is not None:  # a simulated window lasts window / speed
                await asyncio.sleep(self.window.total_seconds() / self.speed - (time.monotonic() - begun))
        await self._timed("quiet", self.settled)
        self.report.seconds = time.monotonic() - started
        return self.report

    async def _window(self, start: datetime, end: datetime) -> None:
        """Everything that happened in [start, end), phase by phase, each phase's effects settled before
        the phases that depend on them."""
        registering = self._due(start, end, "registered_at")
        phases: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            ("locations", lambda: self._room_for_window(start, end)),
            ("registrations", lambda: self._each(registering, self._register)),
            ("placed and lodged", self.settled),
            ("applications", lambda: self._each(registering, self._application)),
            ("streams", lambda: self._each(self._due(start, end, "stream_at"), self._stream)),
            ("process moves", self.settled),
            ("moves", lambda: self._each(self._due(start, end, "moved_at"), self._move)),
            ("decisions", lambda: self._each(self._due(start, end, "decided_at"), self._decide)),
            ("links, finality, return cases", self.settled),
            ("housing and departures", lambda: self._each(self._due(start, end, "ends_at"), self._end)),
        ]
        for name, phase in phases:
            await self._timed(name, phase)

    def _due(self, start: datetime, end: datetime, step: str) -> list[Household]:
        """The households whose `step` (a moment attribute) falls in [start, end)."""
        return [
            h
            for h in self.report.households
            if (moment := getattr(h, step)) is not None and start <= moment < end
        ]

    async def _timed(self, name: str, phase: Callable[[], Awaitable[None]]) -> None:
        begun = time.monotonic()
        await phase()
        self.report.phases[name] = round(self.report.phases.get(name, 0.0) + time.monotonic() - begun, 1)

    async def _open_locations(self) -> None:
        """A crisis emergency location (to be avoided) opened half a year ago, beside the seed locations,
        when some households are to be moved there."""
        if self.parameters.crisis_households:
            await self._open_crisis_location()
        async with self.gate:
            locations = (await self.chain.call("GET", "placement", "/v1/locations", "COA")).json()
        self.regular_location_ids = [
            r["locationId"] for r in locations if r["locationType"] == "azc-regulier"
        ]
        if not self.regular_location_ids:
            raise SimulationError("the chain has no regular azc to move households to (is it seeded?)")

    async def _locations(self) -> list[dict[str, Any]]:
        async with self.gate:
            return list((await self.chain.call("GET", "placement", "/v1/locations", "COA")).json())

    async def _room_for_window(self, start: datetime, end: datetime) -> None:
        """COA opens locations when the ones it has run full (with the municipalities, in reality months
        ahead): before a window sends households somewhere, open a location of each kind whose free places
        (counting only those that take children) fall short of twice what the window needs. Without it a
        long run fills the seed locations, and then placement can only leave moves to an officer."""
        need = {"azc-aanmeld": 0, "azc-versneld": 0, "azc-regulier": 0}
        for h in self._due(start, end, "registered_at"):
            need["azc-aanmeld"] += len(h.members)
        for h in self._due(start, end, "stream_at"):
            need["azc-versneld" if h.accelerated else "azc-regulier"] += len(h.members)
        for h in self._due(start, end, "moved_at"):
            need["azc-regulier"] += len(h.members) if h.move != "crisis" else 0
        locations = await self._locations()
        first = min(h.registered_at for h in self.report.households)
        for location_type, people in need.items():
            free = sum(
                r["freePlaces"]
                for r in locations
                if r["locationType"] == location_type and not r["nearOpenWater"] and r["closingAt"] is None
            )
            while free < 2 * people:
                await self._open(location_type, capacity=OPENED_CAPACITY, opened_at=first)
                free += OPENED_CAPACITY

    async def _open(self, location_type: str, *, capacity: int, opened_at: datetime) -> str:
        self.opened += 1
        municipality, province = OPENING_PLACES[self.opened % len(OPENING_PLACES)]
        opened = await self._call(
            "POST",
            "placement",
            "/v1/locations",
            "COA",
            {
                "name": f"{location_type} {municipality} {self.opened}",
                "locationType": location_type,
                "municipality": municipality,
                "province": province,
                "capacity": capacity,
                "schoolNearby": True,
                "occurredAt": (opened_at - timedelta(days=1)).isoformat(),
            },
        )
        if location_type == "azc-regulier":
            self.regular_location_ids.append(opened["locationId"])
        return str(opened["locationId"])

    async def _open_crisis_location(self) -> None:
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
        application = await self._read_when_there(
            "procedure", f"/v1/households/{h.household_id}/application", "IND", lambda body: True
        )
        h.application_id = application["applicationId"]

    async def _read_when_there(
        self, service: str, path: str, agency: str, ready: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any]:
        """Read what another service makes in reaction to a command (procedure opens the application on the
        registration; placement makes the process move on the stream), polling as an integrating client
        would: the chain looking quiet does not promise that every reaction is readable yet."""
        deadline = time.monotonic() + self.settle_timeout
        while True:
            async with self.gate:
                response = await self.chain.call("GET", service, path, agency)
            if response.status_code == 200 and ready(body := dict(response.json())):
                return body
            if response.status_code not in (200, 404) or time.monotonic() > deadline:
                raise SimulationError(f"GET {path}: {response.status_code} {response.text[:500]}")
            await asyncio.sleep(0.2)

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
        reception = await self._read_when_there(
            "placement", f"/v1/households/{h.household_id}/reception", "COA", lambda r: r["moves"] >= 1
        )
        assert reception["moves"] == 1, reception  # the process move, and no other yet
        here = reception["location"]["locationId"]
        target = self.crisis_location_id if h.move == "crisis" else await self._regular_with_room(h, here)
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

    async def _regular_with_room(self, h: Household, here: str) -> str:
        """A regular azc other than `here` with room for the household (and for children: not near open
        water), at random; if none, a new one."""
        fitting = [
            r["locationId"]
            for r in await self._locations()
            if r["locationId"] in self.regular_location_ids
            and r["locationId"] != here
            and r["freePlaces"] >= len(h.members)
            and not (h.has_children and r["nearOpenWater"])
            and r["closingAt"] is None
        ]
        if fitting:
            return str(self.random.choice(fitting))
        return await self._open("azc-regulier", capacity=OPENED_CAPACITY, opened_at=h.registered_at)

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
        case = await self._read_when_there(
            "return", f"/v1/households/{h.household_id}/return-case", "DTV", lambda body: True
        )
        await self._call(
            "POST",
            "return",
            f"/v1/return-cases/{case['caseId']}/departure",
            "DTV",
            {"departureType": "independent", "occurredAt": h.ends_at.isoformat()},
            ok=(200, 409),
        )
