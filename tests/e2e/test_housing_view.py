"""The municipality's housing view on the running chain: after the IND grants, COA links the household to
the municipality of its azc, and that municipality — and only that one — finds it on the read side, with
its size and its permit, through its own token."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.stack import Chain
from tests.e2e.test_chain_flow import _register, _wait_for
from tests.fixtures import MintToken, eventually


async def test_the_linked_municipality_finds_a_granted_household_and_another_does_not(
    chain: Chain, token_for: MintToken
) -> None:
    # given a household of two whose application is granted
    household = await _register(
        chain,
        [
            {"role": "adult", "birthYear": 1990, "nationality": "SYR"},
            {"role": "child", "birthYear": 2018, "nationality": "SYR"},
        ],
    )
    household_id = household["householdId"]
    application = await _wait_for(
        chain, "procedure", f"/v1/households/{household_id}/application", "IND", "application lodged"
    )
    for step, body in (
        ("reception-stream", {"stream": "not-accelerated"}),
        ("decision", {"outcome": "granted"}),
    ):
        response = await chain.call(
            "POST", "procedure", f"/v1/applications/{application['applicationId']}/{step}", "IND", json=body
        )
        assert response.status_code == 200, response.text
    # when COA has linked it to the municipality of its azc
    reception = await _wait_for(
        chain,
        "placement",
        f"/v1/households/{household_id}/reception",
        "COA",
        "municipality link",
        lambda body: body["linkedMunicipality"] is not None,
    )
    municipality = reception["linkedMunicipality"]
    url = f"{chain.stack.urls['history']}/v1/housing/households"
    ours = {"Authorization": f"Bearer {token_for('GEMEENTE', municipality=municipality)}"}
    found: dict[str, Any] = {}

    async def listed_with_its_permit() -> bool:
        async with httpx.AsyncClient(timeout=10) as client:
            page = (await client.get(url, headers=ours)).json()
        mine = [h for h in page["results"] if h["householdId"] == household_id]
        if mine and mine[0]["permitStatus"] == "granted":
            found.update(mine[0])
            return True
        return False

    # then that municipality finds it, with its size and its permit, and nothing more
    await eventually(listed_with_its_permit, timeout=60, what="the household in the housing view")
    assert set(found) == {
        "householdId",
        "municipalityCode",
        "linkedOn",
        "householdSize",
        "permitStatus",
        "permitGrantedOn",
    }
    assert (found["municipalityCode"], found["householdSize"]) == (municipality, 2)
    # and another municipality is answered as if the household did not exist
    theirs = {"Authorization": f"Bearer {token_for('GEMEENTE', municipality=f'not-{municipality}')}"}
    async with httpx.AsyncClient(timeout=10) as client:
        other = await client.get(f"{url}/{household_id}", headers=theirs)
        listed = (await client.get(url, headers=theirs)).json()
    assert other.status_code == 404 and other.headers["content-type"] == "application/problem+json"
    assert household_id not in {h["householdId"] for h in listed["results"]}
