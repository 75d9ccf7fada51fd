"""procedure's HTTP edge: 404 for unknown applications, 412 for a stale If-Match, 409 with the rule's
code, 400 for a body that does not validate, valid times, and an OpenAPI example per command."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from procedure.domain.application import application_id_for
from shared.clock import ManualClock
from tests.fixtures import MintToken

pytest_plugins = ["services.procedure.tests.procedure_fixtures"]
Fixture = Any  # the callables procedure_fixtures hands out (lodge, post, prepared, recorded)

COMMANDS: list[tuple[str, dict[str, object] | None]] = [
    ("decision-deadline-extension", {"newDeadline": "2027-01-01T00:00:00Z"}),
    ("track", {"track": "4-general"}),
    ("reception-stream", {"stream": "not-accelerated"}),
    ("rest-and-preparation-period", {"days": 6}),
    ("hearings", {"kind": "registration", "site": "on-location"}),
    ("dublin-claims", {"memberState": "DE"}),
    ("dublin-claims/acceptance", None),
    ("intended-decision", {"intendedOutcome": "rejected-unfounded"}),
    ("view", None),
    ("extended-procedure", None),
    ("decision", {"outcome": "granted"}),
    ("appeal", {"suspensive": True}),
    ("appeal-ruling", {"outcome": "unfounded"}),
]


async def test_every_command_answers_404_for_an_unknown_application(post: Fixture) -> None:
    for path, body in COMMANDS:
        problem = await post("does-not-exist", path, body, status=404)
        assert problem["code"] == "not-found", path


async def test_every_command_honours_if_match(
    client: httpx.AsyncClient, lodge: Fixture, post: Fixture
) -> None:
    application_id = await lodge()
    for version, (path, body) in enumerate(COMMANDS[1:5], start=1):
        stale = await post(application_id, path, body, status=412, headers={"If-Match": f'"{version - 1}"'})
        assert stale["code"] == "precondition-failed"
        await post(application_id, path, body, headers={"If-Match": f'"{version}"'})
    read = await client.get(f"/v1/applications/{application_id}")
    assert read.headers["ETag"] == '"5"'


async def test_tracks_3_and_5_are_refused_as_not_in_use_and_nonsense_is_invalid(
    lodge: Fixture, post: Fixture
) -> None:
    application_id = await lodge()
    for code in ("3", "5-possibly-grantable"):
        problem = await post(application_id, "track", {"track": code}, status=409)
        assert problem["code"] == "track-not-in-use" and "not in use" in problem["detail"]
    invalid = await post(application_id, "track", {"track": "7-unheard-of"}, status=400)
    assert invalid["code"] == "invalid-request"
    assert [param["name"] for param in invalid["invalidParams"]] == ["track"]
    assert "4-general" in invalid["invalidParams"][0]["reason"]


async def test_rules_answer_409_with_their_code(lodge: Fixture, post: Fixture, prepared: Fixture) -> None:
    application_id = await lodge()
    cases = [
        ("decision", {"outcome": "granted"}, "stream-not-determined"),
        ("view", None, "no-intended-decision"),
        ("hearings", {"kind": "registration", "site": "ind-office"}, "ind-office-missing"),
        ("hearings", {"kind": "detailed", "site": "on-location"}, "registration-hearing-first"),
        ("rest-and-preparation-period", {"days": 5}, "rest-period-too-short"),
        ("intended-decision", {"intendedOutcome": "granted"}, "intended-outcome-not-negative"),
        ("appeal", {"suspensive": True}, "no-negative-decision"),
        ("appeal-ruling", {"outcome": "unfounded"}, "no-appeal"),
        ("dublin-claims", {"memberState": "DE"}, "dublin-claim-track-1-only"),
        ("decision-deadline-extension", {"newDeadline": "2030-01-01T00:00:00Z"}, "deadline-beyond-maximum"),
    ]
    for path, body, code in cases:
        problem = await post(application_id, path, body, status=409)
        assert problem["code"] == code, (path, problem)
    ready = await prepared()
    problem = await post(ready, "reception-stream", {"stream": "not-accelerated"}, status=409)
    assert problem["code"] == "stream-already-determined"
    await post(ready, "track", {"track": "4-general"}, status=409)


async def test_the_decision_deadline_is_extended_within_fifteen_months(
    client: httpx.AsyncClient, lodge: Fixture, post: Fixture
) -> None:
    application_id = await lodge()
    before = (await client.get(f"/v1/applications/{application_id}")).json()
    assert before["decisionDeadline"] == "2026-09-02T09:00:00Z"  # lodged 2 March 2026 + 6 months
    extended = await post(
        application_id, "decision-deadline-extension", {"newDeadline": "2027-06-02T09:00:00Z"}
    )
    assert extended["decisionDeadline"] == "2027-06-02T09:00:00Z"
    too_far = await post(
        application_id, "decision-deadline-extension", {"newDeadline": "2027-06-02T09:00:01Z"}, status=409
    )
    assert too_far["code"] == "deadline-beyond-maximum"


async def test_commands_take_the_valid_time_from_occurred_at(
    clock: ManualClock, lodge: Fixture, post: Fixture, recorded: Fixture
) -> None:
    application_id = await lodge(at=clock.now() - timedelta(days=10))
    await post(
        application_id,
        "hearings",
        {"kind": "registration", "site": "on-location", "occurredAt": "2026-02-25T13:30:00+01:00"},
    )
    rest = await post(
        application_id, "rest-and-preparation-period", {"startsAt": "2026-02-26T08:00:00Z", "days": 8}
    )
    assert rest["restAndPreparationPeriod"] == {
        "startedAt": "2026-02-26T08:00:00Z",
        "endsAt": "2026-03-06T08:00:00Z",
    }
    both = {"startsAt": "2026-02-26T08:00:00Z", "occurredAt": "2026-02-27T08:00:00Z"}
    await post(application_id, "rest-and-preparation-period", both, status=400)
    naive = await post(application_id, "view", {"occurredAt": "2026-02-27T08:00:00"}, status=400)
    assert naive["invalidParams"][0]["name"] == "occurredAt"
    *_, hearing, _rest = await recorded(application_id)
    assert hearing.event.occurred_at.isoformat() == "2026-02-25T12:30:00+00:00"
    assert hearing.envelope.time != hearing.event.occurred_at  # recorded now, valid then


async def test_the_household_route_reads_the_same_application(
    client: httpx.AsyncClient, app: FastAPI, lodge: Fixture
) -> None:
    application_id = await lodge()
    by_id = await client.get(f"/v1/applications/{application_id}")
    household_id = by_id.json()["householdId"]
    assert application_id_for(household_id) == application_id
    by_household = await client.get(f"/v1/households/{household_id}/application")
    assert by_household.json() == by_id.json() and by_household.headers["ETag"] == by_id.headers["ETag"]
    missing = await client.get("/v1/households/nobody/application")
    assert missing.status_code == 404


async def test_commands_need_the_procedure_write_scope(
    client: httpx.AsyncClient, lodge: Fixture, token_for: MintToken
) -> None:
    application_id = await lodge()
    coa = {"Authorization": f"Bearer {token_for('COA')}"}
    response = await client.post(
        f"/v1/applications/{application_id}/track", json={"track": "1-dublin"}, headers=coa
    )
    assert response.status_code == 403
    audit = {"Authorization": f"Bearer {token_for('AUDIT')}"}
    assert (await client.get(f"/v1/applications/{application_id}", headers=audit)).status_code == 200


async def test_every_command_has_an_openapi_example(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    # a POST ending in /_zoek is a search (the auditors' access-log query every service has), not a command
    commands = {
        path: item["post"] for path, item in paths.items() if "post" in item and not path.endswith("/_zoek")
    }
    assert len(commands) == len(COMMANDS)
    for path, operation in commands.items():
        example = operation["requestBody"]["content"]["application/json"]["example"]
        assert isinstance(example, dict) and example, path
        assert {"404", "409", "412"} <= set(operation["responses"]), path
