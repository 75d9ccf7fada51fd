"""Disclosure control: counts of people shown to readers without person-level access are rounded to tens,
and counts below 5 are withheld (as DT&V publishes its figures)."""

from __future__ import annotations

import pytest

from history.domain.disclosure import CONTROLLED, EXACT


@pytest.mark.parametrize(
    ("people", "shown"),
    [(0, 0), (1, None), (4, None), (5, 10), (9, 10), (14, 10), (15, 20), (123, 120), (125, 130)],
)
def test_a_reader_without_person_level_access_sees_tens_and_nothing_below_five(
    people: int, shown: int | None
) -> None:
    assert CONTROLLED.count(people) == shown


@pytest.mark.parametrize("people", [0, 1, 4, 5, 14, 123])
def test_a_reader_with_person_level_access_sees_the_exact_count(people: int) -> None:
    assert EXACT.count(people) == people


def test_a_median_over_fewer_than_five_people_is_withheld_under_control_only() -> None:
    assert CONTROLLED.statistic(12.5, people=4) is None
    assert CONTROLLED.statistic(12.5, people=5) == 12.5
    assert EXACT.statistic(12.5, people=1) == 12.5
    assert EXACT.statistic(None, people=10) is None
