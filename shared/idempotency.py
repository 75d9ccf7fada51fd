"""Idempotent commands: a client that sends `Idempotency-Key` with a command and retries it (a timeout,
a dropped connection) gets the first answer again — status, body, ETag, Location and X-Event-Ids — and
no new events.

- The key is remembered per client (the token's agency and client id), so two clients cannot collide or
  read each other's answers, and only for commands (POST, PUT, PATCH, DELETE) of the services that take
  them. Keys expire after IDEMPOTENCY_TTL_S (a day by default).
- A fingerprint of the command (method, path and query, If-Match, body) is kept with the key: the same
  key with another command is a client bug and answers 422 `idempotency-key-reused`.
- The key is claimed in the same transaction as the command's events (shared/eventstore/idempotency.py),
  and the answer is stored right after. Between the two the key is known but its answer is not: a retry
  in that window (or after a crash in it) gets 409 `idempotency-key-in-progress` with Retry-After, never
  a second copy of the events. Storing the answer is retried over a database blip, so only a crash of
  the process in that window leaves the key in progress (until it expires).
- Only answers of requests that appended events are stored. A refused command changed nothing, so its
  retry simply runs again; and the POST reads of personal data (intake's `identity/_open`,
  `sealed-fields/_open`) append no events, so their answers — names, V-numbers — are never copied into
  this table, where erasure (crypto-shredding) could not reach them.
- A request whose token does not verify passes through untouched: the route refuses it, and an
  unauthenticated request never reads a stored answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request, Response
from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.auth import AuthenticationError
from shared.eventstore.idempotency import IdempotencyClaim, idempotency_claim
from shared.eventstore.schema import idempotency_keys
from shared.eventstore.store import appended_event_ids
from shared.http import principal_of, problem_response

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
COMMAND_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 255
# The headers of an answer that are part of it; the edge adds the rest (security headers, correlation
# id of the retry) and X-Event-Ids from the stored event ids.
REPLAYED_HEADERS = ("content-type", "etag", "location")
# Storing an answer is retried over a database blip (a dropped connection, a restart): 0.2 s doubling,
# about 6 s in all. Found by the chaos run (chaos/): without it one dropped connection between the
# events' commit and the answer left the key "in progress" for a day, a retrying client stuck on 409.
REMEMBER_ATTEMPTS = 6

log = logging.getLogger(__name__)


def fingerprint(request: Request, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.url.path, request.url.query, request.headers.get("If-Match", "")):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(body)
    return digest.hexdigest()


def _key_problem(detail: str) -> Response:
    return problem_response(
        400,
        "The Idempotency-Key header is not valid.",
        detail,
        code="invalid-idempotency-key",
        invalidParams=[{"name": IDEMPOTENCY_HEADER, "code": "invalid", "reason": detail}],
    )


def install_idempotency(app: FastAPI) -> None:
    """Install the middleware. Add it before the edge middleware, so that it runs inside it (the edge
    gives each request its event-id list and turns the ids into X-Event-Ids)."""

    @app.middleware("http")
    async def _idempotency(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None or request.method not in COMMAND_METHODS:
            return await call_next(request)
        if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
            return _key_problem(f"use 1 to {MAX_KEY_LENGTH} printable ASCII characters, e.g. a UUID")
        runtime: Any = request.app.state.runtime
        try:
            principal = principal_of(request, runtime.verifier)
        except AuthenticationError:
            return await call_next(request)  # the route answers 401; nothing is remembered for it
        sessions: async_sessionmaker[AsyncSession] = runtime.units_of_work.sessions
        now = datetime.now(UTC)
        claim = IdempotencyClaim(
            client=principal.actor,
            key=key,
            fingerprint=fingerprint(request, await request.body()),
            created_at=now,
            expires_at=now + timedelta(seconds=runtime.settings.idempotency_ttl_s),
        )
        earlier = await _earlier_answer(sessions, claim)
        if earlier is not None:
            return earlier
        reset = idempotency_claim.set(claim)
        try:
            response = await call_next(request)
        finally:
            idempotency_claim.reset(reset)
        if not claim.claimed:
            return response
        body = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
        await _remember_patiently(sessions, claim, response, body, list(appended_event_ids.get() or []))
        return Response(body, status_code=response.status_code, headers=dict(response.headers))


async def _earlier_answer(
    sessions: async_sessionmaker[AsyncSession], claim: IdempotencyClaim
) -> Response | None:
    """The answer to replay, a refusal, or None when the key is new (or expired, and then forgotten)."""
    where = (idempotency_keys.c.client == claim.client, idempotency_keys.c.key == claim.key)
    async with sessions() as session:
        row = (await session.execute(select(idempotency_keys).where(*where))).mappings().first()
        if row is not None and row["expires_at"] <= claim.created_at:
            await session.execute(delete(idempotency_keys).where(*where))
            await session.commit()
            row = None
    if row is None:
        return None
    if row["fingerprint"] != claim.fingerprint:
        return problem_response(
            422,
            "This Idempotency-Key was used for another command.",
            "Use a new key for every new command; reuse a key only to retry the very same command.",
            code="idempotency-key-reused",
            invalidParams=[
                {"name": IDEMPOTENCY_HEADER, "code": "reused", "reason": "used for another command"}
            ],
        )
    if row["status_code"] is None:
        return problem_response(
            409,
            "A command with this Idempotency-Key is being handled.",
            "Its events are recorded; retry in a moment for its answer.",
            code="idempotency-key-in-progress",
            headers={"Retry-After": "1"},
        )
    collected = appended_event_ids.get()
    if collected is not None:  # the edge middleware names them in X-Event-Ids, as the first time
        collected.extend(row["event_ids"] or [])
    headers = dict(row["headers"] or {})
    headers[REPLAYED_HEADER] = "true"
    return Response(row["body"] or b"", status_code=row["status_code"], headers=headers)


async def _remember_patiently(
    sessions: async_sessionmaker[AsyncSession],
    claim: IdempotencyClaim,
    response: Response,
    body: bytes,
    event_ids: list[str],
) -> None:
    """The command's events are committed, so its answer must be stored: retried over a database blip.
    If the database stays away the client still gets the answer now (not a 500 for a command that
    succeeded); only a retry of it would then find the key in progress."""
    for attempt in range(REMEMBER_ATTEMPTS):
        try:
            await _remember(sessions, claim, response, body, event_ids)
            return
        except (SQLAlchemyError, OSError) as error:
            if attempt == REMEMBER_ATTEMPTS - 1:
                log.error("idempotency: the answer to a command could not be stored: %r", error)
                return
            await asyncio.sleep(0.2 * 2**attempt)


async def _remember(
    sessions: async_sessionmaker[AsyncSession],
    claim: IdempotencyClaim,
    response: Response,
    body: bytes,
    event_ids: list[str],
) -> None:
    answer = {
        "status_code": response.status_code,
        "headers": {name: response.headers[name] for name in REPLAYED_HEADERS if name in response.headers},
        "body": body.decode(),
        "event_ids": event_ids,
    }
    where = (idempotency_keys.c.client == claim.client, idempotency_keys.c.key == claim.key)
    async with sessions() as session:
        await session.execute(update(idempotency_keys).where(*where).values(**answer))
        # expired keys go here, off the command's own transaction
        await session.execute(
            delete(idempotency_keys).where(idempotency_keys.c.expires_at <= claim.created_at)
        )
        await session.commit()
