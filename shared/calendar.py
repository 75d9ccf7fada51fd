"""Dates the chain reasons with: months for legal deadlines, and the Dutch school holidays, in which
unavoidable moves of children should fall (COA's guideline, quoted in the 2024 letter).

School holidays differ per region (noord, midden, zuid). The table below holds the national advisory
dates per region; a province is mapped to the region most of its schools follow (Gelderland, Flevoland,
Overijssel and Noord-Brabant are split in reality). Extend the table each school year.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class HolidayRegion(StrEnum):
    NOORD = "noord"
    MIDDEN = "midden"
    ZUID = "zuid"


PROVINCE_REGION: dict[str, HolidayRegion] = {
    "Groningen": HolidayRegion.NOORD,
    "Fryslân": HolidayRegion.NOORD,
    "Drenthe": HolidayRegion.NOORD,
    "Overijssel": HolidayRegion.NOORD,
    "Flevoland": HolidayRegion.NOORD,
    "Noord-Holland": HolidayRegion.NOORD,
    "Gelderland": HolidayRegion.MIDDEN,
    "Utrecht": HolidayRegion.MIDDEN,
    "Zuid-Holland": HolidayRegion.MIDDEN,
    "Noord-Brabant": HolidayRegion.ZUID,
    "Zeeland": HolidayRegion.ZUID,
    "Limburg": HolidayRegion.ZUID,
}


@dataclass(frozen=True, slots=True)
class Holiday:
    name: str
    first_day: date
    last_day: date

    def contains(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


_ALL = tuple(HolidayRegion)


def _same(name: str, first: date, last: date) -> dict[HolidayRegion, Holiday]:
    return {region: Holiday(name, first, last) for region in _ALL}


# (name, {region: holiday}). Sources: rijksoverheid.nl advisory dates for school years 2025-26 and
# 2026-27, checked against published school calendars for 2025-26 (Christmas, summer midden).
_TABLE: list[dict[HolidayRegion, Holiday]] = [
    {
        HolidayRegion.NOORD: Holiday("herfstvakantie", date(2025, 10, 18), date(2025, 10, 26)),
        HolidayRegion.MIDDEN: Holiday("herfstvakantie", date(2025, 10, 18), date(2025, 10, 26)),
        HolidayRegion.ZUID: Holiday("herfstvakantie", date(2025, 10, 11), date(2025, 10, 19)),
    },
    _same("kerstvakantie", date(2025, 12, 20), date(2026, 1, 4)),
    {
        HolidayRegion.NOORD: Holiday("voorjaarsvakantie", date(2026, 2, 21), date(2026, 3, 1)),
        HolidayRegion.MIDDEN: Holiday("voorjaarsvakantie", date(2026, 2, 14), date(2026, 2, 22)),
        HolidayRegion.ZUID: Holiday("voorjaarsvakantie", date(2026, 2, 14), date(2026, 2, 22)),
    },
    _same("meivakantie", date(2026, 4, 25), date(2026, 5, 3)),
    {
        HolidayRegion.NOORD: Holiday("zomervakantie", date(2026, 7, 4), date(2026, 8, 16)),
        HolidayRegion.MIDDEN: Holiday("zomervakantie", date(2026, 7, 18), date(2026, 8, 30)),
        HolidayRegion.ZUID: Holiday("zomervakantie", date(2026, 7, 11), date(2026, 8, 23)),
    },
    {
        HolidayRegion.NOORD: Holiday("herfstvakantie", date(2026, 10, 17), date(2026, 10, 25)),
        HolidayRegion.MIDDEN: Holiday("herfstvakantie", date(2026, 10, 17), date(2026, 10, 25)),
        HolidayRegion.ZUID: Holiday("herfstvakantie", date(2026, 10, 10), date(2026, 10, 18)),
    },
    _same("kerstvakantie", date(2026, 12, 19), date(2027, 1, 3)),
    {
        HolidayRegion.NOORD: Holiday("voorjaarsvakantie", date(2027, 2, 13), date(2027, 2, 21)),
        HolidayRegion.MIDDEN: Holiday("voorjaarsvakantie", date(2027, 2, 20), date(2027, 2, 28)),
        HolidayRegion.ZUID: Holiday("voorjaarsvakantie", date(2027, 2, 6), date(2027, 2, 14)),
    },
    _same("meivakantie", date(2027, 4, 24), date(2027, 5, 2)),
    {
        HolidayRegion.NOORD: Holiday("zomervakantie", date(2027, 7, 17), date(2027, 8, 29)),
        HolidayRegion.MIDDEN: Holiday("zomervakantie", date(2027, 7, 10), date(2027, 8, 22)),
        HolidayRegion.ZUID: Holiday("zomervakantie", date(2027, 7, 24), date(2027, 9, 5)),
    },
]


def region_of(province: str) -> HolidayRegion:
    return PROVINCE_REGION.get(province, HolidayRegion.MIDDEN)


def holidays(province: str) -> list[Holiday]:
    region = region_of(province)
    return sorted((entry[region] for entry in _TABLE), key=lambda holiday: holiday.first_day)


def in_school_holiday(day: date, province: str) -> bool:
    return any(holiday.contains(day) for holiday in holidays(province))


def next_school_holiday_day(on_or_after: date, province: str) -> date | None:
    """The first school-holiday day on or after `on_or_after` in the province's region (None past the
    table's end)."""
    for holiday in holidays(province):
        if holiday.last_day >= on_or_after:
            return max(holiday.first_day, on_or_after)
    return None


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later, clamped to the month's last day (31 Aug + 6 months = 28/29 Feb)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
