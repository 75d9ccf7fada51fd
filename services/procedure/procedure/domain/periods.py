"""The periods the law attaches to an application and its decision, as pure functions.

Sources (DOMAIN.md §1.2 steps 7-8): the legal decision period is 6 months and can be extended by 9
months at most (Vw 2000 art. 42); the departure period is 0 or 28 days by outcome; the appeal period
is one week for decisions in the general asylum procedure and for manifestly unfounded, inadmissible
and Dublin cases, four weeks otherwise (Vw 2000 art. 69). A residence permit (asiel bepaalde tijd) is
valid for five years.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.calendar import add_months
from shared.contracts.procedure import DecisionOutcome

DECISION_PERIOD_MONTHS = 6
MAX_EXTENSION_MONTHS = 9
PERMIT_VALIDITY_MONTHS = 5 * 12
SHORT_APPEAL_DAYS = 7
LONG_APPEAL_DAYS = 28
MIN_REST_AND_PREPARATION_DAYS = 6

# No departure period for a grant (nobody leaves), a manifestly unfounded rejection or a Dublin
# transfer (the person must leave at once or is transferred); 28 days for the other negative outcomes.
_DEPARTURE_DAYS = {
    DecisionOutcome.GRANTED: 0,
    DecisionOutcome.REJECTED_UNFOUNDED: 28,
    DecisionOutcome.REJECTED_MANIFESTLY_UNFOUNDED: 0,
    DecisionOutcome.INADMISSIBLE: 28,
    DecisionOutcome.DUBLIN_NOT_CONSIDERED: 0,
}

# The outcomes whose appeal period is one week wherever they were decided (art. 69(2) Vw).
_ALWAYS_SHORT_APPEAL = frozenset(
    {
        DecisionOutcome.REJECTED_MANIFESTLY_UNFOUNDED,
        DecisionOutcome.INADMISSIBLE,
        DecisionOutcome.DUBLIN_NOT_CONSIDERED,
    }
)


def decision_deadline(lodged_at: datetime) -> datetime:
    return add_months(lodged_at, DECISION_PERIOD_MONTHS)


def latest_decision_deadline(lodged_at: datetime) -> datetime:
    """The furthest an extension may push the deadline: 6 + 9 = 15 months after lodging."""
    return add_months(lodged_at, DECISION_PERIOD_MONTHS + MAX_EXTENSION_MONTHS)


def departure_period_days(outcome: DecisionOutcome) -> int:
    return _DEPARTURE_DAYS[outcome]


def appeal_period_days(outcome: DecisionOutcome, *, in_extended_procedure: bool) -> int:
    if not in_extended_procedure or outcome in _ALWAYS_SHORT_APPEAL:
        return SHORT_APPEAL_DAYS
    return LONG_APPEAL_DAYS


def departure_deadline(outcome: DecisionOutcome, final_at: datetime) -> datetime | None:
    """The departure period runs from the moment the decision is final; a grant has none."""
    if not outcome.is_negative:
        return None
    return final_at + timedelta(days=departure_period_days(outcome))


def permit_valid_until(granted_at: datetime) -> datetime:
    return add_months(granted_at, PERMIT_VALIDITY_MONTHS)
