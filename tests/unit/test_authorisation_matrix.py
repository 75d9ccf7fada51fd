"""The authorisation matrix (docs/security.md): which agency may issue which command and read which
resource and which fields — checked against the running code, route by route, object by object.

Three layers, each a story of its own:
- routes: every route of every service, read from the apps themselves (a route added tomorrow fails here
  until the matrix says who may call it), against every agency's token: allowed, or refused with 403
  problem+json. The matrix below is the table in docs/security.md; a test keeps the two the same.
- objects: a municipality sees the households linked to it, and another municipality's answer for
  them is the answer for an unknown household.
- fields: what the housing view returns is exactly the allowed set; the timeline shows the IND's ground
  for accelerating and a hearing's details only to the IND and auditors.

Each app runs with a migrated SQLite database (its runtime is not started: no Kafka, no consumers), so a
route that passes authorisation answers with its real answer (400 for the empty body, 404 for the made-up
id, 200): "allowed" is judged by a real answer below 500, never by a crash.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from history.entrypoints.access import FRESHNESS_WAIT_S
from history.entrypoints.app import all_handlers
from shared.auth import AGENCY_SCOPES
from shared.consumer import ConsumedEvent
from shared.contracts import Event
from shared.contracts.intake import (
    ArrivalGroup,
    HouseholdMember,
    HouseholdRegistered,
    MemberRole,
    RegistrationChannel,
    Relation,
)
from shared.contracts.placement import HouseholdLinkedToMunicipality
from shared.contracts.procedure import (
    AcceleratedGround,
    HearingHeld,
    HearingKind,
    HearingSite,
    ReceptionStream,
    ReceptionStreamDetermined,
    ResidencePermitGranted,
)
from shared.eventstore.migrations import upgrade_to_head_async
from shared.ids import new_id
from tests.fixtures import MintToken
from tests.helpers import REPO, SERVICE_DEFINITIONS, SERVICES, envelope_for, routes_of, unstarted_app
from tests.unit.test_every_route_refuses_bad_tokens import PUBLIC, concrete

PROBLEM_JSON = "application/problem+json"
SECURITY_DOC = REPO / "docs" / "security.md"
# as the chain names a municipality in its facts (placement's locations and links): by its name
AMSTERDAM, ROTTERDAM, GRONINGEN = "Amsterdam", "Rotterdam", "Groningen"

AVIM, IND, COA, DTV, GEMEENTE, AUDIT, OPERATOR, REGIETAFEL = (
    "AVIM",
    "IND",
    "COA",
    "DTV",
    "GEMEENTE",
    "AUDIT",
    "OPERATOR",
    "REGIETAFEL",
)
AGENCIES = (AVIM, IND, COA, DTV, GEMEENTE, AUDIT, OPERATOR, REGIETAFEL)
PERSON_LEVEL = frozenset({AVIM, IND, COA, DTV, AUDIT})  # the chain-wide history, person by person


class Kind(Enum):
    COMMAND = "command"  # changes something: never the auditor's
    READ = "read"


def command(*agencies: str) -> tuple[Kind, frozenset[str]]:
    return Kind.COMMAND, frozenset(agencies)


def read(*agencies: str | frozenset[str]) -> tuple[Kind, frozenset[str]]:
    flat: set[str] = set()
    for agency in agencies:
        flat |= {agency} if isinstance(agency, str) else agency
    return Kind.READ, frozenset(flat)


SERVICE_NAMES = ("intake", "placement", "procedure", "return", "history")

# Who may call each protected route; the same table as docs/security.md ("Per route").
MATRIX: dict[tuple[str, str, str], tuple[Kind, frozenset[str]]] = {
    # intake: registration by AVIM and the IND; the identity vault by scope of its own
    ("intake", "POST", "/v1/households"): command(AVIM, IND),
    ("intake", "GET", "/v1/households/{household_id}"): read(AVIM, IND, COA, AUDIT, OPERATOR),
    ("intake", "POST", "/v1/households/{household_id}/pre-registration"): command(AVIM, IND),
    ("intake", "GET", "/v1/persons/{person_id}"): read(AVIM, IND, COA, AUDIT, OPERATOR),
    ("intake", "POST", "/v1/persons/_zoek"): read(AVIM, IND, COA, AUDIT, OPERATOR),
    ("intake", "POST", "/v1/persons/{person_id}/identification"): command(AVIM, IND),
    ("intake", "POST", "/v1/persons/{person_id}/corrections"): command(AVIM, IND),
    ("intake", "POST", "/v1/persons/{person_id}/identity/_open"): read(AVIM, IND),
    ("intake", "POST", "/v1/persons/{person_id}/sealed-fields/_open"): read(AVIM, IND, COA, GEMEENTE),
    ("intake", "POST", "/v1/persons/{person_id}/erasure"): command(OPERATOR),
    ("intake", "GET", "/v1/erasures"): read(OPERATOR),
    # placement: COA's reception; read by COA and auditors
    ("placement", "GET", "/v1/locations"): read(COA, AUDIT),
    ("placement", "GET", "/v1/locations/{location_id}"): read(COA, AUDIT),
    ("placement", "POST", "/v1/locations"): command(COA),
    ("placement", "POST", "/v1/locations/{location_id}/capacity"): command(COA),
    ("placement", "POST", "/v1/locations/{location_id}/closure"): command(COA),
    ("placement", "POST", "/v1/locations/{location_id}/closed"): command(COA),
    ("placement", "GET", "/v1/households/{household_id}/reception"): read(COA, AUDIT),
    ("placement", "POST", "/v1/households/{household_id}/child-interest-assessments"): command(COA),
    ("placement", "POST", "/v1/households/{household_id}/transfers"): command(COA),
    ("placement", "POST", "/v1/households/{household_id}/moves/{event_id}/correction"): command(COA),
    (
        "placement",
        "POST",
        "/v1/households/{household_id}/transfer-proposals/{proposal_id}/execution",
    ): command(COA),
    ("placement", "POST", "/v1/households/{household_id}/housing"): command(COA),
    ("placement", "POST", "/v1/placement-recommendations"): read(COA, AUDIT),
    # procedure: the IND's application; read by the IND and auditors
    ("procedure", "GET", "/v1/applications/{application_id}"): read(IND, AUDIT),
    ("procedure", "GET", "/v1/households/{household_id}/application"): read(IND, AUDIT),
    ("procedure", "POST", "/v1/applications/{application_id}/decision-deadline-extension"): command(IND),
    ("procedure", "POST", "/v1/applications/{application_id}/track"): command(IND),
    ("procedure", "POST", "/v1/applications/{application_id}/reception-stream"): command(IND),
    ("procedure", "POST", "/v1/applications/{application_id}/rest-and-preparation-period"): command(IND),
    ("procedure", "POST", "/v1/applications/{application_id}/hearings"): command(IND),
    ("procedure", "POST", "/v1/applications/{application_id}/dublin-claims"): command(IND),
    ("procedure", "POST", "/v1/applications/{application_id}/dublin-claims/acceptance"): command(IND),
    ("procedure", "POST", "/v1/applications/{application_id}/intended-decision"): command(IND),
    ("procedure", "POST", "/v1/applications/{application_id}/view"): command(IND),
    ("procedure", "POST", "/v1/applications/{application_id}/extended-procedure"): command(IND),
    ("procedure", "POST", "/v1/applications/{application_id}/decision"): command(IND),
    ("procedure", "POST", "/v1/applications/{application_id}/appeal"): command(IND),
    ("procedure", "POST", "/v1/applications/{application_id}/appeal-ruling"): command(IND),
    # return: DT&V's cases; read by DT&V and auditors
    ("return", "GET", "/v1/return-cases/{case_id}"): read(DTV, AUDIT),
    ("return", "GET", "/v1/households/{household_id}/return-case"): read(DTV, AUDIT),
    ("return", "POST", "/v1/return-cases/{case_id}/departure-interview"): command(DTV),
    ("return", "POST", "/v1/return-cases/{case_id}/local-chain-decision"): command(DTV),
    ("return", "POST", "/v1/return-cases/{case_id}/departure"): command(DTV),
    ("return", "POST", "/v1/return-cases/{case_id}/dublin-transfer"): command(DTV),
    # history (the read side): person level for the chain's agencies, aggregates also for the steering
    # tables, the housing view for municipalities (their own households) and auditors
    ("history", "GET", "/v1/persons/{person_id}/residence-history"): read(PERSON_LEVEL),
    ("history", "POST", "/v1/residence-history/_zoek"): read(PERSON_LEVEL),
    ("history", "GET", "/v1/persons/{person_id}/timeline"): read(PERSON_LEVEL),
    ("history", "GET", "/v1/moves"): read(PERSON_LEVEL),
    ("history", "GET", "/v1/children-policy"): read(PERSON_LEVEL),
    ("history", "GET", "/v1/occupancy"): read(PERSON_LEVEL, REGIETAFEL),
    ("history", "GET", "/v1/provinces"): read(PERSON_LEVEL, REGIETAFEL),
    ("history", "GET", "/v1/flows"): read(PERSON_LEVEL, REGIETAFEL),
    ("history", "GET", "/v1/streams"): read(PERSON_LEVEL, REGIETAFEL),
    ("history", "GET", "/v1/move-statistics"): read(PERSON_LEVEL, REGIETAFEL),
    ("history", "GET", "/v1/system-health"): read(PERSON_LEVEL, REGIETAFEL),
    ("history", "GET", "/v1/housing/households"): read(GEMEENTE, AUDIT),
    ("history", "GET", "/v1/housing/households/{household_id}"): read(GEMEENTE, AUDIT),
    # every service's access log, for auditors only
    **{(service, "POST", "/v1/access-log/_zoek"): read(AUDIT) for service in SERVICE_NAMES},
}

# POST routes that change nothing: searches and openings with the identifier in the body (Dutch API
# Design Rules), and a recommendation computed from the current state. Every other POST is a command.
POST_READS = {
    ("intake", "/v1/persons/_zoek"),
    ("intake", "/v1/persons/{person_id}/identity/_open"),
    ("intake", "/v1/persons/{person_id}/sealed-fields/_open"),
    ("placement", "/v1/placement-recommendations"),
    ("history", "/v1/residence-history/_zoek"),
    *((service, "/v1/access-log/_zoek") for service in SERVICE_NAMES),
}


def token_of(token_for: MintToken, agency: str, **claims: Any) -> str:
    """A development token of `agency`; a municipality's token names its municipality unless told."""
    if agency == GEMEENTE:
        claims.setdefault("municipality", AMSTERDAM)
    return token_for(agency, **claims)


