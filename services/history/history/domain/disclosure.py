"""Statistical disclosure control for aggregates shown to readers without person-level access.

DT&V publishes its figures rounded to tens and with counts below 5 suppressed, so no individual can be
recognised in a small cell (DOMAIN.md, privacy 7). The read side applies the same rule, server side, to
every count of people it answers to a client that may not read persons' histories: 1 to 4 is withheld
(`None`), 5 and more is rounded half up to tens (5 → 10, 14 → 10, 15 → 20). Zero stays 0: a cell with
nobody in it identifies nobody, and hiding it would make an empty location look occupied.

Counts of *places* (capacity, targets) describe buildings, not people, and are published by COA and the
provinces themselves: they are not rounded. Totals are rounded on their own, never summed from rounded
cells, so the rounding error does not add up.
"""

from __future__ import annotations

from dataclasses import dataclass

SUPPRESS_BELOW = 5
ROUND_TO = 10


@dataclass(frozen=True, slots=True)
class Disclosure:
    """How counts of people are shown to one reader: exactly, or under disclosure control."""

    controlled: bool

    def count(self, people: int) -> int | None:
        if not self.controlled or people == 0:
            return people
        if people < SUPPRESS_BELOW:
            return None
        return (people + ROUND_TO // 2) // ROUND_TO * ROUND_TO

    def statistic(self, value: float | None, people: int) -> float | None:
        """A figure computed over `people` persons (a median lead time): withheld when they are too few."""
        if value is None or (self.controlled and people < SUPPRESS_BELOW):
            return None
        return value


EXACT = Disclosure(controlled=False)
CONTROLLED = Disclosure(controlled=True)
