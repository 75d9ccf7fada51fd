"""Stays: the periods a person spent at one location, derived from immutable placement facts on two
time axes.

Every placement fact about a person is kept as it arrived, never updated: a placement or transfer
(*start*: the person is at a location from its valid time on), the end of reception (*end*), and a
correction of a move's valid time (*correction*). Each fact has a valid time (`occurred_at`, when it
happened) and a recorded time (the envelope's `time`, when the chain learned it).

The stays *as known at* a moment K are derived from the facts recorded at or before K: each correction
replaces the valid time of the move it names (the last one recorded wins), the starts are ordered by
valid time, and each stay runs until the next start or the first end of reception after it began.
So a move registered late lands on the day it happened, and a question about an earlier knowledge date
still gets the answer the chain could give then. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shared.contracts.placement import (
    ResidentLeftReception,
    ResidentPlaced,
    ResidentTransferCorrected,
    ResidentTransferred,
)


class FactKind(StrEnum):
    START = "start"
    END = "end"
    CORRECTION = "correction"


@dataclass(frozen=True, kw_only=True, slots=True)
class PlacementFact:
    """One placement fact about a person, as recorded (a row of `placement_facts`)."""

    event_id: str
    person_id: str
    household_id: str
    kind: FactKind
    valid_at: datetime
    recorded_at: datetime
    sequence: int = 0  # arrival order at the read side: breaks ties between facts recorded together
    location_id: str | None = None
    location_name: str | None = None
    location_type: str | None = None
    municipality: str | None = None
    province: str | None = None
    from_location_id: str | None = None
    reason: str | None = None  # the move reason of a start, the end reason of an end
    forced: bool = False
    involves_children: bool = False
    corrects_event_id: str | None = None


def fact_of(
    event: ResidentPlaced | ResidentTransferred | ResidentLeftReception | ResidentTransferCorrected,
    *,
    event_id: str,
    recorded_at: datetime,
) -> PlacementFact:
    # Built in one call: `dataclasses.replace` per kind of event was a visible share of a rebuild.
    if isinstance(event, ResidentTransferCorrected):
        return PlacementFact(
            event_id=event_id,
            person_id=event.person_id,
            household_id=event.household_id,
            kind=FactKind.CORRECTION,
            valid_at=event.occurred_at,
            recorded_at=recorded_at,
            corrects_event_id=event.corrected_event_id,
        )
    if isinstance(event, ResidentLeftReception):
        return PlacementFact(
            event_id=event_id,
            person_id=event.person_id,
            household_id=event.household_id,
            kind=FactKind.END,
            valid_at=event.occurred_at,
            recorded_at=recorded_at,
            location_id=event.location_id,
            reason=event.reason.value,
        )
    moved = event if isinstance(event, ResidentTransferred) else None
    return PlacementFact(
        event_id=event_id,
        person_id=event.person_id,
        household_id=event.household_id,
        kind=FactKind.START,
        valid_at=event.occurred_at,
        recorded_at=recorded_at,
        location_id=event.location_id,
        location_name=event.location_name,
        location_type=event.location_type.value,
        municipality=event.municipality,
        province=event.province,
        reason=event.reason.value,
        from_location_id=moved.from_location_id if moved else None,
        forced=moved.forced if moved else False,
        involves_children=moved.involves_children if moved else False,
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class Stay:
    person_id: str
    household_id: str
    location_id: str
    location_name: str
    location_type: str
    municipality: str
    province: str
    valid_from: datetime
    valid_to: datetime | None
    reason: str
    forced: bool
    event_id: str  # the fact that started the stay
    end_reason: str | None  # set when reception ended with this stay
    recorded_at: datetime  # when the chain learned of the move that started it
    registered_valid_from: datetime  # the valid time first registered (differs when corrected)
    corrected_at: datetime | None  # when the valid time was last corrected (as known)
    from_location_id: str | None = None
    involves_children: bool = False


def _order(fact: PlacementFact) -> tuple[datetime, int]:
    return (fact.recorded_at, fact.sequence)


def derive_stays(facts: list[PlacementFact], known_at: datetime | None = None) -> list[Stay]:
    """The person's stays in valid-time order, as the chain knew them at `known_at` (None: now)."""
    visible = sorted((f for f in facts if known_at is None or f.recorded_at <= known_at), key=_order)
    corrections: dict[str, PlacementFact] = {}
    for fact in visible:  # in recorded order: the last correction of a move wins
        if fact.kind is FactKind.CORRECTION and fact.corrects_event_id is not None:
            corrections[fact.corrects_event_id] = fact
    starts: list[tuple[datetime, PlacementFact]] = sorted(
        (
            (corrections[f.event_id].valid_at if f.event_id in corrections else f.valid_at, f)
            for f in visible
            if f.kind is FactKind.START
        ),
        key=lambda pair: (pair[0], *_order(pair[1])),
    )
    ends = sorted((f for f in visible if f.kind is FactKind.END), key=lambda f: (f.valid_at, *_order(f)))
    stays: list[Stay] = []
    for index, (valid_from, fact) in enumerate(starts):
        next_start = starts[index + 1][0] if index + 1 < len(starts) else None
        end = next((e for e in ends if e.valid_at >= valid_from), None)
        valid_to, end_reason = next_start, None
        if end is not None and (next_start is None or end.valid_at <= next_start):
            valid_to, end_reason = end.valid_at, end.reason
        correction = corrections.get(fact.event_id)
        assert fact.location_id and fact.location_name and fact.location_type
        assert fact.municipality is not None and fact.province is not None and fact.reason
        stays.append(
            Stay(
                person_id=fact.person_id,
                household_id=fact.household_id,
                location_id=fact.location_id,
                location_name=fact.location_name,
                location_type=fact.location_type,
                municipality=fact.municipality,
                province=fact.province,
                valid_from=valid_from,
                valid_to=valid_to,
                reason=fact.reason,
                forced=fact.forced,
                event_id=fact.event_id,
                end_reason=end_reason,
                recorded_at=fact.recorded_at,
                registered_valid_from=fact.valid_at,
                corrected_at=correction.recorded_at if correction else None,
                from_location_id=fact.from_location_id,
                involves_children=fact.involves_children,
            )
        )
    return stays


def stay_at(stays: list[Stay], valid_at: datetime) -> Stay | None:
    """The stay the person was in at `valid_at`, if any (valid_from ≤ D < valid_to)."""
    for stay in stays:
        if stay.valid_from <= valid_at and (stay.valid_to is None or valid_at < stay.valid_to):
            return stay
    return None


def stays_overlapping(
    stays: list[Stay], valid_from: datetime | None, valid_to: datetime | None
) -> list[Stay]:
    """The stays that overlap [valid_from, valid_to) — BRP's datumVan/datumTot (datumTot exclusive)."""
    return [
        s
        for s in stays
        if (valid_to is None or s.valid_from < valid_to)
        and (valid_from is None or s.valid_to is None or s.valid_to > valid_from)
    ]
