"""Bad input over HTTP: a body over the size limit is refused before it is held in memory (413), an
unknown field is an error and not silently dropped, and no request schema of any service leaves a
string, a list or an object unbounded. Each service's app is built with `create_app(settings)`; its
runtime is not started, so a refusal here happens at the edge, before any database work.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures import MintToken
from tests.helpers import SERVICES, unstarted_app

PROBLEM_JSON = "application/problem+json"
LIMIT = 2048  # MAX_REQUEST_BODY_BYTES for these tests (64 KiB by default)

# One command per service, with the agency allowed to send it and a body that is fine but for one field
# nobody knows (a typo, or a probe for mass assignment).
ONE_COMMAND_EACH: dict[str, tuple[str, str, dict[str, Any]]] = {
    "intake": ("IND", "/v1/households", {"channel": "ter-apel", "arrivalGroup": "first-application"}),
    "placement": ("COA", "/v1/locations", {"name": "azc Budel", "places": 10}),
    "procedure": ("IND", "/v1/applications/a-1/hearings", {"kind": "first-hearing"}),
    "return": ("DTV", "/v1/return-cases/c-1/departure-interview", {"cooperative": True}),
    "history": ("AUDIT", "/v1/residence-history/_zoek", {}),
}


def app_of(service: str, tmp_path: Path, auth_dir: Path) -> FastAPI:
    return unstarted_app(service, tmp_path, auth_dir, max_request_body_bytes=LIMIT)


async def post(app: FastAPI, path: str, **request: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://service.test") as client:
        return await client.post(path, **request)


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert (body["status"], body.get("code")) == (status, code)
    return body


def padded(size: int) -> bytes:
    return b'{"padding": "' + b"x" * size + b'"}'


@pytest.mark.parametrize("service", SERVICES)
async def test_a_body_over_the_limit_is_a_413_before_anything_else(
    service: str, tmp_path: Path, auth_dir: Path
) -> None:
    _, path, _ = ONE_COMMAND_EACH[service]

    response = await post(app_of(service, tmp_path, auth_dir), path, content=padded(LIMIT))

    problem = assert_problem(response, 413, "body-too-large")
    assert problem["maxBytes"] == LIMIT
    # refused inside the edge: the answer carries the correlation id and security headers like any other
    assert response.headers["X-Correlation-ID"] and response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("service", SERVICES)
async def test_a_body_within_the_limit_goes_on_to_the_token_check(
    service: str, tmp_path: Path, auth_dir: Path
) -> None:
    # the control: the same request a little smaller is judged on its token, not its size
    _, path, _ = ONE_COMMAND_EACH[service]

    response = await post(app_of(service, tmp_path, auth_dir), path, content=padded(LIMIT - 100))

    assert_problem(response, 401, "unauthenticated")


async def chunks(total: int) -> AsyncIterator[bytes]:
    yield b'{"padding": "'
    for _ in range(total // 512):
        yield b"x" * 512
    yield b'"}'


@pytest.mark.parametrize("idempotency_key", [None, "k-1"])
async def test_a_chunked_body_that_names_no_length_is_cut_off_at_the_limit(
    tmp_path: Path, auth_dir: Path, token_for: MintToken, idempotency_key: str | None
) -> None:
    # without Content-Length the limit counts the bytes as they arrive: read by the route, or first by
    # the Idempotency-Key store (which reads the body to fingerprint it)
    headers = {"Authorization": f"Bearer {token_for('IND')}", "Content-Type": "application/json"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key

    response = await post(
        app_of("intake", tmp_path, auth_dir), "/v1/households", content=chunks(4 * LIMIT), headers=headers
    )

    assert "content-length" not in {name.lower() for name in response.request.headers}
    assert_problem(response, 413, "body-too-large")


@pytest.mark.parametrize("service", SERVICES)
async def test_an_unknown_field_is_refused_and_named(
    service: str, tmp_path: Path, auth_dir: Path, token_for: MintToken
) -> None:
    agency, path, body = ONE_COMMAND_EACH[service]

    response = await post(
        app_of(service, tmp_path, auth_dir),
        path,
        json={**body, "isAdmin": True},
        headers={"Authorization": f"Bearer {token_for(agency)}"},
    )

    problem = assert_problem(response, 400, "invalid-request")
    unknown = [item for item in problem["invalidParams"] if item["name"] == "isAdmin"]
    assert [item["code"] for item in unknown] == ["extra_forbidden"]


def unbounded_parts(
    schema: dict[str, Any], components: dict[str, Any], where: str, seen: set[str]
) -> list[str]:
    """Every string without maxLength (or enum/format), list without maxItems and object that accepts
    unknown properties in a request body's JSON schema."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        return unbounded_parts(components[name], components, f"{where}<{name}>", seen | {name})
    found = []
    for combinator in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(combinator, []):
            found += unbounded_parts(option, components, where, seen)
    kind = schema.get("type")
    if kind == "string" and not {"maxLength", "enum", "const", "format"} & set(schema):
        found.append(f"{where}: string without maxLength")
    if kind == "array":
        if "maxItems" not in schema:
            found.append(f"{where}: list without maxItems")
        found += unbounded_parts(schema.get("items", {}), components, f"{where}[]", seen)
    if kind == "object" or "properties" in schema:
        if schema.get("additionalProperties", True) is not False:
            found.append(f"{where}: object open to unknown fields")
        for name, part in schema.get("properties", {}).items():
            found += unbounded_parts(part, components, f"{where}.{name}", seen)
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_every_request_schema_is_closed_and_bounded(service: str, tmp_path: Path, auth_dir: Path) -> None:
    spec = app_of(service, tmp_path, auth_dir).openapi()
    components = spec.get("components", {}).get("schemas", {})
    bodies = [
        (f"{method.upper()} {path}", operation["requestBody"]["content"]["application/json"]["schema"])
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    ]
    assert bodies, "no request bodies found: the walk is broken"

    found = [
        problem for where, schema in bodies for problem in unbounded_parts(schema, components, where, set())
    ]

    assert found == []


# --- found by the OpenAPI fuzzer (tests/api/test_openapi_fuzz.py), kept here as plain regressions -------

# A valid command per service, with the token that may send it, and a free-text field to spoil.
VALID_COMMANDS: dict[str, tuple[str, str, dict[str, Any], str]] = {
    "intake": (
        "IND",
        "/v1/persons/p-1/corrections",
        {"field": "role", "value": "adult", "reason": "age-assessment"},
        "value",
    ),
    "placement": (
        "COA",
        "/v1/locations",
        {
            "name": "azc Gilze",
            "locationType": "azc-regulier",
            "municipality": "Gilze en Rijen",
            "province": "Noord-Brabant",
            "capacity": 600,
        },
        "name",
    ),
    "procedure": ("IND", "/v1/applications/a-1/track", {"track": "4-general"}, "track"),
    "history": (
        "AUDIT",
        "/v1/residence-history/_zoek",
        {"personId": "0190a1b2-0000-7000-8000-0000000001"},
        "personId",
    ),
}


@pytest.mark.parametrize("service", VALID_COMMANDS)
async def test_a_nul_character_in_a_string_is_refused_before_it_reaches_the_database(
    service: str, tmp_path: Path, auth_dir: Path, token_for: MintToken
) -> None:
    # PostgreSQL can hold U+0000 neither in text nor in jsonb: it failed the command with a 500 (the fuzzer
    # found it on intake's household registration)
    agency, path, body, field = VALID_COMMANDS[service]

    response = await post(
        app_of(service, tmp_path, auth_dir),
        path,
        json={**body, field: f"{body[field]}\u0000"},
        headers={"Authorization": f"Bearer {token_for(agency)}"},
    )

    problem = assert_problem(response, 400, "invalid-request")
    assert [(item["name"], "NUL" in item["reason"]) for item in problem["invalidParams"]] == [(field, True)]


async def test_a_boolean_is_not_taken_for_a_number(
    tmp_path: Path, auth_dir: Path, token_for: MintToken
) -> None:
    # pydantic's lax mode read `true` as 1: a location of "capacity": true was registered with one place
    agency, path, body, _ = VALID_COMMANDS["placement"]

    response = await post(
        app_of("placement", tmp_path, auth_dir),
        path,
        json={**body, "capacity": True},
        headers={"Authorization": f"Bearer {token_for(agency)}"},
    )

    problem = assert_problem(response, 400, "invalid-request")
    assert [item["name"] for item in problem["invalidParams"]] == ["capacity"]


async def test_a_read_after_something_that_is_no_event_id_is_refused_at_once(
    tmp_path: Path, auth_dir: Path, token_for: MintToken
) -> None:
    # `after=uvicorn` can never be applied: it held the request for the whole 5 s wait, then answered 503
    app = app_of("history", tmp_path, auth_dir)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"Authorization": f"Bearer {token_for('AUDIT')}"}

    async with httpx.AsyncClient(transport=transport, base_url="http://history.test") as client:
        response = await client.get("/v1/moves", params={"after": "uvicorn"}, headers=headers)

    problem = assert_problem(response, 400, "invalid-request")
    assert [item["name"] for item in problem["invalidParams"]] == ["query.after"]


@pytest.mark.parametrize(
    ("service", "agency", "path"), [("history", "AUDIT", "/v1/moves"), ("placement", "COA", "/v1/locations")]
)
async def test_an_unknown_query_parameter_is_refused_and_named(
    service: str, agency: str, path: str, tmp_path: Path, auth_dir: Path, token_for: MintToken
) -> None:
    # ignored, a typo answers another question than the one asked: `validat` for `validAt` gave the
    # history as of now instead of as it was then (the fuzzer sent unknown parameters and got a 200)
    app = app_of(service, tmp_path, auth_dir)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"Authorization": f"Bearer {token_for(agency)}"}

    async with httpx.AsyncClient(transport=transport, base_url="http://service.test") as client:
        response = await client.get(path, params={"validat": "2026-01-01"}, headers=headers)

    problem = assert_problem(response, 400, "invalid-request")
    assert [(item["name"], item["code"]) for item in problem["invalidParams"]] == [
        ("query.validat", "unknown-parameter")
    ]
