"""A simulated half year of the chain, driven only through the services' HTTP APIs (as the agencies
would), for the dashboard test: several hundred households register on dates spread over the last
months; the IND determines their stream and decides; COA moves some of them (children too, with a
justified second forced move; some to a crisis emergency location that is to be avoided); municipalities
house some of those granted; DT&V sees some of those rejected depart. Every command carries its valid
time (`occurredAt`), so the months fill as if it had really happened then; the reactions between the
services (placement, procedure, return) run over Kafka as always.

Random but seeded: the same run every time, apart from what the services themselves date "now".
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.stack import Chain
from tests.fixtures import eventually

NATIONALITIES = ["SYR", "ERI", "AFG", "TUR", "YEM", "IRQ", "MAR", "GEO", "ALB", "SOM"]


@dataclass
class Household:
    number: int
    registered_at: datetime
    children: int
    adults: int
    household_id: str = ""
    person_ids: list[str] = field(default_factory=list)
    application_id: str = ""
    events: list[str] = field(default_factory=list)  # ids of events the commands appended


@dataclass
class SimulationReport:
    households: list[Household]
    commands: int = 0
    registered_people: int = 0
    seconds: float = 0.0

    @property
    def last_event_ids(self) -> list[str]:
        """One event id per household: its last command's, for read-your-writes on the read side."""
        return [h.events[-1] for h in self.households if h.events]


