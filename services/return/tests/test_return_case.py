"""A return case is opened once per household."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from repatriation.domain import return_case
from repatriation.domain.return_case import OpenReturnCase

from shared.contracts.repatriation import ReturnCaseOpened
from shared.domain import RuleViolation, fold
from shared.ids import new_id


def test_a_rejected_household_gets_one_return_case() -> None:
    command = OpenReturnCase(
        household_id=new_id(),
        application_id=new_id(),
        person_ids=(new_id(), new_id()),
        occurred_at=datetime(2026, 6, 1, tzinfo=UTC),
    )
    events = return_case.open_case(None, command)
    assert [type(e) for e in events] == [ReturnCaseOpened]
    state = fold(return_case.evolve, events, None)
    assert state is not None and state.case_id == return_case.case_id_for(command.household_id)
    with pytest.raises(RuleViolation) as refused:
        return_case.open_case(state, command)
    assert refused.value.code == "return-case-already-open"
