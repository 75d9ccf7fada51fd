"""Deadlines that pass with time, raised as events at their valid time, and restart-safe.

A service schedules a deadline in the same transaction as the events that create it (a decision's appeal
period, a departure period, a VBL stay's maximum). The scheduler polls for deadlines whose time has come
and fires each in its own unit of work: the handler appends the resulting events (with `occurred_at` =
the deadline, not the moment the poll noticed it) and the deadline is marked fired in that same
transaction. A crash before the commit leaves it due, so it fires after the restart; one after the
commit has marked it, so it never fires twice. Rescheduling or cancelling is a plain write beside the
events that change the deadline (an appeal lodged cancels the "decision becomes final" deadline).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.clock import Clock
from shared.eventstore.schema import Json, UTCDateTime, metadata
from shared.eventstore.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

deadlines = sa.Table(
    "deadlines",
    metadata,
    sa.Column("deadline_id", sa.String(250), primary_key=True),  # "<kind>:<key>"
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("payload", Json, nullable=False),
    sa.Column("fired_at", UTCDateTime, nullable=True),
)


def create_deadline_table(op: Any) -> None:
    """A migration step for services that schedule deadlines."""
    op.create_table(
        "deadlines",
        sa.Column("deadline_id", sa.String(250), primary_key=True),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("payload", Json, nullable=False),
        sa.Column("fired_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_deadlines_due", "deadlines", ["fired_at", "due_at"])


@dataclass(frozen=True, slots=True)
class Deadline:
    kind: str
    key: str
    due_at: datetime
    payload: dict[str, Any]


DeadlineHandler = Callable[[UnitOfWork, Deadline], Awaitable[None]]


async def schedule(
    session: AsyncSession, kind: str, key: str, due_at: datetime, payload: dict[str, Any]
) -> None:
    """Schedule (or move) the deadline `kind` for `key`. A deadline that already fired stays fired."""
    deadline_id = f"{kind}:{key}"
    updated = await session.execute(
        sa.update(deadlines)
        .where(deadlines.c.deadline_id == deadline_id, deadlines.c.fired_at.is_(None))
        .values(due_at=due_at, payload=payload)
    )
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        exists = await session.execute(
            sa.select(deadlines.c.deadline_id).where(deadlines.c.deadline_id == deadline_id)
        )
        if exists.first() is None:
            await session.execute(
                sa.insert(deadlines).values(
                    deadline_id=deadline_id, kind=kind, key=key, due_at=due_at, payload=payload, fired_at=None
                )
            )


async def cancel(session: AsyncSession, kind: str, key: str) -> None:
    await session.execute(
        sa.delete(deadlines).where(deadlines.c.deadline_id == f"{kind}:{key}", deadlines.c.fired_at.is_(None))
    )


async def pending(session: AsyncSession, kind: str, key: str) -> Deadline | None:
    row = (
        (
            await session.execute(
                sa.select(deadlines).where(
                    deadlines.c.deadline_id == f"{kind}:{key}", deadlines.c.fired_at.is_(None)
                )
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else Deadline(row["kind"], row["key"], row["due_at"], dict(row["payload"]))


class DeadlineScheduler:
    def __init__(
        self,
        units_of_work: Callable[[], UnitOfWork],
        handlers: Mapping[str, DeadlineHandler],
        clock: Clock,
        *,
        interval_s: float = 1.0,
    ) -> None:
        self._units_of_work = units_of_work
        self._handlers = dict(handlers)
        self._clock = clock
        self._interval_s = interval_s
        self.fired_total = 0
        self.last_error: str | None = None

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self.fire_due()
                self.last_error = None
            except asyncio.CancelledError:
                raise
            except Exception as error:  # database away: try again at the next tick
                self.last_error = repr(error)
                log.warning("deadline scheduler: %r", error)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval_s):
                    await stopping.wait()

    async def fire_due(self) -> int:
        """Fire every deadline that is due now; returns how many fired."""
        now = self._clock.now()
        async with self._units_of_work() as uow:
            due = (
                (
                    await uow.session.execute(
                        sa.select(deadlines.c.deadline_id)
                        .where(
                            deadlines.c.fired_at.is_(None),
                            deadlines.c.due_at <= now,
                            deadlines.c.kind.in_(list(self._handlers)),
                        )
                        .order_by(deadlines.c.due_at)
                        .limit(200)
                    )
                )
                .scalars()
                .all()
            )
        fired = 0
        for deadline_id in due:
            try:
                if await self._fire(deadline_id, now):
                    fired += 1
            except Exception as error:  # one failing deadline must not block the others
                self.last_error = repr(error)
                log.error("deadline %s failed, will retry: %r", deadline_id, error)
        self.fired_total += fired
        return fired

    async def _fire(self, deadline_id: str, now: datetime) -> bool:
        async with self._units_of_work() as uow:
            query = sa.select(deadlines).where(
                deadlines.c.deadline_id == deadline_id, deadlines.c.fired_at.is_(None)
            )
            if uow.session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)  # another replica may be firing it
            row = (await uow.session.execute(query)).mappings().first()
            if row is None:
                return False
            deadline = Deadline(row["kind"], row["key"], row["due_at"], dict(row["payload"]))
            uow.hold_commits()  # the handler's effect and `fired_at` commit together, or neither does
            await self._handlers[deadline.kind](uow, deadline)
            await uow.session.execute(
                sa.update(deadlines).where(deadlines.c.deadline_id == deadline_id).values(fired_at=now)
            )
            await uow.commit_held()
        return True
