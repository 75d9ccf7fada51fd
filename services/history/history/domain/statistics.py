"""The figures of the operations dashboard, from facts the read side keeps. Pure: facts in, counts out.

- **Flows**: per calendar month, people registered, decided on, housed (reception ended because a
  municipality housed them) and departed (left reception by departure, with unknown destination, or by a
  Dublin transfer); other ends of reception (departure period over, local chain decision, detention)
  are counted apart.
- **Streams**: the accelerated / not accelerated split of the people registered, and lead times per
  stream: registration → stream determined, and registration → decision (median days).
- **Moves**: per month, reason and forced or not.

Months are UTC calendar months; a series ends with the month of the valid moment asked for and counts
only what happened until that moment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from statistics import median

from history.domain.moves import Move


class FlowKind(StrEnum):
    REGISTERED = "registered"
    DECIDED = "decided"
    HOUSED = "housed"
    DEPARTED = "departed"
    OTHER_END = "other-end"


# Ends of reception that are a departure from the Netherlands (or from the Dutch procedure).
DEPARTURE_END_REASONS = frozenset({"departed", "departed-unknown-destination", "dublin-transfer"})


def flow_kind_of_end(reason: str) -> FlowKind:
    if reason == "housed":
        return FlowKind.HOUSED
    return FlowKind.DEPARTED if reason in DEPARTURE_END_REASONS else FlowKind.OTHER_END


@dataclass(frozen=True, kw_only=True, slots=True)
class FlowFact:
    kind: FlowKind
    person_id: str
    occurred_at: datetime


def month_of(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def months_until(valid_at: datetime, months: int) -> list[str]:
    """The `months` calendar months ending with the month of `valid_at`, oldest first."""
    year, month = valid_at.year, valid_at.month
    found: list[str] = []
    for _ in range(months):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return found[::-1]


def flows_per_month(
    facts: Iterable[FlowFact], valid_at: datetime, months: int
) -> dict[str, dict[FlowKind, int]]:
    """People per month and kind. A person counts once per kind and month (a household's decision is one
    fact per member; a repeated fact about the same person in a month is the same flow)."""
    series = months_until(valid_at, months)
    seen: set[tuple[str, FlowKind, str]] = set()
    counts: dict[str, dict[FlowKind, int]] = {m: dict.fromkeys(FlowKind, 0) for m in series}
    for fact in facts:
        month = month_of(fact.occurred_at)
        if fact.occurred_at > valid_at or month not in counts:
            continue
        key = (month, fact.kind, fact.person_id)
        if key not in seen:
            seen.add(key)
            counts[month][fact.kind] += 1
    return counts


@dataclass(frozen=True, kw_only=True, slots=True)
class PersonProcedure:
    """One person's way through the procedure, as far as the dashboard needs it."""

    person_id: str
    registered_at: datetime
    stream: str | None = None  # the last determination at or before the valid moment
    stream_determined_at: datetime | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class StreamFigures:
    stream: str  # accelerated | not-accelerated | undetermined
    people: int
    decided: int
    days_to_stream: float | None  # median, registration → stream determined
    days_to_stream_people: int
    days_to_decision: float | None  # median, registration → decision
    days_to_decision_people: int


UNDETERMINED = "undetermined"


def _days(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 86_400


def stream_figures(people: Iterable[PersonProcedure], streams: Iterable[str]) -> list[StreamFigures]:
    by_stream: dict[str, list[PersonProcedure]] = {stream: [] for stream in (*streams, UNDETERMINED)}
    for person in people:
        by_stream.setdefault(person.stream or UNDETERMINED, []).append(person)
    found: list[StreamFigures] = []
    for stream, members in by_stream.items():
        to_stream = [
            _days(p.registered_at, p.stream_determined_at) for p in members if p.stream_determined_at
        ]
        to_decision = [_days(p.registered_at, p.decided_at) for p in members if p.decided_at]
        found.append(
            StreamFigures(
                stream=stream,
                people=len(members),
                decided=len(to_decision),
                days_to_stream=round(median(to_stream), 1) if to_stream else None,
                days_to_stream_people=len(to_stream),
                days_to_decision=round(median(to_decision), 1) if to_decision else None,
                days_to_decision_people=len(to_decision),
            )
        )
    return found


@dataclass(frozen=True, kw_only=True, slots=True)
class MoveCount:
    month: str
    reason: str
    forced: bool
    moves: int


def moves_per_month(moves: Iterable[Move], valid_at: datetime, months: int) -> list[MoveCount]:
    series = set(months_until(valid_at, months))
    counted = Counter(
        (month_of(m.occurred_at), m.reason, m.forced)
        for m in moves
        if m.occurred_at <= valid_at and month_of(m.occurred_at) in series
    )
    return [
        MoveCount(month=month, reason=reason, forced=forced, moves=count)
        for (month, reason, forced), count in sorted(counted.items())
    ]
