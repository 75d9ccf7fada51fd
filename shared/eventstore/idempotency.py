"""The event-store half of idempotent commands: the claim on an `Idempotency-Key` is written in the same
transaction as the events the command appends, so a retried command can never append its events twice,
whatever happens between the commit and the answer (shared/idempotency.py is the HTTP half).

The HTTP edge puts an `IdempotencyClaim` in `idempotency_claim` for the request; the first unit of work
that commits events inside it inserts the key's row (without a response yet). A concurrent request with
the same key then fails on the row's primary key and appends nothing.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.eventstore.schema import idempotency_keys


class IdempotencyKeyInFlight(Exception):
    """Another request with the same key committed its events first: HTTP 409."""


@dataclass(kw_only=True, slots=True)
class IdempotencyClaim:
    client: str
    key: str
    fingerprint: str
    created_at: datetime
    expires_at: datetime
    claimed: bool = False  # set once a unit of work committed the row with its events


idempotency_claim: ContextVar[IdempotencyClaim | None] = ContextVar("idempotency_claim", default=None)


async def claim_in_transaction(session: AsyncSession, claim: IdempotencyClaim) -> None:
    """Insert the key's row in the session's transaction (the caller commits). On a conflict the whole
    transaction is lost, events included: that is the point."""
    try:
        await session.execute(
            insert(idempotency_keys).values(
                client=claim.client,
                key=claim.key,
                fingerprint=claim.fingerprint,
                created_at=claim.created_at,
                expires_at=claim.expires_at,
            )
        )
    except IntegrityError as error:
        raise IdempotencyKeyInFlight(claim.key) from error