@asynccontextmanager
async def migrated_app(service: str, data_dir: Path, auth_dir: Path) -> AsyncIterator[FastAPI]:
    """`create_app(settings)` with the token key set and a migrated SQLite database; no Kafka, no
    consumers, so nothing changes the database but the requests the test sends."""
    app = unstarted_app(service, data_dir, auth_dir)
    definition = SERVICE_DEFINITIONS[service][0]
    runtime = app.state.runtime
    await upgrade_to_head_async(runtime.settings.database_url, definition.migrations)
    try:
        yield app
    finally:
        await runtime.engine.dispose()


def client_of(app: FastAPI, service: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url=f"http://{service}.test")


def protected_routes(app: FastAPI, service: str) -> list[tuple[str, str]]:
    public = PUBLIC["all"] | PUBLIC.get(service, set())
    return [route for route in routes_of(app.routes) if route not in public]


# --- the matrix and the document agree ----------------------------------------------------------------


def documented_matrix() -> dict[tuple[str, str, str], frozenset[str]]:
    """The "Per route" table of docs/security.md: `| service | `METHOD /path` | ✓ or — per agency |`."""
    text = SECURITY_DOC.read_text()
    header = re.search(r"^\| service \| route \| (.+) \|$", text, re.MULTILINE)
    assert header, "docs/security.md has no per-route table"
    columns = [c.strip() for c in header.group(1).split("|")]
    assert tuple(columns) == AGENCIES, columns
    found: dict[tuple[str, str, str], frozenset[str]] = {}
    for line in re.findall(r"^\| (\w+) \| `(GET|POST) (\S+)` \| (.+) \|$", text, re.MULTILINE):
        service, method, path, cells = line
        marks = [c.strip() for c in cells.split("|")]
        assert len(marks) == len(AGENCIES) and set(marks) <= {"✓", "—"}, line
        found[(service, method, path)] = frozenset(
            a for a, m in zip(AGENCIES, marks, strict=True) if m == "✓"
        )
    return found