class Simulation:
    def __init__(self, chain: Chain, *, households: int, seed: int = 5, concurrency: int = 8) -> None:
        self.chain = chain
        self.random = random.Random(seed)
        self.now = datetime.now(UTC)
        self.count = households
        self.gate = asyncio.Semaphore(concurrency)
        self.report = SimulationReport(households=[])
        self.crisis_location_id = ""
        self.regular_location_ids: list[str] = []

    def _before_now(self, moment: datetime) -> datetime | None:
        """`moment`, or None when it has not happened yet (the story stops there)."""
        return moment if moment < self.now - timedelta(hours=1) else None

    async def _command(
        self,
        household: Household | None,
        method: str,
        service: str,
        path: str,
        agency: str,
        body: dict[str, Any],
        ok: tuple[int, ...] = (200, 201),
    ) -> dict[str, Any]:
        for attempt in range(8):
            async with self.gate:
                response = await self.chain.call(method, service, path, agency, json=body)
            self.report.commands += 1
            # Households moving into the same location at once race for its stream: the API says to
            # read again and retry, as an integrating client would.
            if response.status_code != 409 or response.json().get("code") != "concurrency-conflict":
                break
            await asyncio.sleep(0.05 * (attempt + 1) * (1 + self.random.random()))
        assert response.status_code in ok, (path, response.status_code, response.text)
        if household is not None and "X-Last-Event-Id" in response.headers:
            household.events.append(response.headers["X-Last-Event-Id"])
        return dict(response.json()) if response.status_code in (200, 201) else {}

    async def _until(
        self, service: str, path: str, agency: str, what: str, ready: Any = lambda body: True
    ) -> dict[str, Any]:
        found: dict[str, Any] = {}
        last: list[str] = [""]

        async def check() -> bool:
            async with self.gate:
                response = await self.chain.call("GET", service, path, agency)
            last[0] = f"{response.status_code} {response.text[:2000]}"
            if response.status_code == 200 and ready(response.json()):
                found.update(response.json())
                return True
            return False

        try:
            await eventually(check, timeout=90, interval=0.3, what=what)
        except AssertionError as error:
            raise AssertionError(f"{error}; last answer of {path}: {last[0]}") from None
        return found

    # --- the run ---------------------------------------------------------------------------------

    async def run(self) -> SimulationReport:
        started = time.monotonic()
        await self._open_locations()
        stories = []
        for number in range(self.count):
            registered_at = self.now - timedelta(
                days=self.random.uniform(3, 178), hours=self.random.uniform(0, 8)
            )
            children = self.random.choice([0, 0, 0, 1, 2, 3])
            adults = 1 if children == 0 and self.random.random() < 0.6 else 2
            household = Household(
                number=number, registered_at=registered_at, children=children, adults=adults
            )
            self.report.households.append(household)
            stories.append(self._story(household))
        await asyncio.gather(*stories)
        self.report.registered_people = sum(len(h.person_ids) for h in self.report.households)
        self.report.seconds = time.monotonic() - started
        return self.report

    async def _open_locations(self) -> None:
        """A crisis emergency location (to be avoided) opened half a year ago, next to the seed locations."""
        opened = await self._command(
            None,
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
            row["locationId"] for row in locations if row["locationType"] == "azc-regulier"
        ]
        assert self.regular_location_ids, "the seed has regular azcs"

    async def _story(self, h: Household) -> None:
        r = self.random
        members = [
            {
                "role": "adult",
                "relation": "head" if i == 0 else "partner",
                "birthYear": 1970 + r.randrange(30),
                "nationality": NATIONALITIES[h.number % len(NATIONALITIES)],
            }
            for i in range(h.adults)
        ] + [
            {
                "role": "child",
                "relation": "child",
                "birthYear": self.now.year - r.randrange(2, 17),
                "nationality": NATIONALITIES[h.number % len(NATIONALITIES)],
            }
            for _ in range(h.children)
        ]
        registered = await self._command(
            h,
            "POST",
            "intake",
            "/v1/households",
            "AVIM",
            {
                "arrivalGroup": "first-application",
                "channel": "ter-apel",
                "members": members,
                "occurredAt": h.registered_at.isoformat(),
            },
            ok=(201,),
        )
        h.household_id = registered["householdId"]
        h.person_ids = [m["personId"] for m in registered["members"]]
        application = await self._until(
            "procedure", f"/v1/households/{h.household_id}/application", "IND", "application lodged"
        )
        h.application_id = application["applicationId"]
        # COA has placed the household before the IND determines its stream (days later in the world). A
        # consumer meeting the stream before the placement would hold its partitions retrying: don't race.
        await self._until("placement", f"/v1/households/{h.household_id}/reception", "COA", "the placement")

        stream_at = self._before_now(h.registered_at + timedelta(days=r.uniform(2, 9)))
        if stream_at is None or r.random() < 0.08:
            return  # still waiting for the IND
        accelerated = r.random() < 0.35
        await self._ind(
            h,
            "reception-stream",
            {
                "stream": "accelerated" if accelerated else "not-accelerated",
                **({"ground": "safe-country-of-origin"} if accelerated else {}),
                "occurredAt": stream_at.isoformat(),
            },
        )
        reception = await self._until(
            "placement",
            f"/v1/households/{h.household_id}/reception",
            "COA",
            "the process move",
            lambda body: body["moves"] >= 1,
        )
        last = stream_at
        moved_at = self._before_now(last + timedelta(days=r.uniform(3, 20)))
        if moved_at is not None and r.random() < 0.45:
            await self._move(h, reception, moved_at)
            last = moved_at

        decided_at = self._before_now(last + timedelta(days=r.uniform(8, 50)))
        if decided_at is None or r.random() < 0.15:
            return
        if r.random() < (0.15 if accelerated else 0.8):
            await self._ind(h, "decision", {"outcome": "granted", "occurredAt": decided_at.isoformat()})
            housed_at = self._before_now(decided_at + timedelta(days=r.uniform(10, 60)))
            if housed_at is not None and r.random() < 0.6:
                await self._until(
                    "placement",
                    f"/v1/households/{h.household_id}/reception",
                    "COA",
                    "municipality link",
                    lambda body: body["linkedMunicipality"] is not None,
                )
                await self._command(
                    h,
                    "POST",
                    "placement",
                    f"/v1/households/{h.household_id}/housing",
                    "COA",
                    {"occurredAt": housed_at.isoformat()},
                )
            return
        heard_at, intended_at = decided_at - timedelta(days=6), decided_at - timedelta(days=3)
        await self._ind(
            h, "hearings", {"kind": "registration", "site": "on-location", "occurredAt": heard_at.isoformat()}
        )
        await self._ind(
            h,
            "intended-decision",
            {
                "intendedOutcome": "rejected-unfounded",
                "occurredAt": intended_at.isoformat(),
            },
        )
        await self._ind(
            h, "decision", {"outcome": "rejected-unfounded", "occurredAt": decided_at.isoformat()}
        )
        departed_at = self._before_now(decided_at + timedelta(days=r.uniform(30, 45)))
        if departed_at is not None and r.random() < 0.7:
            # The appeal period passes unused: the decision becomes final and DT&V opens a return case.
            case = await self._until(
                "return", f"/v1/households/{h.household_id}/return-case", "DTV", "return case"
            )
            # Its departure period may have ended the reception already (409 then): both are outflow.
            await self._command(
                h,
                "POST",
                "return",
                f"/v1/return-cases/{case['caseId']}/departure",
                "DTV",
                {"departureType": "independent", "occurredAt": departed_at.isoformat()},
                ok=(200, 409),
            )

    async def _ind(self, h: Household, step: str, body: dict[str, Any]) -> None:
        await self._command(
            h, "POST", "procedure", f"/v1/applications/{h.application_id}/{step}", "IND", body
        )

    async def _move(self, h: Household, reception: dict[str, Any], moved_at: datetime) -> None:
        """An own-request move, a forced move for capacity (a second forced move of children, so with a
        justified child-interest assessment), or a forced move to the crisis emergency location."""
        r = self.random
        here = reception["location"]["locationId"]
        kind = r.choice(["own-request", "capacity", "crisis"])
        target = (
            self.crisis_location_id
            if kind == "crisis"
            else r.choice([i for i in self.regular_location_ids if i != here])
        )
        forced = kind != "own-request"
        body: dict[str, Any] = {
            "toLocationId": target,
            "reason": "own-request" if kind == "own-request" else "capacity",
            "forced": forced,
            "occurredAt": moved_at.isoformat(),
        }
        if forced and h.children:
            assessment = await self._command(
                h,
                "POST",
                "placement",
                f"/v1/households/{h.household_id}/child-interest-assessments",
                "COA",
                {
                    "firstDegreeFamilyNearby": False,
                    "medicalNecessity": True,
                    "schoolContinuity": False,
                    "justification": "medical-necessity",
                    "occurredAt": (moved_at - timedelta(hours=2)).isoformat(),
                },
                ok=(200, 201),
            )
            body["assessmentId"] = assessment["assessmentId"]
        await self._command(h, "POST", "placement", f"/v1/households/{h.household_id}/transfers", "COA", body)
