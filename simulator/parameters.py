"""The figures a simulated flow is drawn from. `national()` follows the domain notes (DOMAIN.md §2, the
figures the performance issue names); [D] marks a figure derived there or here rather than published.
`dashboard()` is the small, busy half year the dashboard test shows (more moves, decisions and departures per
household than the nation sees, so every panel has something to show)."""

from __future__ import annotations

from dataclasses import dataclass

# First asylum applications (people) per year: 35,500 (2022), ~38,000 (2023), ~32,180 (2024) — DOMAIN §2.1.
FIRST_APPLICATIONS_PER_YEAR = 35_000
# Minors among new first applicants: 25% (Q1 2024) to almost 30% (Q3 2024); "use ~27% ± 3" — DOMAIN §2.2.
MINORS_SHARE = 0.27
# p_accelerated = 0.15 (range 0.10-0.25) [D] — DOMAIN §2.4.
ACCELERATED_SHARE = 0.15
# Grant rate AA/VA: 62% in 2023 (78% in 2022) — DOMAIN §2.4; accelerated cases are mostly refused [D].
GRANT_RATE = 0.62
# Top nationalities of 2023's ~38,000 first applications: Syria 13,000, Turkey ~2,900, Eritrea ~2,300,
# Yemen ~2,000 (DOMAIN §2.1); Iraq 1,200 of ~9,000 in Q1 2024. The rest [D] spread evenly over six more.
NATIONALITY_MIX = (
    ("SYR", 0.34),
    ("TUR", 0.08),
    ("ERI", 0.06),
    ("YEM", 0.05),
    ("IRQ", 0.05),
    *((code, 0.42 / 6) for code in ("AFG", "SOM", "MAR", "GEO", "ALB", "IRN")),
)


@dataclass(frozen=True, kw_only=True)
class FlowParameters:
    # Households, and the days before now over which their registrations are spread (uniformly).
    households: int
    period_days: float
    earliest_days_ago: float = 0.1  # the most recent registration
    nationalities: tuple[tuple[str, float], ...] = NATIONALITY_MIX
    # Children per household, drawn uniformly from this tuple; households with children have two adults,
    # those without are a single adult with probability `single_adult_share`, else a couple.
    children_choices: tuple[int, ...] = (0,) * 9 + (1, 2, 3)
    single_adult_share: float = 0.85
    waiting_share: float = 0.0  # no stream determined yet although due
    accelerated_share: float = ACCELERATED_SHARE
    moved_share: float = 0.3  # one move besides the process move (own request or capacity) [D]
    undecided_share: float = 0.0  # no decision yet although due
    grant_rate: float = GRANT_RATE
    grant_rate_accelerated: float = 0.05  # [D]
    stream_days: tuple[float, float] = (2, 9)  # after registration
    move_days: tuple[float, float] = (3, 20)  # after the stream
    decision_days: tuple[float, float] = (8 * 7, 60 * 7)  # average 43 weeks in 2023 (DOMAIN §2.4)
    decision_days_accelerated: tuple[float, float] = (2 * 7, 10 * 7)
    housed_share: float = 0.6  # of those granted, housed within the period
    housed_days: tuple[float, float] = (30, 120)  # target: 10 weeks after the permit (DOMAIN §2.3)
    departed_share: float = 0.5  # of those refused, departed within the period [D]
    departed_days: tuple[float, float] = (30, 45)
    crisis_households: int = 0  # single adults moved to a crisis emergency location (to be avoided)

    @property
    def people_per_household(self) -> float:
        """Expected household size under these parameters."""
        with_children = [c for c in self.children_choices if c]
        families = len(with_children) / len(self.children_choices)
        childless = self.single_adult_share * 1 + (1 - self.single_adult_share) * 2
        mean_children = sum(with_children) / len(with_children) if with_children else 0.0
        return (1 - families) * childless + families * (2 + mean_children)

    @property
    def minors_share(self) -> float:
        """Expected share of minors among the people registered (national defaults: 0.268)."""
        return sum(self.children_choices) / len(self.children_choices) / self.people_per_household


def national(*, years: float, scale: float) -> FlowParameters:
    """The national flow: `years` of first applications at `scale` times the national inflow."""
    size = FlowParameters(households=1, period_days=1).people_per_household
    households = round(FIRST_APPLICATIONS_PER_YEAR * years * scale / size)
    return FlowParameters(households=max(1, households), period_days=365 * years)


def dashboard(households: int) -> FlowParameters:
    """The dashboard test's half year: its figures were chosen to fill every panel, not to be national."""
    return FlowParameters(
        households=households,
        period_days=178,
        earliest_days_ago=3,
        children_choices=(0, 0, 0, 1, 2, 3),
        single_adult_share=0.6,
        waiting_share=0.08,
        accelerated_share=0.35,
        moved_share=0.45,
        undecided_share=0.15,
        grant_rate=0.8,
        grant_rate_accelerated=0.15,
        decision_days=(8, 50),
        decision_days_accelerated=(8, 50),
        housed_days=(10, 60),
        departed_share=0.7,
        crisis_households=3,
    )
