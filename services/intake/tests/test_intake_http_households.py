"""Households over HTTP, in-process: registration (201), pre-registration, reads with ETags, and every
refusal as problem+json — 400 malformed, 401/403 token, 404 unknown, 409 rule (with its code), 412 stale."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from intake_privacy_fixtures import intake_settings, running_intake

from tests.fixtures import MintToken

PROBLEM = "application/problem+json"
FAMILY = [
    {"role": "adult", "relation": "head", "birthYear": 1988, "nationality": "SYR"},
    {"role": "child", "relation": "child", "birthYear": 2016, "nationality": "SYR"},
]


# The app in-process on a fresh SQLite file, Kafka unreachable: commands work without a broker (the
# outbox keeps what would be published).
@pytest.fixture
async def intake_app(tmp_path: Path, auth_dir: Path) -> AsyncIterator[FastAPI]:
    async with running_intake(intake_settings(tmp_path, auth_dir)) as app:
        yield app


@pytest.fixture
async def client(intake_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=intake_app), base_url="http://intake"
    ) as http:
        yield http


def _auth(token_for: MintToken, agency: str = "AVIM") -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(agency)}"}


async def _register(client: httpx.AsyncClient, token_for: MintToken, **overrides: Any) -> httpx.Response:
    body = {"channel": "ter-apel", "arrivalGroup": "first-application", "members": FAMILY, **overrides}
    return await client.post("/v1/households", json=body, headers=_auth(token_for, "IND"))


def _problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert (body["status"], body["code"]) == (status, code)
    return body


async def test_registering_answers_201_with_location_etag_and_the_household(
    client: httpx.AsyncClient, token_for: MintToken
) -> None:
    # when the IND registers a parent and child at Ter Apel
    created = await _register(client, token_for)
    # then 201, where to find it, and its version: the household fact plus one fact per member
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["Location"] == f"/v1/households/{body['householdId']}"
    assert created.headers["ETag"] == '"3"'
    assert body["arrivalGroup"] == "first-application" and body["channel"] == "ter-apel"
    assert [(m["relation"], m["role"], m["identified"]) for m in body["members"]] == [
        ("head", "adult", False),
        ("child", "child", False),
    ]
    assert body["preRegistration"] is None and body["familyElsewhere"] == []
    # and COA (read scope) reads the same household with the same ETag
    read = await client.get(created.headers["Location"], headers=_auth(token_for, "COA"))
    assert read.status_code == 200
    assert read.headers["ETag"] == '"3"' and read.json() == body


async def test_a_malformed_registration_is_a_400_listing_every_problem(
    client: httpx.AsyncClient, token_for: MintToken
) -> None:
    body = {
        "channel": "ter-apel",
        "members": [{"role": "adult", "birthYear": 1988, "nationality": "syr"}],
        "familyElsewhere": ["a", "a"],
    }
    response = await client.post("/v1/households", json=body, headers=_auth(token_for))
    problem = _problem(response, 400, "invalid-request")
    names = {item["name"] for item in problem["invalidParams"]}
    assert {"arrivalGroup", "members.0.relation", "members.0.nationality", "familyElsewhere"} <= names


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"channel": "zevenaar"}, "zevenaar-only-for-family-reunification"),
        ({"arrivalGroup": "family-reunification"}, "family-reunification-not-at-zevenaar"),
        ({"arrivalGroup": "unaccompanied-minor"}, "unaccompanied-minor-with-adult"),
        ({"members": list(reversed(FAMILY))}, "first-member-not-head"),
        (
            {"members": [{"role": "child", "relation": "head", "birthYear": 2012, "nationality": "ERI"}]},
            "no-adult-in-household",
        ),
        ({"familyElsewhere": ["0190f0a1-0000-7000-8000-00000000dead"]}, "unknown-family-member"),
    ],
)
async def test_a_registration_that_breaks_a_rule_is_a_409_with_its_code(
    client: httpx.AsyncClient, token_for: MintToken, overrides: dict[str, Any], code: str
) -> None:
    _problem(await _register(client, token_for, **overrides), 409, code)


async def test_family_reunification_names_family_intake_registered_before(
    client: httpx.AsyncClient, token_for: MintToken
) -> None:
    # given a parent registered at Ter Apel
    parent = (await _register(client, token_for)).json()["members"][0]["personId"]
    # when the children report at Zevenaar for family reunification, naming the parent
    children = [
        {"role": "child", "relation": "head", "birthYear": 2012, "nationality": "SYR"},
        {"role": "child", "relation": "sibling", "birthYear": 2014, "nationality": "SYR"},
    ]
    created = await _register(
        client,
        token_for,
        channel="zevenaar",
        arrivalGroup="family-reunification",
        members=children,
        familyElsewhere=[parent],
    )
    # then they are registered with the parent as family elsewhere
    assert created.status_code == 201, created.text
    assert created.json()["familyElsewhere"] == [parent]


async def test_an_unknown_household_is_a_404(client: httpx.AsyncClient, token_for: MintToken) -> None:
    _problem(await client.get("/v1/households/nope", headers=_auth(token_for)), 404, "not-found")
    response = await client.post(
        "/v1/households/nope/pre-registration", json={"language": "ar"}, headers=_auth(token_for, "IND")
    )
    _problem(response, 404, "not-found")


async def test_pre_registration_is_recorded_once(client: httpx.AsyncClient, token_for: MintToken) -> None:
    location = (await _register(client, token_for)).headers["Location"]
    done = await client.post(
        f"{location}/pre-registration", json={"language": "ar"}, headers=_auth(token_for, "IND")
    )
    assert done.status_code == 200, done.text
    assert done.headers["ETag"] == '"4"'
    assert done.json()["preRegistration"]["language"] == "ar"
    again = await client.post(
        f"{location}/pre-registration", json={"language": "fa"}, headers=_auth(token_for, "IND")
    )
    _problem(again, 409, "already-pre-registered")
    malformed = await client.post(
        f"{location}/pre-registration", json={"language": "Arabic"}, headers=_auth(token_for, "IND")
    )
    _problem(malformed, 400, "invalid-request")


async def test_pre_registration_honours_if_match(client: httpx.AsyncClient, token_for: MintToken) -> None:
    location = (await _register(client, token_for)).headers["Location"]
    url, headers = f"{location}/pre-registration", _auth(token_for, "IND")
    stale = await client.post(url, json={"language": "ar"}, headers={**headers, "If-Match": '"1"'})
    _problem(stale, 412, "precondition-failed")
    invalid = await client.post(url, json={"language": "ar"}, headers={**headers, "If-Match": "latest"})
    _problem(invalid, 400, "invalid-if-match")
    current = await client.post(url, json={"language": "ar"}, headers={**headers, "If-Match": '"3"'})
    assert current.status_code == 200 and current.headers["ETag"] == '"4"'


async def test_tokens_are_required_and_scopes_checked(
    client: httpx.AsyncClient, token_for: MintToken
) -> None:
    _problem(await client.post("/v1/households", json={}), 401, "unauthenticated")
    # COA may read intake but not register
    forbidden = await client.post("/v1/households", json={}, headers=_auth(token_for, "COA"))
    _problem(forbidden, 403, "insufficient-scope")
