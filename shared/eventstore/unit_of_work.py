"""The unit of work: one database transaction around a command or a consumed message.

It rolls back unless `commit()` is called, so an exception anywhere leaves nothing half-written.
Events and their outbox rows are written through `uow.events` inside this one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.contracts import EventRegistry
from shared.eventstore.access_log import AccessOperation, access_rows
from shared.eventstore.database import append_rows
from shared.eventstore.idempotency import claim_in_transaction, idempotency_claim
from shared.eventstore.schema import access_log
from shared.eventstore.store import EventStore
from shared.metrics import count_appended


class UnitOfWork:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        registry: EventRegistry,
        *,
        source: str,
        topic: str,
        on_commit: Sequence[Callable[[], None]] = (),
    ) -> None:
        self._sessions = sessions
        self._registry = registry
        self._source = source
        self._topic = topic
        self._on_commit = on_commit
        self._session: AsyncSession | None = None
        self._events: EventStore | None = None
        self._appends: dict[Table, list[dict[str, Any]]] = {}
        self._commits_held = False

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self._session

    @property
    def events(self) -> EventStore:
        if self._events is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self._events

    async def __aenter__(self) -> UnitOfWork:
        self._session = self._sessions()
        self._events = EventStore(self._session, self._registry, source=self._source, topic=self._topic)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            await session.rollback()  # a no-op after commit
        finally:
            await session.close()
            self._session = None
            self._events = None
            self._appends.clear()
            self._commits_held = False

    def append_at_commit(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        """Insert `rows` into `table` when the unit of work commits, together with the rows other
        handlers appended to it: one multi-row statement per table instead of one per event, which is
        what makes a read-side rebuild fast. Only for append-only tables that nothing in the same unit
        of work reads back — the rows are not there before `commit()`. Per table, rows keep the order
        in which they were appended (surrogate ids grow in that order)."""
        self._appends.setdefault(table, []).extend(rows)

    async def write_appended(self) -> None:
        """Write the rows appended so far now, for a handler that must read or change them (rare:
        the read side's erasure rewrites the timeline rows of earlier facts, maybe of this batch)."""
        for table, rows in self._appends.items():
            await append_rows(self.session, table, rows)
        self._appends.clear()

    def hold_commits(self) -> None:
        """From now on `commit()` writes what is pending but leaves the transaction open; `commit_held()`
        commits it. For a consumer: its handlers run the same use cases as the HTTP edge, each ending in
        `commit()`, and the consumer must commit their work together with its processed-event rows and the
        partition's position. Were a handler's effect committed on its own, a crash or a later message of
        the same batch failing would leave it applied but not recorded as processed, and applying the
        message again would be refused as done already (and dead-lettered)."""
        self._commits_held = True

    async def commit_held(self) -> None:
        """Commit the work held since `hold_commits()` (and anything pending), as one transaction."""
        self._commits_held = False
        await self.commit()

    async def commit(self) -> None:
        self._log_writes()
        await self.write_appended()
        if self._commits_held:
            await self.session.flush()  # later reads in this transaction see it, as after a commit
            return
        claim = idempotency_claim.get()
        claiming = claim is not None and not claim.claimed and self.events.appended > 0
        if claiming:
            assert claim is not None
            await claim_in_transaction(self.session, claim)
        await self.session.commit()
        if claiming:
            assert claim is not None
            claim.claimed = True
        count_appended(self._source, self.events.appended)
        self.events.appended = 0  # a unit may commit more than once; count each event once
        for callback in self._on_commit:  # e.g. wake the outbox relay
            callback()

    def _log_writes(self) -> None:
        """The access-log rows of the writes a client's command made: one per operation and subject,
        named after the first event about that subject, under that event's legal basis."""
        accessed, self.events.accessed = self.events.accessed, []
        if not accessed:
            return
        at = datetime.now(UTC)
        first: dict[tuple[str, str], tuple[AccessOperation, str, str]] = {}
        for operation, activity, subject, legal_basis in accessed:
            first.setdefault((operation.operation_id, subject), (operation, activity, legal_basis))
        rows = [
            row
            for (_, subject), (operation, activity, legal_basis) in first.items()
            for row in access_rows(
                replace(operation, processing_activity=activity, legal_basis=legal_basis), [subject], at
            )
        ]
        self.append_at_commit(access_log, rows)


class UnitOfWorkFactory:
    """Makes units of work for one service: its sessions, its registry, its source and topic."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        registry: EventRegistry,
        *,
        source: str,
        topic: str,
    ) -> None:
        self.sessions = sessions
        self.registry = registry
        self.source = source
        self.topic = topic
        self.on_commit: list[Callable[[], None]] = []

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(
            self.sessions, self.registry, source=self.source, topic=self.topic, on_commit=self.on_commit
        )
