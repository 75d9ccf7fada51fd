"""The HTTP edge every service shares: problem+json errors, bearer tokens and scopes, security headers
and correlation ids, on a tiny app built from the same parts."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Literal

import httpx
import pytest
from fastapi import Depends, FastAPI
from pydantic import Field

from shared.api import ApiModel
from shared.auth import Principal, TokenVerifier
from shared.eventstore import ConcurrencyConflict
from shared.http import RequireScope, install_edge_middleware, install_problem_handlers
from shared.logging import correlation_id
from shared.settings import DEFAULT_AUDIENCE, DEV_ISSUER
from tests.fixtures import MintToken

PROBLEM_JSON = "application/problem+json"


class Registration(ApiModel):
    household_id: str = Field(min_length=1)
    members: int = Field(ge=1)
    channel: Literal["ter-apel", "schiphol"]


MayWrite = Annotated[Principal, Depends(RequireScope("intake:write"))]


def tiny_app(verifier: TokenVerifier) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    install_edge_middleware(app)
    app.state.runtime = SimpleNamespace(verifier=verifier)

    @app.post("/registrations")
    async def register(body: Registration, principal: MayWrite) -> dict[str, str]:
        return {"actor": principal.actor, "household": body.household_id}

    @app.post("/conflicting")
    async def conflicting(principal: MayWrite) -> None:
        raise ConcurrencyConflict("household-1", 2, 3)

    @app.get("/failing")
    async def failing() -> None:
        raise RuntimeError("a bug")

    return app


@pytest.fixture(scope="module")
async def client(auth_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    verifier = TokenVerifier.from_file(auth_dir / "jwks.json", issuer=DEV_ISSUER, audience=DEFAULT_AUDIENCE)
    transport = httpx.ASGITransport(app=tiny_app(verifier), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://edge.test") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


VALID = {"householdId": "h-1", "members": 2, "channel": "ter-apel"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"]
    return body  # type: ignore[no-any-return]


async def test_a_request_with_the_scope_is_served(client: httpx.AsyncClient, token_for: MintToken) -> None:
    response = await client.post("/registrations", json=VALID, headers=bearer(token_for("AVIM")))

    assert response.status_code == 200
    assert response.json() == {"actor": "AVIM:avim-dev-client", "household": "h-1"}


@pytest.mark.parametrize("authorization", [None, "Bearer ", "Basic dXNlcjpwdw==", "Bearer not-a-token"])
async def test_a_request_without_a_valid_token_is_unauthenticated(
    client: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}

    response = await client.post("/registrations", json=VALID, headers=headers)

    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_token_without_the_scope_is_forbidden(
    client: httpx.AsyncClient, token_for: MintToken
) -> None:
    # DT&V may not register households
    response = await client.post("/registrations", json=VALID, headers=bearer(token_for("DTV")))

    body = assert_problem(response, 403)
    assert "intake:write" in str(body["detail"])


async def test_an_invalid_body_lists_every_invalid_field(
    client: httpx.AsyncClient, token_for: MintToken
) -> None:
    # given a body with three problems: an empty id, no members and an unknown channel
    body = {"householdId": "", "members": 0, "channel": "by-boat"}

    response = await client.post("/registrations", json=body, headers=bearer(token_for("AVIM")))

    problem = assert_problem(response, 400)
    names = sorted(str(item["name"]) for item in problem["invalidParams"])  # type: ignore[attr-defined]
    assert names == ["channel", "householdId", "members"]
    assert all(item["reason"] and item["code"] for item in problem["invalidParams"])  # type: ignore[attr-defined]


async def test_a_body_with_an_unknown_field_is_invalid(
    client: httpx.AsyncClient, token_for: MintToken
) -> None:
    response = await client.post(
        "/registrations", json=VALID | {"vNumber": "1234567890"}, headers=bearer(token_for("AVIM"))
    )

    problem = assert_problem(response, 400)
    assert [item["name"] for item in problem["invalidParams"]] == ["vNumber"]  # type: ignore[attr-defined]


async def test_a_concurrency_conflict_is_a_409_problem(
    client: httpx.AsyncClient, token_for: MintToken
) -> None:
    response = await client.post("/conflicting", headers=bearer(token_for("AVIM")))

    problem = assert_problem(response, 409)
    assert problem["code"] == "concurrency-conflict"


async def test_an_unknown_route_is_a_404_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/nowhere"), 404)


async def test_an_unexpected_error_is_a_500_problem_without_details(client: httpx.AsyncClient) -> None:
    response = await client.get("/failing")

    problem = assert_problem(response, 500)
    assert "a bug" not in response.text
    assert problem["code"] == "internal-error"


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/registrations"), ("POST", "/conflicting"), ("GET", "/failing")]
)
async def test_every_response_carries_the_security_and_version_headers(
    client: httpx.AsyncClient, token_for: MintToken, method: str, path: str
) -> None:
    response = await client.request(method, path, json=VALID, headers=bearer(token_for("AVIM")))

    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["API-Version"] == "1.0.0"


async def test_a_correlation_id_given_by_the_caller_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.post("/registrations", json=VALID, headers={"X-Correlation-ID": "case-4711"})

    assert response.headers["X-Correlation-ID"] == "case-4711"


async def test_a_correlation_id_is_made_when_the_caller_gives_none(client: httpx.AsyncClient) -> None:
    first = await client.post("/registrations", json=VALID)
    second = await client.post("/registrations", json=VALID)

    made = [first.headers["X-Correlation-ID"], second.headers["X-Correlation-ID"]]
    assert all(len(value) == 36 for value in made) and made[0] != made[1]


async def test_an_unusable_correlation_id_is_replaced(client: httpx.AsyncClient) -> None:
    response = await client.post("/registrations", json=VALID, headers={"X-Correlation-ID": "x" * 65})

    assert len(response.headers["X-Correlation-ID"]) == 36


async def test_an_unexpected_error_still_answers_with_the_correlation_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/failing", headers={"X-Correlation-ID": "case-4712"})

    assert response.headers.get("X-Correlation-ID") == "case-4712"


async def test_an_unexpected_error_is_logged_under_the_correlation_id(client: httpx.AsyncClient) -> None:
    seen: list[str | None] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(correlation_id.get())

    capture = Capture(level=logging.ERROR)
    logging.getLogger("shared.http").addHandler(capture)
    try:
        await client.get("/failing", headers={"X-Correlation-ID": "case-4713"})
    finally:
        logging.getLogger("shared.http").removeHandler(capture)

    assert seen == ["case-4713"]