def test_the_documented_matrix_is_the_one_tested() -> None:
    # given the table in docs/security.md, then it says exactly what the matrix here says, route by route
    documented = documented_matrix()
    tested = {route: allowed for route, (_, allowed) in MATRIX.items()}
    assert set(documented) == set(tested), set(documented) ^ set(tested)
    differing = {
        route: (documented[route], tested[route]) for route in tested if documented[route] != tested[route]
    }
    assert differing == {}


def test_the_agencies_of_the_matrix_are_the_agencies_tokens_are_issued_for() -> None:
    assert set(AGENCIES) == set(AGENCY_SCOPES)


def test_the_auditor_is_given_no_command_and_every_post_but_the_listed_reads_is_a_command() -> None:
    # given the kinds declared in the matrix, then a POST is a read only when listed as one (with its
    # reason above), every GET is a read, and no command lets the auditor in
    for (service, method, path), (kind, allowed) in MATRIX.items():
        expected = Kind.READ if method == "GET" or (service, path) in POST_READS else Kind.COMMAND
        assert kind is expected, (service, method, path)
        if kind is Kind.COMMAND:
            assert AUDIT not in allowed, (service, method, path)
    assert {(s, p) for (s, m, p) in MATRIX if m == "POST"} >= POST_READS


# --- every route, every agency ---------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
async def test_every_route_lets_in_exactly_the_agencies_the_matrix_names(
    service: str, tmp_path: Path, auth_dir: Path, token_for: MintToken
) -> None:
    async with migrated_app(service, tmp_path, auth_dir) as app:
        # given every protected route of the service, as the app itself lists them
        routes = protected_routes(app, service)
        unlisted = [r for r in routes if (service, *r) not in MATRIX]
        assert unlisted == [], "a route nobody decided about: add it to the matrix and docs/security.md"
        listed_here = {(m, p) for (s, m, p) in MATRIX if s == service}
        assert listed_here <= set(routes), "the matrix names a route that does not exist"
        tokens = {agency: token_of(token_for, agency) for agency in AGENCIES}
        failures = []
        async with client_of(app, service) as client:
            for method, path in routes:
                _, allowed = MATRIX[(service, method, path)]
                for agency in AGENCIES:
                    # when the agency's client calls it (an empty body, made-up ids)
                    headers = {"Authorization": f"Bearer {tokens[agency]}"}
                    response = await client.request(method, concrete(path), headers=headers, json={})
                    # then an allowed agency gets the route's real answer, a refused one 403 problem+json
                    if agency in allowed:
                        ok = response.status_code not in (401, 403) and response.status_code < 500
                    else:
                        ok = (
                            response.status_code == 403
                            and response.headers.get("content-type") == PROBLEM_JSON
                            and response.json().get("status") == 403
                        )
                    if not ok:
                        failures.append(
                            f"{method} {path} as {agency}: {response.status_code} {response.text[:120]}"
                        )
    assert failures == []


