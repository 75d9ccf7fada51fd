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
