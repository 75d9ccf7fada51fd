"""The dashboard's figures from facts: flows per month, the stream split with lead times, moves per
month. Pure functions, so each story is a handful of facts and the figures they give."""

from __future__ import annotations

from datetime import UTC, datetime

from history.domain.moves import Move
from history.domain.statistics import (
    FlowFact,
    FlowKind,
    PersonProcedure,
    flow_kind_of_end,
    flows_per_month,
    months_until,
    moves_per_month,
    stream_figures,
)


def at(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


def test_a_series_is_the_calendar_months_ending_with_the_month_asked_for() -> None:
    assert months_until(at(2, 10), 4) == ["2025-11", "2025-12", "2026-01", "2026-02"]


def test_flows_count_each_person_once_per_kind_and_month_and_nothing_after_the_moment() -> None:
    facts = [
        FlowFact(kind=FlowKind.REGISTERED, person_id="a", occurred_at=at(6, 3)),
        FlowFact(kind=FlowKind.REGISTERED, person_id="b", occurred_at=at(6, 20)),
        FlowFact(kind=FlowKind.DECIDED, person_id="a", occurred_at=at(7, 1)),
        FlowFact(kind=FlowKind.DECIDED, person_id="a", occurred_at=at(7, 2)),  # the same flow again
        FlowFact(kind=flow_kind_of_end("housed"), person_id="a", occurred_at=at(7, 25)),
        FlowFact(kind=flow_kind_of_end("departed"), person_id="b", occurred_at=at(7, 29)),  # after the moment
        FlowFact(kind=FlowKind.REGISTERED, person_id="c", occurred_at=at(1, 5)),  # before the series
    ]
    series = flows_per_month(facts, at(7, 28), months=2)
    assert list(series) == ["2026-06", "2026-07"]
    assert series["2026-06"][FlowKind.REGISTERED] == 2
    assert series["2026-07"][FlowKind.DECIDED] == 1
    assert series["2026-07"][FlowKind.HOUSED] == 1
    assert series["2026-07"][FlowKind.DEPARTED] == 0


def test_ends_of_reception_are_housing_departures_or_other_ends() -> None:
    assert flow_kind_of_end("housed") is FlowKind.HOUSED
    assert {flow_kind_of_end(r) for r in ("departed", "departed-unknown-destination", "dublin-transfer")} == {
        FlowKind.DEPARTED
    }
    assert flow_kind_of_end("departure-period-expired") is FlowKind.OTHER_END


def test_streams_split_the_registered_and_give_median_lead_times() -> None:
    people = [
        PersonProcedure(
            person_id="a",
            registered_at=at(6, 1),
            stream="accelerated",
            stream_determined_at=at(6, 3),
            decided_at=at(6, 11),
        ),
        PersonProcedure(
            person_id="b", registered_at=at(6, 1), stream="accelerated", stream_determined_at=at(6, 5)
        ),
        PersonProcedure(person_id="c", registered_at=at(6, 1)),
    ]
    figures = {f.stream: f for f in stream_figures(people, ["accelerated", "not-accelerated"])}
    accelerated = figures["accelerated"]
    assert (accelerated.people, accelerated.decided) == (2, 1)
    assert accelerated.days_to_stream == 3.0 and accelerated.days_to_stream_people == 2
    assert accelerated.days_to_decision == 10.0
    assert figures["not-accelerated"].people == 0 and figures["not-accelerated"].days_to_stream is None
    assert figures["undetermined"].people == 1


def move(when: datetime, reason: str, forced: bool) -> Move:
    return Move(
        event_id=f"e-{when.isoformat()}-{reason}",
        person_id="p",
        household_id="h",
        occurred_at=when,
        recorded_at=when,
        from_location_id="l1",
        from_location_type="azc-aanmeld",
        from_province="Groningen",
        to_location_id="l2",
        to_location_name="azc",
        to_location_type="azc-regulier",
        to_province="Drenthe",
        reason=reason,
        forced=forced,
        involves_children=False,
        age=30,
        child=False,
        in_school_holiday=False,
    )


def test_moves_per_month_by_reason_and_forced() -> None:
    moves = [
        move(at(5, 2), "process", True),
        move(at(5, 9), "process", True),
        move(at(5, 9), "own-request", False),
        move(at(6, 1), "process", True),
        move(at(6, 30), "process", True),  # after the moment asked for
    ]
    counts = {(c.month, c.reason, c.forced): c.moves for c in moves_per_month(moves, at(6, 15), 2)}
    assert counts == {
        ("2026-05", "process", True): 2,
        ("2026-05", "own-request", False): 1,
        ("2026-06", "process", True): 1,
    }
