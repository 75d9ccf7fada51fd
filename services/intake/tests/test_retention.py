"""Retention: each category of a person's vault data is erased when its period (settings) ends, by the
deadline scheduler, at the deadline's own time; the erasure register reports what the job erased. The
clock is set forward by hand, as ASIELKETEN_CLOCK_OFFSET_S does for a rehearsal."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from intake_privacy_fixtures import (
    ERASURE,
    IDENTIFICATION,
    Agencies,
    intake_settings,
    running_intake,
    runtime_of,
)

from shared.clock import ManualClock
from shared.scheduler import DeadlineScheduler
from tests.fixtures import MintToken

Started = Callable[[], AbstractAsyncContextManager[FastAPI]]
DOCUMENTS_DAYS, IDENTITY_DAYS = 7, 30


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.now(UTC))


@pytest.fixture
def started(tmp_path: Path, auth_dir: Path, clock: ManualClock) -> Started:
    settings = intake_settings(
        tmp_path, auth_dir, retention_documents_days=DOCUMENTS_DAYS, retention_identity_days=IDENTITY_DAYS
    )
    return lambda: running_intake(settings, clock)


def scheduler_of(app: FastAPI) -> DeadlineScheduler:
    scheduler = runtime_of(app).scheduler
    assert scheduler is not None, "intake runs the retention job"
    return scheduler


async def _open(agencies: Agencies, person_id: str) -> tuple[int, dict[str, object]]:
    read = await agencies.call(
        "IND", "POST", f"/v1/persons/{person_id}/identity/_open", {"purpose": "procedure"}
    )
    return read.status_code, read.json()


async def test_documents_then_the_identity_are_erased_when_their_periods_end(
    started: Started, clock: ManualClock, token_for: MintToken
) -> None:
    async with started() as app:
        agencies = Agencies(app, token_for)
        identified_at = clock.now()
        person_id = await agencies.identified_person()
        assert await scheduler_of(app).fire_due() == 0  # nothing has expired yet

        # when the documents' period has passed (noticed an hour late)
        clock.advance(timedelta(days=DOCUMENTS_DAYS, hours=1))
        assert await scheduler_of(app).fire_due() == 1
        # then the document references are gone, the identity still opens
        status, identity = await _open(agencies, person_id)
        assert (
            status == 200 and identity["documents"] == [] and identity["vNumber"] == IDENTIFICATION["vNumber"]
        )

        # when the identity's period has passed too
        clock.advance(timedelta(days=IDENTITY_DAYS))
        assert await scheduler_of(app).fire_due() == 1
        assert await scheduler_of(app).fire_due() == 0  # once, never twice
        # then the key is gone: the identity no longer opens, the V-number finds no one
        status, problem = await _open(agencies, person_id)
        assert (status, problem["code"]) == (410, "personal-data-erased")
        found = await agencies.call(
            "COA", "POST", "/v1/persons/_zoek", {"vNumber": IDENTIFICATION["vNumber"]}
        )
        assert found.status_code == 404

        # and the register reports what the job erased, each at its deadline's own time
        register = (await agencies.call("OPERATOR", "GET", "/v1/erasures")).json()["erasures"]
        assert [(e["categories"], e["ground"], e["actor"]) for e in register] == [
            (["documents"], "retention-expired", "INTAKE:retention-job"),
            (["identity"], "retention-expired", "INTAKE:retention-job"),
        ]
        due = [identified_at + timedelta(days=DOCUMENTS_DAYS), identified_at + timedelta(days=IDENTITY_DAYS)]
        assert [datetime.fromisoformat(e["erasedAt"]) for e in register] == due
        assert all(e["personId"] == person_id for e in register)


async def test_an_erasure_on_request_leaves_the_job_nothing_to_do(
    started: Started, clock: ManualClock, token_for: MintToken
) -> None:
    async with started() as app:
        agencies = Agencies(app, token_for)
        person_id = await agencies.identified_person()
        erased = await agencies.call("OPERATOR", "POST", f"/v1/persons/{person_id}/erasure", ERASURE)
        assert erased.status_code == 200, erased.text
        clock.advance(timedelta(days=IDENTITY_DAYS + 1))
        assert await scheduler_of(app).fire_due() == 0
        register = (await agencies.call("OPERATOR", "GET", "/v1/erasures")).json()["erasures"]
        assert [e["ground"] for e in register] == ["erasure-request"]


async def test_a_deadline_that_passed_while_intake_was_down_is_erased_after_the_restart(
    started: Started, clock: ManualClock, token_for: MintToken
) -> None:
    async with started() as app:
        person_id = await Agencies(app, token_for).identified_person(
            {**IDENTIFICATION, "documents": [], "vNumber": "6192837465"}
        )
    clock.advance(timedelta(days=IDENTITY_DAYS + 3))
    async with started() as app:
        await scheduler_of(app).fire_due()  # the background job may have been first; either erases
        status, problem = await _open(Agencies(app, token_for), person_id)
        assert (status, problem["code"]) == (410, "personal-data-erased")
        register = (await Agencies(app, token_for).call("OPERATOR", "GET", "/v1/erasures")).json()["erasures"]
        # (erasing the identity erases the key, so every category not erased before is named)
        assert [(e["categories"], e["ground"]) for e in register] == [
            (["identity", "documents"], "retention-expired")
        ]
