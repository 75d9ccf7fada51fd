"""How facts about moves become stays."""

from __future__ import annotations

from datetime import UTC, datetime

from history.domain.stays import stay_started_by
from shared.contracts.intake import MemberRole
from shared.contracts.placement import LocationType, MoveReason, ResidentPlaced, ResidentTransferred
from shared.ids import new_id

MOVED = datetime(2026, 2, 3, 14, 0, tzinfo=UTC)
RECORDED = datetime(2026, 2, 5, 9, 0, tzinfo=UTC)


def _fields() -> dict[str, object]:
    return dict(
        person_id=new_id(),
        household_id=new_id(),
        role=MemberRole.CHILD,
        location_id=new_id(),
        location_name="Budel Randweg Oost",
        location_type=LocationType.AZC_VERSNELD,
        municipality="Cranendonck",
        province="Noord-Brabant",
        occurred_at=MOVED,
    )


def test_a_transfer_opens_a_stay_on_the_day_of_the_move_even_when_recorded_later() -> None:
    event = ResidentTransferred(
        **_fields(),
        reason=MoveReason.PROCESS,
        from_location_id=new_id(),
        forced=True,
        involves_children=True,
        in_school_holiday=False,
    )
    stay = stay_started_by(event, event_id=new_id(), recorded_at=RECORDED)
    assert (stay.valid_from, stay.valid_to, stay.recorded_at) == (MOVED, None, RECORDED)
    assert (stay.location_type, stay.reason, stay.forced) == ("azc-versneld", "process", True)


def test_a_first_placement_is_never_a_forced_move() -> None:
    event = ResidentPlaced(**_fields(), reason=MoveReason.REGISTRATION)
    assert stay_started_by(event, event_id=new_id(), recorded_at=RECORDED).forced is False