# --- objects and fields on the read side ------------------------------------------------------------

HOUSING_FIELDS = {
    "householdId",
    "municipalityCode",
    "linkedOn",
    "householdSize",
    "permitStatus",
    "permitGrantedOn",
}
PERMIT_ON = datetime(2026, 6, 1, 9, tzinfo=UTC)
LINKED_ON = datetime(2026, 6, 20, 9, tzinfo=UTC)


@dataclass(frozen=True)
class Chain:
    """What the read side holds: an Amsterdam household of three with a permit (and the IND's stream
    and hearing facts about it), a Rotterdam household of one whose permit has not reached the read
    side, and a household linked nowhere."""

    client: httpx.AsyncClient
    amsterdam: HouseholdRegistered
    rotterdam: HouseholdRegistered
    unlinked: HouseholdRegistered


def household(size: int) -> HouseholdRegistered:
    return HouseholdRegistered(
        household_id=new_id(),
        channel=RegistrationChannel.TER_APEL,
        arrival_group=ArrivalGroup.FIRST_APPLICATION,
        members=tuple(
            HouseholdMember(
                person_id=new_id(),
                role=MemberRole.ADULT if index == 0 else MemberRole.CHILD,
                relation=Relation.HEAD if index == 0 else Relation.CHILD,
                birth_year=1988 if index == 0 else 2016,
                nationality="SYR",
            )
            for index in range(size)
        ),
        occurred_at=datetime(2026, 1, 5, tzinfo=UTC),
    )


