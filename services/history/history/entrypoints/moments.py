"""Reading the time parameters of the read side's queries: a date (`2026-02-03`) or a date-time with a
time zone (`2026-02-03T14:00:00Z`), answered in UTC. Every invalid parameter is reported at once as a
400 problem with `invalidParams`, as the Dutch API Design Rules ask."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum

from shared.http import Problem


class DateMeans(Enum):
    """What a bare date stands for on an axis."""

    END_OF_DAY = "end"  # validAt, knownAt: "on day D" includes what happened (or was learned) that day
    START_OF_DAY = "start"  # validFrom, validTo (exclusive, as BRP's datumTot)


@dataclass
class MomentParser:
    invalid: list[dict[str, str]] = field(default_factory=list)

    def parse(self, name: str, value: str | None, means: DateMeans) -> datetime | None:
        if value is None or value == "":
            return None
        try:
            if len(value) == 10:
                day = date.fromisoformat(value)
                start = datetime.combine(day, time(), tzinfo=UTC)
                return (
                    start if means is DateMeans.START_OF_DAY else start + timedelta(days=1, microseconds=-1)
                )
            moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            self.fail(name, "invalid-moment", "expected a date (2026-02-03) or a date-time with a time zone")
            return None
        if moment.tzinfo is None:
            self.fail(name, "time-zone-missing", "a date-time needs a time zone, e.g. 2026-02-03T14:00:00Z")
            return None
        return moment.astimezone(UTC)

    def fail(self, name: str, code: str, reason: str) -> None:
        self.invalid.append({"name": name, "code": code, "reason": reason})

    def raise_if_invalid(self) -> None:
        if self.invalid:
            raise Problem(
                400,
                "The request is not valid.",
                "See invalidParams for every problem found.",
                code="invalid-request",
                invalidParams=self.invalid,
            )
