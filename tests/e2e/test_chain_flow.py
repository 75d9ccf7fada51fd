"""The thin flow through every service, driven only through the HTTP APIs, event-driven in between:
intake registers → placement places at a registration azc → procedure determines the stream →
placement makes the one process move → procedure decides → return opens a case (rejection) or
placement links to a municipality (grant) → the read side shows each person's residence history."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.stack import Chain
from tests.fixtures import eventually


async def _register(chain: Chain, members: list[dict[str, Any]]) -> dict[str, Any]:
    relations = ["head", *(("child" if m["role"] == "child" else "partner") for m in members[1:])]
    body = {
        "arrivalGroup": "first-application",
        "channel": "ter-apel",
        "members": [
            {**member, "relation": relation} for member, relation in zip(members, relations, strict=True)
        ],
    }
    response = await chain.call("POST", "intake", "/v1/households", "AVIM", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def ind(
    chain: Chain, application_id: str, step: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await chain.call(
        "POST", "procedure", f"/v1/applications/{application_id}/{step}", "IND", json=body or {}
    )
    assert response.status_code in (200, 201), (step, response.text)
    return dict(response.json())


async def reject_finally(chain: Chain, application_id: str) -> None:
    """The IND hears the applicant on location, intends to reject, rejects; the appeal is rejected."""
    await ind(chain, application_id, "hearings", {"kind": "registration", "site": "on-location"})
    await ind(chain, application_id, "intended-decision", {"intendedOutcome": "rejected-unfounded"})
    await ind(chain, application_id, "decision", {"outcome": "rejected-unfounded"})
    await ind(chain, application_id, "appeal", {"suspensive": True})
    await ind(chain, application_id, "appeal-ruling", {"outcome": "unfounded"})


async def _wait_for(
    chain: Chain, service: str, path: str, agency: str, what: str, until: Any = lambda body: True
) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def ready() -> bool:
        response = await chain.call("GET", service, path, agency)
        if response.status_code == 200 and until(response.json()):
            found.update(response.json())
            return True
        return False

    await eventually(ready, timeout=60, what=what)
    return found


async def _history(chain: Chain, person_id: str, stays: int) -> list[dict[str, Any]]:
    body = await _wait_for(
        chain,
        "history",
        f"/v1/persons/{person_id}/residence-history",
        "AUDIT",
        f"{stays} stays of person {person_id}",
        lambda b: len(b["stays"]) == stays,
    )
    return list(body["stays"])


async def test_family_accelerated_and_rejected_gets_a_return_case(chain: Chain) -> None:
    # Given a household of two adults and two children reporting at Ter Apel
    household = await _register(
        chain,
        [
            {"role": "adult", "birthYear": 1986, "nationality": "GEO"},
            {"role": "adult", "birthYear": 1989, "nationality": "GEO"},
            {"role": "child", "birthYear": 2014, "nationality": "GEO"},
            {"role": "child", "birthYear": 2019, "nationality": "GEO"},
        ],
    )
    household_id = household["householdId"]
    person_ids = [member["personId"] for member in household["members"]]

    # then COA places it at an azc with registration facilities, and the IND has its application
    reception = await _wait_for(
        chain, "placement", f"/v1/households/{household_id}/reception", "COA", "placement at registration"
    )
    assert reception["location"]["locationType"] == "azc-aanmeld"
    application = await _wait_for(
        chain, "procedure", f"/v1/households/{household_id}/application", "IND", "application lodged"
    )

    # When the IND finds it accelerated (safe country of origin)
    response = await chain.call(
        "POST",
        "procedure",
        f"/v1/applications/{application['applicationId']}/reception-stream",
        "IND",
        json={"stream": "accelerated", "ground": "safe-country-of-origin"},
    )
    assert response.status_code == 200, response.text

    # then the household makes its one process move, together, to the azc for the accelerated procedure
    reception = await _wait_for(
        chain,
        "placement",
        f"/v1/households/{household_id}/reception",
        "COA",
        "process move",
        lambda body: body["moves"] == 1,
    )
    assert reception["location"]["locationType"] == "azc-versneld"
    assert reception["forcedMoves"] == 1

    # When the application is rejected (after the hearing and an intended decision), appealed, and the
    # appeal rejected, the rejection is final
    await reject_finally(chain, application["applicationId"])

    # then DT&V has a return case for the whole household, and no municipality is linked
    case = await _wait_for(
        chain, "return", f"/v1/households/{household_id}/return-case", "DTV", "return case"
    )
    assert sorted(case["personIds"]) == sorted(person_ids)
    reception = (
        await chain.call("GET", "placement", f"/v1/households/{household_id}/reception", "COA")
    ).json()
    assert reception["linkedMunicipality"] is None

    # and every member's residence history shows the registration azc, then the accelerated azc
    for person_id in person_ids:
        stays = await _history(chain, person_id, 2)
        assert [stay["locationType"] for stay in stays] == ["azc-aanmeld", "azc-versneld"]
        assert stays[0]["validTo"] == stays[1]["validFrom"]
        assert stays[1]["validTo"] is None
        assert stays[1]["reason"] == "process" and stays[1]["forced"] is True


async def test_single_adult_not_accelerated_and_granted_is_linked_to_a_municipality(chain: Chain) -> None:
    household = await _register(chain, [{"role": "adult", "birthYear": 1995, "nationality": "ERI"}])
    household_id = household["householdId"]
    person_id = household["members"][0]["personId"]
    application = await _wait_for(
        chain, "procedure", f"/v1/households/{household_id}/application", "IND", "application lodged"
    )

    response = await chain.call(
        "POST",
        "procedure",
        f"/v1/applications/{application['applicationId']}/reception-stream",
        "IND",
        json={"stream": "not-accelerated"},
    )
    assert response.status_code == 200, response.text
    reception = await _wait_for(
        chain,
        "placement",
        f"/v1/households/{household_id}/reception",
        "COA",
        "process move",
        lambda body: body["moves"] == 1,
    )
    assert reception["location"]["locationType"] == "azc-regulier"

    response = await chain.call(
        "POST",
        "procedure",
        f"/v1/applications/{application['applicationId']}/decision",
        "IND",
        json={"outcome": "granted"},
    )
    assert response.status_code == 200, response.text

    # After the grant COA links the household to the municipality of its azc, and there is no return case
    reception = await _wait_for(
        chain,
        "placement",
        f"/v1/households/{household_id}/reception",
        "COA",
        "municipality link",
        lambda body: body["linkedMunicipality"] is not None,
    )
    assert reception["linkedMunicipality"] == reception["location"]["municipality"]
    assert (
        await chain.call("GET", "return", f"/v1/households/{household_id}/return-case", "DTV")
    ).status_code == 404

    stays = await _history(chain, person_id, 2)
    assert [stay["locationType"] for stay in stays] == ["azc-aanmeld", "azc-regulier"]


async def test_every_service_refuses_a_missing_token_and_the_wrong_agency(chain: Chain) -> None:
    protected = {
        "intake": ("POST", "/v1/households", "DTV"),
        "placement": ("GET", "/v1/locations", "GEMEENTE"),
        "procedure": ("POST", "/v1/applications/x/decision", "COA"),
        "return": ("GET", "/v1/return-cases/x", "IND"),
        "history": ("GET", "/v1/persons/x/residence-history", "GEMEENTE"),
    }
    async with httpx.AsyncClient(timeout=10) as anonymous:
        for service, (method, path, wrong_agency) in protected.items():
            url = chain.stack.urls[service] + path
            unauthenticated = await anonymous.request(method, url, json={})
            assert unauthenticated.status_code == 401, (service, unauthenticated.text)
            assert unauthenticated.headers["content-type"] == "application/problem+json"
            forbidden = await anonymous.request(method, url, json={}, headers=chain.headers(wrong_agency))
            assert forbidden.status_code == 403, (service, forbidden.text)
            assert forbidden.headers["content-type"] == "application/problem+json"
            assert forbidden.json()["code"] == "insufficient-scope"
            health = await anonymous.get(chain.stack.urls[service] + "/health")
            assert health.status_code == 200


async def test_unknown_cases_answer_404_and_repeated_decisions_409(chain: Chain) -> None:
    missing = await chain.call(
        "POST", "procedure", "/v1/applications/does-not-exist/decision", "IND", json={"outcome": "granted"}
    )
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"

    household = await _register(chain, [{"role": "adult", "birthYear": 1980, "nationality": "TUR"}])
    application = await _wait_for(
        chain,
        "procedure",
        f"/v1/households/{household['householdId']}/application",
        "IND",
        "application lodged",
    )
    decide_first = await chain.call(
        "POST",
        "procedure",
        f"/v1/applications/{application['applicationId']}/decision",
        "IND",
        json={"outcome": "granted"},
    )
    assert decide_first.status_code == 409  # the stream must be determined first
    assert decide_first.json()["code"] == "stream-not-determined"