def linked(registered: HouseholdRegistered, municipality: str) -> HouseholdLinkedToMunicipality:
    return HouseholdLinkedToMunicipality(
        household_id=registered.household_id,
        municipality=municipality,
        person_ids=tuple(m.person_id for m in registered.members),
        occurred_at=LINKED_ON,
    )


def procedure_facts(registered: HouseholdRegistered) -> list[Event]:
    common: dict[str, Any] = {"application_id": new_id(), "household_id": registered.household_id}
    return [
        ReceptionStreamDetermined(
            **common,
            stream=ReceptionStream.ACCELERATED,
            ground=AcceleratedGround.SAFE_COUNTRY_OF_ORIGIN,
            occurred_at=datetime(2026, 2, 1, tzinfo=UTC),
        ),
        HearingHeld(
            **common,
            kind=HearingKind.DETAILED,
            site=HearingSite.IND_OFFICE,
            ind_office="Zevenaar",
            occurred_at=datetime(2026, 3, 1, tzinfo=UTC),
        ),
        ResidencePermitGranted(
            **common,
            person_ids=tuple(m.person_id for m in registered.members),
            valid_until=datetime(2031, 6, 1, tzinfo=UTC),
            occurred_at=PERMIT_ON,
        ),
    ]


@pytest.fixture
async def chain(tmp_path: Path, auth_dir: Path) -> AsyncIterator[Chain]:
    async with migrated_app("history", tmp_path, auth_dir) as app:
        amsterdam, rotterdam, unlinked = household(3), household(1), household(2)
        events: list[Event] = [amsterdam, rotterdam, unlinked, *procedure_facts(amsterdam)]
        events += [linked(amsterdam, AMSTERDAM), linked(rotterdam, ROTTERDAM)]
        handlers = all_handlers()
        for event in events:  # applied as the read side's consumer applies them
            async with app.state.runtime.units_of_work() as uow:
                consumed = ConsumedEvent(envelope_for(event), event, "test", 0, 0)
                await handlers[type(event)](uow, consumed)
                await uow.commit()
        async with client_of(app, "history") as client:
            yield Chain(client, amsterdam, rotterdam, unlinked)


async def get(chain: Chain, path: str, token: str) -> httpx.Response:
    return await chain.client.get(path, headers={"Authorization": f"Bearer {token}"})


