"""The access log, in the style of the Logboek Dataverwerkingen: one record per operation a client had
a service carry out, per person (data subject) whose data it read or wrote.

A record says who (agency and client), which person (by pseudonymous id — never a V-number or a name),
which operation (the route, and whether it read or wrote), why (the processing activity and its legal
basis), when, and under which trace id (the request's correlation id, which the events a write produced
carry too). It never holds the data itself.

Reads are recorded by the route that serves them (shared/access.py), in a transaction of their own just
before the answer leaves; writes are recorded in the command's own transaction, one row per subject of
the events it appended (UnitOfWork.commit), so a write is logged exactly when it happened. The table is
append-only: the database refuses UPDATE, DELETE and TRUNCATE (shared/eventstore/migrations.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.eventstore.schema import access_log

READ = "read"
WRITE = "write"


@dataclass(frozen=True, slots=True)
class ProcessingActivity:
    """Why personal data is processed (a verwerkingsactiviteit in the register of processing)."""

    name: str
    legal_basis: str


@dataclass(frozen=True, slots=True)
class AccessOperation:
    """What every record of one operation shares: everything except the person."""

    operation_id: str
    trace_id: str
    name: str
    kind: str
    service: str
    agency: str
    client_id: str
    processing_activity: str
    legal_basis: str


def access_rows(operation: AccessOperation, subjects: Iterable[str], at: datetime) -> list[dict[str, Any]]:
    """One row per distinct subject, in the order first named."""
    return [
        {
            "operation_id": operation.operation_id,
            "trace_id": operation.trace_id,
            "name": operation.name,
            "kind": operation.kind,
            "service": operation.service,
            "agency": operation.agency,
            "client_id": operation.client_id,
            "processing_activity": operation.processing_activity,
            "legal_basis": operation.legal_basis,
            "data_subject_id": subject,
            "recorded_at": at,
        }
        for subject in dict.fromkeys(subjects)
    ]


@dataclass(frozen=True, slots=True)
class AccessLogQuery:
    data_subject_id: str | None = None
    client_id: str | None = None
    agency: str | None = None
    kind: str | None = None
    trace_id: str | None = None
    recorded_from: datetime | None = None
    recorded_until: datetime | None = None


def _filtered(statement: Select[Any], query: AccessLogQuery) -> Select[Any]:
    if query.data_subject_id is not None:
        statement = statement.where(access_log.c.data_subject_id == query.data_subject_id)
    if query.client_id is not None:
        statement = statement.where(access_log.c.client_id == query.client_id)
    if query.agency is not None:
        statement = statement.where(access_log.c.agency == query.agency)
    if query.kind is not None:
        statement = statement.where(access_log.c.kind == query.kind)
    if query.trace_id is not None:
        statement = statement.where(access_log.c.trace_id == query.trace_id)
    if query.recorded_from is not None:
        statement = statement.where(access_log.c.recorded_at >= query.recorded_from)
    if query.recorded_until is not None:
        statement = statement.where(access_log.c.recorded_at < query.recorded_until)
    return statement


async def search_access_log(
    session: AsyncSession, query: AccessLogQuery, *, offset: int, limit: int
) -> tuple[int, list[dict[str, Any]]]:
    """The matching records in the order they were written, and how many match in all."""
    total = (
        await session.execute(_filtered(select(func.count()).select_from(access_log), query))
    ).scalar_one()
    rows = await session.execute(
        _filtered(select(access_log), query).order_by(access_log.c.id).offset(offset).limit(limit)
    )
    return int(total), [dict(row) for row in rows.mappings()]
