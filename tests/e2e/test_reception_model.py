"""The reception model end to end, over HTTP only, on PostgreSQL and Kafka:

1. a family with two school-age children is registered, accelerated and moved once; its azc closes
   outside the school holidays → the proposed forced transfer is dated in the next school holiday; a
   second forced transfer without justification is refused with a problem that names the rule; with a
   recorded justification it goes through;
2. rejection → appeal → appeal rejected → return case → VBL → departure: the person's reception ends,
   and every step is visible in the read side.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.calendar import next_school_holiday_day
from tests.e2e.stack import Chain
from tests.e2e.test_chain_flow import _history, _register, _wait_for, ind, reject_finally


async def _accelerated(chain: Chain, household_id: str) -> dict[str, Any]:
    application = await _wait_for(
        chain, "procedure", f"/v1/households/{household_id}/application", "IND", "application lodged"
    )
    await ind(
        chain,
        application["applicationId"],
        "reception-stream",
        {"stream": "accelerated", "ground": "safe-country-of-origin"},
    )
    return application


async def test_closure_in_school_holiday_and_second_forced_move_of_children_needs_justification(
    chain: Chain,
) -> None:
    today = datetime.now(UTC)
    family = await _register(
        chain,
        [
            {"role": "adult", "birthYear": 1984, "nationality": "ALB"},
            {"role": "child", "birthYear": today.year - 9, "nationality": "ALB"},
            {"role": "child", "birthYear": today.year - 12, "nationality": "ALB"},
        ],
    )
    household_id = family["householdId"]
    await _accelerated(chain, household_id)
    reception = await _wait_for(
        chain,
        "placement",
        f"/v1/households/{household_id}/reception",
        "COA",
        "the process move",
        lambda body: body["moves"] == 1,
    )
    assert reception["location"]["locationType"] == "azc-versneld"
    assert reception["forcedMovesOfChildren"] == 1

    # COA opens another azc for the accelerated procedure, then closes the family's azc on a school day.
    opened = await chain.call(
        "POST",
        "placement",
        "/v1/locations",
        "COA",
        json={
            "name": f"azc versneld Echt {household_id[-4:]}",
            "locationType": "azc-versneld",
            "municipality": "Echt-Susteren",
            "province": "Limburg",
            "capacity": 400,
            "schoolNearby": True,
        },
    )
    assert opened.status_code == 201, opened.text
    closing = reception["location"]
    closes_at = _a_school_day_after_a_holiday(today.date(), closing["province"])
    closure = await chain.call(
        "POST",
        "placement",
        f"/v1/locations/{closing['locationId']}/closure",
        "COA",
        json={"closesAt": f"{closes_at.isoformat()}T09:00:00Z"},
    )
    assert closure.status_code == 200, closure.text
    proposal = next(p for p in closure.json()["proposals"] if p["householdId"] == household_id)
    holiday = next_school_holiday_day(today.date(), closing["province"])
    assert holiday is not None and proposal["proposedFor"].startswith(holiday.isoformat())

    execute = f"/v1/households/{household_id}/transfer-proposals/{proposal['proposalId']}/execution"
    plain = await chain.call(
        "POST",
        "placement",
        f"/v1/households/{household_id}/child-interest-assessments",
        "COA",
        json={"firstDegreeFamilyNearby": False, "medicalNecessity": False, "schoolContinuity": False},
    )
    refused = await chain.call(
        "POST", "placement", execute, "COA", json={"assessmentId": plain.json()["assessmentId"]}
    )
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "second-forced-move-of-child"
    assert "moved by force at most once" in refused.json()["detail"]

    justified = await chain.call(
        "POST",
        "placement",
        f"/v1/households/{household_id}/child-interest-assessments",
        "COA",
        json={
            "firstDegreeFamilyNearby": False,
            "medicalNecessity": False,
            "schoolContinuity": False,
            "justification": "location-closure-without-alternative",
        },
    )
    moved = await chain.call(
        "POST", "placement", execute, "COA", json={"assessmentId": justified.json()["assessmentId"]}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["forcedMovesOfChildren"] == 2

    for member in family["members"]:
        stays = await _history(chain, member["personId"], 3)
        assert [s["reason"] for s in stays] == ["registration", "process", "location-closure"]
        assert stays[2]["validFrom"].startswith(holiday.isoformat())

    # The read side's children policy: both children were moved by force twice (the adult is no child);
    # the closure move, in the holiday, is no school-time move; leaving the province is out of region.
    policy = (await chain.call("GET", "history", "/v1/children-policy", "AUDIT")).json()
    adult, *children = [m["personId"] for m in family["members"]]
    twice = {c["personId"]: c for c in policy["childrenMovedByForceMoreThanOnce"]}
    assert set(children) <= set(twice) and adult not in twice
    assert [m["reason"] for m in twice[children[0]]["forcedMoves"]] == ["process", "location-closure"]
    school_time = {(m["personId"], m["reason"]) for m in policy["schoolAgeMovesOutsideHolidays"]}
    assert all((child, "location-closure") not in school_time for child in children)
    out_of_region = {(m["personId"], m["toProvince"]) for m in policy["outOfRegionMoves"]}
    assert (closing["province"] != "Limburg") == all((c, "Limburg") in out_of_region for c in children)
    # and the moves themselves, filtered and paginated
    moves = await chain.call(
        "GET",
        "history",
        "/v1/moves?forced=true&involvesChildren=true&reason=location-closure&pageSize=1",
        "AUDIT",
    )
    assert moves.status_code == 200, moves.text
    assert moves.json()["count"] >= 3 and len(moves.json()["results"]) == 1
    assert moves.json()["next"] is not None and "page=2" in moves.json()["next"]


def _a_school_day_after_a_holiday(today: date, province: str) -> date:
    """A closing date outside the holidays, after the next holiday has begun."""
    holiday = next_school_holiday_day(today, province)
    assert holiday is not None, "extend shared/calendar.py with the next school year's holidays"
    day = holiday + timedelta(days=1)
    from shared.calendar import in_school_holiday

    while in_school_holiday(day, province) or day.weekday() >= 5:
        day += timedelta(days=1)
    return day


async def test_rejection_appeal_return_case_vbl_and_departure_end_reception_visibly(chain: Chain) -> None:
    person = await _register(chain, [{"role": "adult", "birthYear": 1991, "nationality": "MAR"}])
    household_id, person_id = person["householdId"], person["members"][0]["personId"]
    application = await _accelerated(chain, household_id)
    await _wait_for(
        chain,
        "placement",
        f"/v1/households/{household_id}/reception",
        "COA",
        "the process move",
        lambda body: body["moves"] == 1,
    )

    await reject_finally(chain, application["applicationId"])
    case = await _wait_for(
        chain, "return", f"/v1/households/{household_id}/return-case", "DTV", "return case"
    )

    lko = await chain.call(
        "POST",
        "return",
        f"/v1/return-cases/{case['caseId']}/local-chain-decision",
        "DTV",
        json={"option": "vbl"},
    )
    assert lko.status_code == 200, lko.text
    at_vbl = await _wait_for(
        chain,
        "placement",
        f"/v1/households/{household_id}/reception",
        "COA",
        "the VBL move",
        lambda body: body["location"]["locationType"] == "vbl",
    )
    assert at_vbl["moves"] == 2

    departure = await chain.call(
        "POST",
        "return",
        f"/v1/return-cases/{case['caseId']}/departure",
        "DTV",
        json={"departureType": "independent", "destinationCountry": "MAR"},
    )
    assert departure.status_code == 200, departure.text
    ended = await _wait_for(
        chain,
        "placement",
        f"/v1/households/{household_id}/reception",
        "COA",
        "the end of reception",
        lambda body: body["ended"],
    )
    assert ended["ended"]

    stays = await _history(chain, person_id, 3)
    assert [s["locationType"] for s in stays] == ["azc-aanmeld", "azc-versneld", "vbl"]
    assert stays[2]["validTo"] is not None and stays[2]["endReason"] == "departed"

    wanted = {
        "application-lodged",
        "reception-stream-determined",
        "hearing-held",
        "intended-decision-issued",
        "decision-issued",
        "appeal-lodged",
        "appeal-ruled",
        "decision-became-final",
        "case-opened",
        "local-chain-decision-taken",
        "resident-transferred",
        "departure-realised",
        "resident-left-reception",
    }
    timeline = await _wait_for(
        chain,
        "history",
        f"/v1/persons/{person_id}/timeline",
        "AUDIT",
        "the whole timeline",
        lambda body: wanted <= {e["type"].rsplit(".", 1)[1] for e in body["entries"]},
    )
    by_type = {entry["type"].rsplit(".", 1)[1]: entry for entry in timeline["entries"]}
    assert by_type["case-opened"]["causationId"] == by_type["decision-became-final"]["eventId"]
    assert by_type["case-opened"]["actor"].startswith("DTV:")

    # A closed case takes no more commands; an ended reception no more moves; unknown cases are 404.
    again = await chain.call(
        "POST",
        "return",
        f"/v1/return-cases/{case['caseId']}/departure",
        "DTV",
        json={"departureType": "independent"},
    )
    assert again.status_code == 409 and again.json()["code"] == "case-closed"
    move = await chain.call(
        "POST",
        "placement",
        f"/v1/households/{household_id}/transfers",
        "COA",
        json={"reason": "own-request", "forced": False},
    )
    assert move.status_code == 409 and move.json()["code"] == "reception-ended"
    unknown = await chain.call(
        "POST", "return", "/v1/return-cases/unknown/departure", "DTV", json={"departureType": "independent"}
    )
    assert unknown.status_code == 404