async def test_a_municipality_sees_its_household_with_exactly_what_housing_needs(
    chain: Chain, token_for: MintToken
) -> None:
    amsterdam = token_for(GEMEENTE, municipality=AMSTERDAM)
    household_id = chain.amsterdam.household_id
    # when Amsterdam lists its households and reads the one linked to it
    listed = await get(chain, "/v1/housing/households", amsterdam)
    one = await get(chain, f"/v1/housing/households/{household_id}", amsterdam)
    # then it gets that household only, with the allowed fields and nothing else
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert (page["count"], page["next"], page["previous"]) == (1, None, None)
    assert one.status_code == 200, one.text
    assert page["results"] == [one.json()]
    assert set(one.json()) == HOUSING_FIELDS
    assert one.json() == {
        "householdId": household_id,
        "municipalityCode": AMSTERDAM,
        "linkedOn": "2026-06-20T09:00:00Z",
        "householdSize": 3,
        "permitStatus": "granted",
        "permitGrantedOn": "2026-06-01T09:00:00Z",
    }
    # and no person in it is named, not even by pseudonymous id, nor their nationality or the IND's ground
    for text in (listed.text, one.text):
        assert not any(m.person_id in text for m in chain.amsterdam.members)
        assert "SYR" not in text and "safe-country" not in text and "Zevenaar" not in text


async def test_another_municipality_cannot_tell_that_household_from_an_unknown_one(
    chain: Chain, token_for: MintToken
) -> None:
    rotterdam = token_for(GEMEENTE, municipality=ROTTERDAM)
    # when Rotterdam asks for Amsterdam's household, and for a household that does not exist at all
    theirs = await get(chain, f"/v1/housing/households/{chain.amsterdam.household_id}", rotterdam)
    unknown_id = new_id()
    unknown = await get(chain, f"/v1/housing/households/{unknown_id}", rotterdam)
    # then both are the same 404 problem (only the id asked for differs)
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.headers["content-type"] == unknown.headers["content-type"] == PROBLEM_JSON
    assert theirs.json() == {
        **unknown.json(),
        "detail": unknown.json()["detail"].replace(unknown_id, chain.amsterdam.household_id),
    }
    # and a household linked to no municipality is not served either
    unlinked = await get(chain, f"/v1/housing/households/{chain.unlinked.household_id}", rotterdam)
    assert unlinked.status_code == 404
    # and its list holds its own household only; a municipality with none linked gets an empty list
    listed = (await get(chain, "/v1/housing/households", rotterdam)).json()
    assert [h["householdId"] for h in listed["results"]] == [chain.rotterdam.household_id]
    assert listed["results"][0]["permitStatus"] == "not-recorded"
    groningen = (
        await get(chain, "/v1/housing/households", token_for(GEMEENTE, municipality=GRONINGEN))
    ).json()
    assert groningen == {"count": 0, "next": None, "previous": None, "results": []}


async def test_the_municipality_comes_from_the_token_never_from_the_request(
    chain: Chain, token_for: MintToken
) -> None:
    rotterdam = token_for(GEMEENTE, municipality=ROTTERDAM)
    # when Rotterdam names Amsterdam in the query, then the request is refused, naming both parameters
    # (the view takes no municipality from the request: an unknown parameter is a 400, nothing is read)
    named = await get(
        chain, f"/v1/housing/households?municipality={AMSTERDAM}&municipalityCode={AMSTERDAM}", rotterdam
    )
    assert named.status_code == 400, named.text
    assert {p["name"] for p in named.json()["invalidParams"]} == {
        "query.municipality",
        "query.municipalityCode",
    }
    assert AMSTERDAM not in named.text.replace(f"={AMSTERDAM}", "")
    # and without them it gets Rotterdam's households, only
    listed = await get(chain, "/v1/housing/households", rotterdam)
    assert [h["householdId"] for h in listed.json()["results"]] == [chain.rotterdam.household_id]


