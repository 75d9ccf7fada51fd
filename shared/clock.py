"""The time services reason with. Domain code never reads the system clock itself: handlers get `now`
from a clock, so tests (and a rehearsal of deadlines) can move time forward without waiting for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass
class SystemClock:
    """The real time, optionally shifted (settings ASIELKETEN_CLOCK_OFFSET_S; refused in production)."""

    offset: timedelta = field(default_factory=timedelta)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class ManualClock:
    """A clock tests set and move by hand."""

    current: datetime

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta
