"""Idempotency-Key: a retried command gets its first answer again and appends nothing; the same key for
another command is refused. Told with intake's household registration, in-process on SQLite and on
PostgreSQL (Kafka unreachable: the outbox keeps what would be published). The middleware and table are
shared by the four services that take commands; the last test checks each of them has the table.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError

from intake.entrypoints.app import DEFINITION as INTAKE
from intake.entrypoints.app import create_app
from placement.entrypoints.app import DEFINITION as PLACEMENT
from procedure.entrypoints.app import DEFINITION as PROCEDURE
from repatriation.entrypoints.app import DEFINITION as RETURN
from shared import idempotency
from shared.eventstore.migrations import upgrade_to_head_async
from shared.eventstore.schema import events, idempotency_keys
from shared.runtime import ServiceDefinition
from shared.settings import IntakeSettings
from tests.fixtures import MintToken, NewDatabase
from tests.helpers import VAULT_TEST_KEY

PROBLEM = "application/problem+json"
FAMILY = [
    {"role": "adult", "relation": "head", "birthYear": 1988, "nationality": "SYR"},
    {"role": "child", "relation": "child", "birthYear": 2016, "nationality": "SYR"},
]
REGISTRATION = {"channel": "ter-apel", "arrivalGroup": "first-application", "members": FAMILY}


@pytest.fixture
async def intake_app(sqlite_or_postgres_database: NewDatabase, auth_dir: Path) -> AsyncIterator[FastAPI]:
    database_url = await sqlite_or_postgres_database("idempotency")
    settings = IntakeSettings(
        service="intake",
        vault_master_key=VAULT_TEST_KEY,
        database_url=database_url,
        kafka_bootstrap_servers="127.0.0.1:9",
        kafka_create_topics=False,
        auth_jwks_path=auth_dir / "jwks.json",
        environment="test",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(intake_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=intake_app), base_url="http://intake"
    ) as http:
        yield http


async def register(
    client: httpx.AsyncClient, token: str, key: str | None, body: dict[str, Any] = REGISTRATION
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return await client.post("/v1/households", json=body, headers=headers)


async def event_count(app: FastAPI) -> int:
    async with app.state.runtime.engine.connect() as connection:
        return int((await connection.execute(sa.select(sa.func.count()).select_from(events))).scalar_one())


async def execute(app: FastAPI, statement: sa.Executable) -> None:
    async with app.state.runtime.engine.begin() as connection:
        await connection.execute(statement)


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


async def test_a_retried_command_gets_its_first_answer_and_appends_nothing(
    intake_app: FastAPI, client: httpx.AsyncClient, token_for: MintToken
) -> None:
    # given the IND registered a household with a key
    token = token_for("IND")
    first = await register(client, token, "retry-me")
    assert first.status_code == 201, first.text
    recorded = await event_count(intake_app)

    # when the answer is lost and the IND sends the very same command again
    again = await register(client, token, "retry-me")

    # then it gets the first answer: status, body, where and which version, which events
    assert again.status_code == 201
    assert again.json() == first.json()
    for header in ("Location", "ETag", "X-Event-Ids", "X-Last-Event-Id"):
        assert again.headers[header] == first.headers[header], header
    assert again.headers["Idempotent-Replayed"] == "true"
    # and not one event more
    assert await event_count(intake_app) == recorded


async def test_without_a_key_a_retry_is_a_new_command(
    intake_app: FastAPI, client: httpx.AsyncClient, token_for: MintToken
) -> None:
    # the control for the test above: the same body twice, no key, registers two households
    token = token_for("IND")
    first, second = await register(client, token, None), await register(client, token, None)

    assert first.json()["householdId"] != second.json()["householdId"]


async def test_the_same_key_for_another_command_is_refused(
    intake_app: FastAPI, client: httpx.AsyncClient, token_for: MintToken
) -> None:
    token = token_for("IND")
    await register(client, token, "one-key")
    recorded = await event_count(intake_app)

    other = await register(client, token, "one-key", {**REGISTRATION, "channel": "schiphol"})

    body = problem(other, 422, "idempotency-key-reused")
    assert [item["name"] for item in body["invalidParams"]] == ["Idempotency-Key"]
    assert await event_count(intake_app) == recorded


async def test_keys_are_per_client(client: httpx.AsyncClient, token_for: MintToken) -> None:
    # two clients that happen to pick the same key do not see each other's answers
    ind = await register(client, token_for("IND"), "shared-key")
    avim = await register(client, token_for("AVIM"), "shared-key")

    assert (ind.status_code, avim.status_code) == (201, 201)
    assert ind.json()["householdId"] != avim.json()["householdId"]


async def test_a_refused_command_is_not_remembered(client: httpx.AsyncClient, token_for: MintToken) -> None:
    # given a command refused for a rule (nothing happened)
    token = token_for("IND")
    refused = await register(client, token, "fix-and-retry", {**REGISTRATION, "members": FAMILY[::-1]})
    problem(refused, 409, "first-member-not-head")

    # when the client retries the same command: it runs again (and is refused again, not replayed)
    again = await register(client, token, "fix-and-retry", {**REGISTRATION, "members": FAMILY[::-1]})

    problem(again, 409, "first-member-not-head")
    assert "Idempotent-Replayed" not in again.headers


async def test_an_expired_key_is_forgotten(
    intake_app: FastAPI, client: httpx.AsyncClient, token_for: MintToken
) -> None:
    token = token_for("IND")
    first = await register(client, token, "old-key")
    # given the key's time is up
    await execute(
        intake_app, sa.update(idempotency_keys).values(expires_at=datetime.now(UTC) - timedelta(days=1))
    )

    again = await register(client, token, "old-key")

    assert again.status_code == 201 and again.json()["householdId"] != first.json()["householdId"]


async def test_a_key_whose_events_are_recorded_but_whose_answer_is_not_yet_is_in_progress(
    intake_app: FastAPI, client: httpx.AsyncClient, token_for: MintToken
) -> None:
    # given the state between the commit of the events (key claimed with them) and storing the answer
    token = token_for("IND")
    await register(client, token, "in-flight")
    await execute(intake_app, sa.update(idempotency_keys).values(status_code=None, body=None))
    recorded = await event_count(intake_app)

    retry = await register(client, token, "in-flight")

    problem(retry, 409, "idempotency-key-in-progress")
    assert retry.headers["Retry-After"] == "1"
    assert await event_count(intake_app) == recorded


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\tinside"])
async def test_a_malformed_key_is_a_400(client: httpx.AsyncClient, token_for: MintToken, key: str) -> None:
    response = await client.post(
        "/v1/households",
        json=REGISTRATION,
        headers={"Authorization": f"Bearer {token_for('IND')}", "Idempotency-Key": key},
    )

    problem(response, 400, "invalid-idempotency-key")


@pytest.mark.parametrize("definition", [INTAKE, PLACEMENT, PROCEDURE, RETURN], ids=lambda d: d.name)
async def test_every_service_that_takes_commands_keeps_its_keys_in_its_own_database(
    tmp_path: Path, definition: ServiceDefinition
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/{definition.name}.db"

    await upgrade_to_head_async(url, definition.migrations)

    engine = sa.create_engine(url.replace("+aiosqlite", ""))
    try:
        columns = {column["name"] for column in sa.inspect(engine).get_columns("idempotency_keys")}
    finally:
        engine.dispose()
    assert {"client", "key", "fingerprint", "expires_at", "status_code", "body", "event_ids"} <= columns


async def test_two_concurrent_requests_with_one_key_append_once(
    intake_app: FastAPI, client: httpx.AsyncClient, token_for: MintToken
) -> None:
    # a client that retries before its first attempt answered: both may pass the look-up, but the key
    # is claimed in the events' transaction, so only one of them can commit
    token = token_for("IND")
    before = await event_count(intake_app)

    first, second = await asyncio.gather(register(client, token, "raced"), register(client, token, "raced"))

    statuses = sorted([first.status_code, second.status_code])
    assert statuses in ([201, 201], [201, 409]), (first.text, second.text)
    if statuses == [201, 201]:  # the second looked up after the first answered: a replay
        assert first.json() == second.json()
    assert await event_count(intake_app) - before == 3  # one household fact and one per member, once


async def test_a_database_blip_while_storing_the_answer_neither_fails_the_command_nor_strands_its_key(
    intake_app: FastAPI, client: httpx.AsyncClient, token_for: MintToken, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a database connection that breaks once, just after the command's events were committed and
    # before its answer is stored (what the chaos run's dropped PostgreSQL connections did)
    original = idempotency._remember
    failures = [OperationalError("UPDATE idempotency_keys", {}, ConnectionResetError("reset by peer"))]

    async def remember_after_a_blip(*args: Any) -> None:
        if failures:
            raise failures.pop()
        await original(*args)

    monkeypatch.setattr(idempotency, "_remember", remember_after_a_blip)
    token = token_for("IND")

    # when the command is sent, and then retried with its key
    first = await register(client, token, "blip")
    retry = await register(client, token, "blip")

    # then the command succeeded, and the retry gets that answer again instead of 409 in-progress for ever
    assert first.status_code == 201, first.text
    assert retry.status_code == 201, retry.text
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert not failures