async def test_a_municipality_token_without_its_municipality_is_refused(
    chain: Chain, token_for: MintToken
) -> None:
    # given a GEMEENTE token that names no municipality
    nameless = token_for(GEMEENTE)
    for path in ("/v1/housing/households", f"/v1/housing/households/{chain.amsterdam.household_id}"):
        # when it asks the housing view, then 403 problem, before anything is read
        response = await get(chain, path, nameless)
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json()["code"] == "municipality-claim-missing"


async def test_the_housing_view_waits_for_the_callers_own_write_but_never_for_a_refused_caller(
    chain: Chain, token_for: MintToken
) -> None:
    never_applied = new_id()
    path = f"/v1/housing/households?after={never_applied}"
    # when a token without its municipality names an event in `after`, then it is refused at once
    started = time.monotonic()
    refused = await get(chain, path, token_for(GEMEENTE))
    assert refused.status_code == 403 and time.monotonic() - started < FRESHNESS_WAIT_S
    # when Amsterdam names an event the read side has not applied, then it waits, and says so
    behind = await get(chain, path, token_for(GEMEENTE, municipality=AMSTERDAM))
    assert behind.status_code == 503, behind.text
    assert behind.json()["code"] == "read-model-behind"


async def test_the_auditor_reads_every_municipalitys_households(chain: Chain, token_for: MintToken) -> None:
    listed = (await get(chain, "/v1/housing/households", token_for(AUDIT))).json()
    assert {h["householdId"] for h in listed["results"]} == {
        chain.amsterdam.household_id,
        chain.rotterdam.household_id,
    }
    one = await get(chain, f"/v1/housing/households/{chain.rotterdam.household_id}", token_for(AUDIT))
    assert one.status_code == 200 and set(one.json()) == HOUSING_FIELDS


async def test_no_other_agency_reads_the_housing_view(chain: Chain, token_for: MintToken) -> None:
    for agency in set(AGENCIES) - {GEMEENTE, AUDIT}:
        response = await get(chain, "/v1/housing/households", token_for(agency))
        assert response.status_code == 403, (agency, response.text)


def procedure_entries(timeline: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        entry["type"].rsplit(".", 1)[-1]: entry["data"]
        for entry in timeline["entries"]
        if entry["type"].startswith("nl.asielketen.procedure.")
    }


@pytest.mark.parametrize("agency", [COA, AVIM, DTV])
async def test_the_timeline_shows_other_agencies_the_stream_but_not_the_inds_ground_or_hearing_details(
    chain: Chain, token_for: MintToken, agency: str
) -> None:
    person_id = chain.amsterdam.members[0].person_id
    # when COA (or AVIM, or DT&V) reads the person's timeline
    response = await get(chain, f"/v1/persons/{person_id}/timeline", token_for(agency))
    assert response.status_code == 200, response.text
    facts = procedure_entries(response.json())
    # then it sees that the stream was determined, and which, that a hearing was held, and the permit
    assert facts["reception-stream-determined"]["stream"] == "accelerated"
    assert "residence-permit-granted" in facts and "hearing-held" in facts
    # but not why the IND accelerated, nor which hearing it was or where
    assert "ground" not in facts["reception-stream-determined"]
    assert not {"kind", "site", "ind_office"} & set(facts["hearing-held"])
    assert "safe-country-of-origin" not in response.text and "Zevenaar" not in response.text


@pytest.mark.parametrize("agency", [IND, AUDIT])
async def test_the_ind_and_the_auditor_see_the_procedure_facts_whole(
    chain: Chain, token_for: MintToken, agency: str
) -> None:
    person_id = chain.amsterdam.members[0].person_id
    response = await get(chain, f"/v1/persons/{person_id}/timeline", token_for(agency))
    facts = procedure_entries(response.json())
    assert facts["reception-stream-determined"]["ground"] == "safe-country-of-origin"
    assert (
        facts["hearing-held"] | {"kind": "detailed", "site": "ind-office", "ind_office": "Zevenaar"}
        == (facts["hearing-held"])
    )
