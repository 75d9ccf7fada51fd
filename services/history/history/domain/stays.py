"""Stays: the periods a person spent at one location.

A placement opens a stay; a transfer closes the open stay at the moment of the move and opens the next.
Valid times come from the facts (`occurred_at`), so a move registered late still lands on the day it
happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.contracts.placement import ResidentPlaced, ResidentTransferred


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
    event_id: str
    end_reason: str | None
    recorded_at: datetime


def stay_started_by(
    event: ResidentPlaced | ResidentTransferred, *, event_id: str, recorded_at: datetime
) -> Stay:
    return Stay(
        person_id=event.person_id,
        household_id=event.household_id,
        location_id=event.location_id,
        location_name=event.location_name,
        location_type=event.location_type.value,
        municipality=event.municipality,
        province=event.province,
        valid_from=event.occurred_at,
        valid_to=None,
        reason=event.reason.value,
        forced=event.forced if isinstance(event, ResidentTransferred) else False,
        event_id=event_id,
        recorded_at=recorded_at,
        end_reason=None,
    )
