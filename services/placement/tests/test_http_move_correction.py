"""Over HTTP (in-process, SQLite): correcting when a registered move happened emits one correction per
member, changes no count, and keeps the move in its place among the person's moves."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from test_http_closure_and_children import (
    TODAY,
    a_family_moved_to_the_accelerated_azc,
    another_accelerated_azc,
    app,
    coa,
)

from placement.domain.reception import stream_id
from shared.contracts.placement import ResidentTransferCorrected, ResidentTransferred
from shared.ids import new_id

__all__ = ["app", "coa"]  # the fixtures, shared with the closure tests


async def _a_family_that_moved_again(app: FastAPI, coa: httpx.AsyncClient) -> tuple[str, list[str]]:
    """A family moved at TODAY (process move) and again, registered later, at TODAY + 5 days."""
    household_id = await a_family_moved_to_the_accelerated_azc(app.state.runtime)
    other = await another_accelerated_azc(coa)
    app.state.runtime.clock.advance(timedelta(days=10))
    moved = await coa.post(
        f"/v1/households/{household_id}/transfers",
        json={
            "toLocationId": other,
            "reason": "own-request",
            "forced": False,
            "occurredAt": (TODAY + timedelta(days=5)).isoformat(),
        },
    )
    assert moved.status_code == 200, moved.text
    async with app.state.runtime.units_of_work() as uow:
        recorded = await uow.events.read_stream(stream_id(household_id))
    last_move = [
        r.envelope.id
        for r in recorded
        if isinstance(r.event, ResidentTransferred) and r.event.location_id == other
    ]
    return household_id, last_move


async def test_a_correction_emits_one_fact_per_member_and_changes_no_count(
    app: FastAPI, coa: httpx.AsyncClient
) -> None:
    household_id, move = await _a_family_that_moved_again(app, coa)
    assert len(move) == 3  # an adult and two children
    before = (await coa.get(f"/v1/households/{household_id}/reception")).json()

    when = TODAY + timedelta(days=3)
    answer = await coa.post(
        f"/v1/households/{household_id}/moves/{move[1]}/correction", json={"occurredAt": when.isoformat()}
    )

    assert answer.status_code == 200, answer.text
    assert sorted(answer.json()["correctedEventIds"]) == sorted(move)
    async with app.state.runtime.units_of_work() as uow:
        recorded = await uow.events.read_stream(stream_id(household_id))
    corrections = [r.event for r in recorded if isinstance(r.event, ResidentTransferCorrected)]
    assert {c.corrected_event_id for c in corrections} == set(move)
    assert {c.occurred_at for c in corrections} == {when}
    after = (await coa.get(f"/v1/households/{household_id}/reception")).json()
    assert (after["moves"], after["forcedMoves"], after["location"]) == (
        before["moves"],
        before["forcedMoves"],
        before["location"],
    )


async def test_a_correction_may_not_reorder_moves_nor_lie_in_the_future(
    app: FastAPI, coa: httpx.AsyncClient
) -> None:
    household_id, move = await _a_family_that_moved_again(app, coa)
    path = f"/v1/households/{household_id}/moves/{move[0]}/correction"

    before_the_process_move = await coa.post(path, json={"occurredAt": TODAY.isoformat()})
    in_the_future = await coa.post(path, json={"occurredAt": (TODAY + timedelta(days=30)).isoformat()})
    unknown = await coa.post(
        f"/v1/households/{household_id}/moves/{new_id()}/correction", json={"occurredAt": TODAY.isoformat()}
    )
    naive = await coa.post(path, json={"occurredAt": "2026-12-03T10:00:00"})

    assert before_the_process_move.status_code == 409
    assert before_the_process_move.json()["code"] == "correction-reorders-moves"
    assert in_the_future.status_code == 409 and in_the_future.json()["code"] == "correction-in-future"
    assert unknown.status_code == 404
    assert naive.status_code == 400
