"""How placement facts become stays, on both time axes: a late registration and a correction change the
answer for a valid date, but never the answer for an earlier knowledge date."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from history.domain.stays import FactKind, PlacementFact, derive_stays, stay_at, stays_overlapping
from shared.ids import new_id

PERSON, HOUSEHOLD = new_id(), new_id()


def day(d: int, hour: int = 12) -> datetime:
    return datetime(2026, 1, 1, hour, tzinfo=UTC) + timedelta(days=d - 1)


def start(location: str, valid: datetime, recorded: datetime, *, forced: bool = False) -> PlacementFact:
    return PlacementFact(
        event_id=new_id(),
        person_id=PERSON,
        household_id=HOUSEHOLD,
        kind=FactKind.START,
        valid_at=valid,
        recorded_at=recorded,
        location_id=location,
        location_name=f"azc {location}",
        location_type="azc-regulier",
        municipality="Gilze en Rijen",
        province="Noord-Brabant",
        reason="own-request",
        forced=forced,
    )


def correction(of: PlacementFact, valid: datetime, recorded: datetime) -> PlacementFact:
    return PlacementFact(
        event_id=new_id(),
        person_id=PERSON,
        household_id=HOUSEHOLD,
        kind=FactKind.CORRECTION,
        valid_at=valid,
        recorded_at=recorded,
        corrects_event_id=of.event_id,
    )


def end(valid: datetime, recorded: datetime) -> PlacementFact:
    return PlacementFact(
        event_id=new_id(),
        person_id=PERSON,
        household_id=HOUSEHOLD,
        kind=FactKind.END,
        valid_at=valid,
        recorded_at=recorded,
        location_id="B",
        reason="housed",
    )


# The auditor's case. Placed at A on 1 January; moved to B on 1 February (recorded that day). On
# 10 March a move to C on 15 January is registered late. On 1 April the move to B is corrected to
# 5 February. Housed on 1 June, recorded on 2 June.
PLACED = start("A", day(1), day(1))
TO_B = start("B", day(32), day(32), forced=True)
LATE_TO_C = start("C", day(15), day(69))
CORRECTED = correction(TO_B, day(36), day(91))
HOUSED = end(day(152), day(153))
FACTS = [PLACED, TO_B, LATE_TO_C, CORRECTED, HOUSED]


def where(
    valid_at: datetime, known_at: datetime | None = None, facts: list[PlacementFact] = FACTS
) -> str | None:
    found = stay_at(derive_stays(facts, known_at), valid_at)
    return found.location_id if found else None


@pytest.mark.parametrize(
    ("valid_at", "known_at", "expected"),
    [
        # before the late registration was known: the chain placed the person at A until 1 February
        (day(20), day(60), "A"),
        (day(34), day(60), "B"),
        # after it: from 15 January at C
        (day(20), day(70), "C"),
        (day(34), day(70), "B"),
        # after the correction: B only from 5 February, so on 3 February still at C
        (day(34), day(92), "C"),
        (day(34), None, "C"),
        (day(40), None, "B"),
        # before anything was known, nothing; before the placement, nowhere
        (day(20), day(1, hour=6), None),
        (day(1, hour=6), None, None),
        # housed: the stay at B ends on 1 June — but only from 2 June on does the chain know it
        (day(160), day(152), "B"),
        (day(160), None, None),
        (day(152, hour=11), None, "B"),
    ],
)
def test_a_late_or_corrected_move_changes_valid_time_answers_but_not_earlier_knowledge(
    valid_at: datetime, known_at: datetime | None, expected: str | None
) -> None:
    assert where(valid_at, known_at) == expected


def test_the_whole_history_as_known_now_and_as_known_before_the_late_registration() -> None:
    now = derive_stays(FACTS)
    assert [(s.location_id, s.valid_from, s.valid_to) for s in now] == [
        ("A", day(1), day(15)),
        ("C", day(15), day(36)),
        ("B", day(36), day(152)),
    ]
    b = now[-1]
    assert (b.forced, b.end_reason, b.registered_valid_from, b.corrected_at) == (
        True,
        "housed",
        day(32),
        day(91),
    )

    then = derive_stays(FACTS, day(60))
    assert [(s.location_id, s.valid_from, s.valid_to, s.end_reason) for s in then] == [
        ("A", day(1), day(32), None),
        ("B", day(32), None, None),
    ]
    assert then[-1].corrected_at is None


def test_a_period_query_returns_the_stays_overlapping_it_brp_style() -> None:
    def period(valid_from: datetime | None, valid_to: datetime | None) -> list[str]:
        return [s.location_id for s in stays_overlapping(derive_stays(FACTS), valid_from, valid_to)]

    assert period(day(10), day(20)) == ["A", "C"]
    assert period(day(15), day(36)) == ["C"]  # datumTot is exclusive; A ends where C begins
    assert period(day(200), None) == []
    assert period(None, day(2)) == ["A"]


def test_the_order_in_which_facts_arrive_does_not_matter() -> None:
    expected = derive_stays(FACTS)
    for seed in range(20):
        shuffled = [
            replace(f, sequence=i) for i, f in enumerate(random.Random(seed).sample(FACTS, len(FACTS)))
        ]
        assert derive_stays(shuffled) == expected


def test_the_last_recorded_correction_wins() -> None:
    again = correction(TO_B, day(40), day(95))
    assert where(day(38), None, [*FACTS, again]) == "C"
    assert where(day(38), day(93), [*FACTS, again]) == "B"


def test_the_auditors_example_in_the_docs() -> None:
    """docs/services/history.md: placed on 1 January; on 1 February a move to an htl on 15 January is
    registered; on 10 February it is corrected to 12 January."""

    def jan(d: int) -> datetime:
        return datetime(2026, 1, d, 12, tzinfo=UTC)

    def feb(d: int) -> datetime:
        return datetime(2026, 2, d, 12, tzinfo=UTC)

    def end_of(moment: datetime) -> datetime:
        return moment.replace(hour=23, minute=59, second=59, microsecond=999999)

    placed = start("azc-aanmeld", jan(1), jan(1))
    to_htl = start("htl", jan(15), feb(1))
    facts = [placed, to_htl, correction(to_htl, jan(12), feb(10))]
    assert where(end_of(jan(13)), None, facts) == "htl"
    assert where(end_of(jan(13)), end_of(feb(5)), facts) == "azc-aanmeld"
    assert where(end_of(jan(13)), end_of(jan(20)), facts) == "azc-aanmeld"
    assert where(end_of(jan(20)), end_of(jan(20)), facts) == "azc-aanmeld"
    assert where(end_of(jan(20)), end_of(feb(5)), facts) == "htl"
    period = stays_overlapping(derive_stays(facts), jan(10).replace(hour=0), jan(14).replace(hour=0))
    assert [s.location_id for s in period] == ["azc-aanmeld", "htl"]
