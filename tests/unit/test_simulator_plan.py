"""The national flow the simulator plans follows the figures of DOMAIN.md: a year at scale 1 is about 35,000
first applications with 27% minors and 15% accelerated — the same story for the same seed. Only the plan
is checked here (no chain needed); tests/e2e/test_simulate.py shows the read side sees what was planned."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from simulator.flow import Household, Plan
from simulator.parameters import (
    ACCELERATED_SHARE,
    FIRST_APPLICATIONS_PER_YEAR,
    GRANT_RATE,
    MINORS_SHARE,
    national,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def year() -> list[Household]:
    return Plan(national(years=1, scale=1), seed=5, now=NOW).households()


def people(households: list[Household]) -> list[dict[str, object]]:
    return [member for h in households for member in h.members]


def test_a_national_year_is_about_35000_first_applications(year: list[Household]) -> None:
    assert len(people(year)) == pytest.approx(FIRST_APPLICATIONS_PER_YEAR, rel=0.10)
    assert all(NOW.replace(year=2025) <= h.registered_at < NOW for h in year)


def test_its_minors_and_accelerated_shares_are_the_domain_figures(year: list[Household]) -> None:
    everyone = people(year)
    minors = sum(member["role"] == "child" for member in everyone) / len(everyone)
    streamed = [h for h in year if h.stream_at]
    accelerated = sum(h.accelerated for h in streamed) / len(streamed)

    assert minors == pytest.approx(MINORS_SHARE, rel=0.10)
    assert accelerated == pytest.approx(ACCELERATED_SHARE, rel=0.10)


def test_the_regular_procedure_grants_at_the_domain_rate(year: list[Household]) -> None:
    decided = [h for h in year if h.decided_at and not h.accelerated]
    assert len(decided) > 1000  # decisions take 8 to 60 weeks: those of the year's first months are in
    assert sum(h.granted for h in decided) / len(decided) == pytest.approx(GRANT_RATE, rel=0.10)


def test_syrians_are_the_largest_group_as_in_2023(year: list[Household]) -> None:
    nationalities = [h.members[0]["nationality"] for h in year]
    assert max(set(nationalities), key=nationalities.count) == "SYR"
    assert nationalities.count("SYR") / len(year) == pytest.approx(0.34, rel=0.10)


def test_the_same_seed_tells_the_same_story_and_another_seed_another() -> None:
    scaled = national(years=0.1, scale=0.1)

    def story(seed: int) -> list[tuple[datetime, int, bool]]:
        return [
            (h.registered_at, len(h.members), h.accelerated)
            for h in Plan(scaled, seed=seed, now=NOW).households()
        ]

    assert story(7) == story(7)
    assert story(7) != story(8)
