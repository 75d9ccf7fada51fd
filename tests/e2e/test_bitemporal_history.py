"""The residence history on both time axes, through the running chain (five services, PostgreSQL, Kafka):
a move registered late and then corrected changes where the person was on a day (validAt), but not what
the chain knew before (knownAt) — the auditor's question."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.stack import Chain
from tests.e2e.test_chain_flow import _wait_for


async def _where(chain: Chain, person_id: str, **query: datetime) -> list[str]:
    params = "&".join(f"{name}={value.isoformat().replace('+00:00', 'Z')}" for name, value in query.items())
    answer = await chain.call(
        "GET", "history", f"/v1/persons/{person_id}/residence-history?{params}", "AUDIT"
    )
    assert answer.status_code == 200, answer.text
    return [stay["locationType"] for stay in answer.json()["stays"]]


async def _zoek(chain: Chain, body: dict[str, Any]) -> Any:
    return await chain.call("POST", "history", "/v1/residence-history/_zoek", "IND", json=body)


async def test_a_late_and_corrected_move_on_both_time_axes(chain: Chain) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    # Registered (and placed) a month ago.
    body = {
        "arrivalGroup": "first-application",
        "channel": "ter-apel",
        "members": [{"role": "adult", "relation": "head", "birthYear": 1990, "nationality": "SYR"}],
        "occurredAt": (now - timedelta(days=30)).isoformat(),
    }
    registered = await chain.call("POST", "intake", "/v1/households", "AVIM", json=body)
    assert registered.status_code == 201, registered.text
    household_id = registered.json()["householdId"]
    person_id = registered.json()["members"][0]["personId"]
    path = f"/v1/persons/{person_id}/residence-history"
    await _wait_for(chain, "history", path, "AUDIT", "the placement", lambda b: len(b["stays"]) == 1)
    before_the_move_was_known = datetime.now(UTC)

    # Today COA registers, late, a move to an htl made 20 days ago.
    moved = await chain.call(
        "POST",
        "placement",
        f"/v1/households/{household_id}/transfers",
        "COA",
        json={
            "purpose": "htl",
            "reason": "measure",
            "forced": True,
            "occurredAt": (now - timedelta(days=20)).isoformat(),
        },
    )
    assert moved.status_code == 200, moved.text
    history = await _wait_for(
        chain, "history", path, "AUDIT", "the late move", lambda b: len(b["stays"]) == 2
    )
    move_id = history["stays"][1]["eventId"]
    before_the_correction = datetime.now(UTC)

    # ... and then corrects it: the move was 25 days ago.
    corrected = await chain.call(
        "POST",
        "placement",
        f"/v1/households/{household_id}/moves/{move_id}/correction",
        "COA",
        json={"occurredAt": (now - timedelta(days=25)).isoformat()},
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["correctedEventIds"] == [move_id]
    await _wait_for(
        chain, "history", path, "AUDIT", "the correction", lambda b: b["stays"][1]["correctedAt"] is not None
    )

    day_22_ago, day_10_ago, day_27_ago = (now - timedelta(days=d) for d in (22, 10, 27))
    # where was the person 22 days ago?
    assert await _where(chain, person_id, validAt=day_22_ago) == ["htl"]
    assert await _where(chain, person_id, validAt=day_22_ago, knownAt=before_the_correction) == [
        "azc-aanmeld"
    ]
    assert await _where(chain, person_id, validAt=day_22_ago, knownAt=before_the_move_was_known) == [
        "azc-aanmeld"
    ]
    # 10 days ago: at the htl, as soon as the move was known; before that, still at the registration azc
    assert await _where(chain, person_id, validAt=day_10_ago) == ["htl"]
    assert await _where(chain, person_id, validAt=day_10_ago, knownAt=before_the_correction) == ["htl"]
    assert await _where(chain, person_id, validAt=day_10_ago, knownAt=before_the_move_was_known) == [
        "azc-aanmeld"
    ]
    # 27 days ago: at the registration azc, whatever the knowledge date
    for known in (before_the_move_was_known, before_the_correction, datetime.now(UTC)):
        assert await _where(chain, person_id, validAt=day_27_ago, knownAt=known) == ["azc-aanmeld"]
    # a period, BRP style
    period = {"validFrom": now - timedelta(days=26), "validTo": now - timedelta(days=24)}
    assert await _where(chain, person_id, **period) == ["azc-aanmeld", "htl"]
    assert await _where(chain, person_id, **period, knownAt=before_the_correction) == ["azc-aanmeld"]
    # the whole history as known now: the stay at the htl shows both valid times and when each was learned
    whole = (await chain.call("GET", "history", path, "AUDIT")).json()["stays"]
    assert whole[1]["validFrom"] == (now - timedelta(days=25)).isoformat().replace("+00:00", "Z")
    assert whole[1]["registeredValidFrom"] == (now - timedelta(days=20)).isoformat().replace("+00:00", "Z")
    assert whole[0]["validTo"] == whole[1]["validFrom"] and whole[1]["forced"] is True

    # The same by POST, the person id in the body (Dutch API Design Rules), dates allowed.
    found = await _zoek(
        chain,
        {
            "personId": person_id,
            "validAt": day_22_ago.date().isoformat(),
            "knownAt": before_the_correction.isoformat(),
        },
    )
    assert found.status_code == 200, found.text
    assert [s["locationType"] for s in found.json()["stays"]] == ["azc-aanmeld"]
    assert found.json()["validAt"].startswith(f"{day_22_ago.date().isoformat()}T23:59:59")


async def test_invalid_time_questions_are_400_problems_naming_every_parameter(chain: Chain) -> None:
    unknown = await _zoek(chain, {"personId": "nobody", "validAt": "2026-01-01"})
    assert unknown.status_code == 404
    answer = await _zoek(
        chain,
        {
            "personId": "nobody",
            "validAt": "2026-01-01",
            "validFrom": "2026-02-01",
            "validTo": "2026-01-01",
            "knownAt": "2026-01-01T10:00:00",
        },
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    invalid = {(p["name"], p["code"]) for p in answer.json()["invalidParams"]}
    assert invalid == {
        ("knownAt", "time-zone-missing"),
        ("validAt", "exclusive"),
        ("validTo", "before-valid-from"),
    }
    garbled = await chain.call("GET", "history", "/v1/persons/x/residence-history?validAt=yesterday", "AUDIT")
    assert garbled.status_code == 400 and garbled.json()["invalidParams"][0]["name"] == "validAt"


async def test_a_command_names_its_events_and_the_read_side_answers_after_applying_them(chain: Chain) -> None:
    registered = await chain.call(
        "POST",
        "intake",
        "/v1/households",
        "AVIM",
        json={
            "arrivalGroup": "first-application",
            "channel": "ter-apel",
            "members": [{"role": "adult", "relation": "head", "birthYear": 1995, "nationality": "ERI"}],
        },
    )
    assert registered.status_code == 201, registered.text
    ids = registered.headers["X-Event-Ids"].split(",")
    assert registered.headers["X-Last-Event-Id"] == ids[-1]
    person_id = registered.json()["members"][0]["personId"]

    # No polling: the first read waits until the read side has applied the command's events.
    timeline = await chain.call(
        "GET", "history", f"/v1/persons/{person_id}/timeline?after={','.join(ids)}", "AUDIT"
    )
    assert timeline.status_code == 200, timeline.text
    assert set(ids) <= {entry["eventId"] for entry in timeline.json()["entries"]}


async def test_waiting_for_an_event_the_read_side_never_applies_ends_in_a_503_problem(chain: Chain) -> None:
    started = datetime.now(UTC)
    answer = await chain.call(
        "GET", "history", f"/v1/occupancy?after={'0190a1b2-0000-7000-8000-00000000dead'}", "AUDIT"
    )
    waited = (datetime.now(UTC) - started).total_seconds()
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "read-model-behind" and "0 of 1" in answer.json()["detail"]
    assert 4.5 <= waited < 9
    stranger = await chain.call("GET", "history", "/v1/occupancy?after=x", "GEMEENTE")
    assert stranger.status_code == 403  # authorised before any waiting


async def test_occupancy_and_provinces_over_http(chain: Chain) -> None:
    for group_by in ("location", "type", "municipality", "province"):
        answer = await chain.call("GET", "history", f"/v1/occupancy?groupBy={group_by}", "COA")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert all(row["occupancy"] >= 0 and row["capacity"] >= 0 for row in body["results"])
        assert body["totalOccupancy"] == sum(row["occupancy"] for row in body["results"])
    # the seed locations are registered on start: capacity is there, and every province has a target
    provinces = (await chain.call("GET", "history", "/v1/provinces", "AUDIT")).json()["results"]
    assert len(provinces) == 12 and sum(p["realised"] for p in provinces) > 0
    assert {p["province"] for p in provinces} >= {"Groningen", "Noord-Brabant"}
    wrong = await chain.call("GET", "history", "/v1/occupancy?groupBy=street", "COA")
    assert wrong.status_code == 400
