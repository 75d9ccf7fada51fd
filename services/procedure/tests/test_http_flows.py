"""The procedure over HTTP, in-process on SQLite with a manual clock: the general procedure, the
extended procedure with a grant, a Dublin case, and an appeal each way."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from shared.clock import ManualClock
from shared.contracts.procedure import (
    AppealLodged,
    AppealRuled,
    ApplicationLodged,
    DecisionBecameFinal,
    DecisionIssued,
    DublinClaimAccepted,
    DublinClaimSent,
    HearingHeld,
    IntendedDecisionIssued,
    ReceptionStreamDetermined,
    ReferredToExtendedProcedure,
    ResidencePermitGranted,
    RestAndPreparationPeriodStarted,
    TrackAssigned,
    ViewSubmitted,
)

DAY = timedelta(days=1)
pytest_plugins = ["services.procedure.tests.procedure_fixtures"]
Fixture = Any  # the callables procedure_fixtures hands out (lodge, post, prepared, recorded)


def at(value: object) -> datetime:
    return datetime.fromisoformat(str(value))


async def test_the_general_procedure_from_track_to_decision(
    client: httpx.AsyncClient, clock: ManualClock, lodge: Fixture, post: Fixture, recorded: Fixture
) -> None:
    application_id = await lodge(people=2)
    track = await client.post(f"/v1/applications/{application_id}/track", json={"track": "4-general"})
    assert track.status_code == 200 and track.headers["ETag"] == '"2"'
    await post(application_id, "reception-stream", {"stream": "not-accelerated"})
    rest = await post(application_id, "rest-and-preparation-period", {"days": 6})
    await post(
        application_id, "hearings", {"kind": "registration", "site": "ind-office", "indOffice": "Ter Apel"}
    )
    # the detailed hearing waits for the end of the rest and preparation period
    early = await post(application_id, "hearings", {"kind": "detailed", "site": "on-location"}, status=409)
    assert early["code"] == "rest-period-not-ended"
    clock.advance(6 * DAY)
    await post(application_id, "hearings", {"kind": "detailed", "site": "on-location"})
    await post(application_id, "intended-decision", {"intendedOutcome": "rejected-unfounded"})
    await post(application_id, "view")
    decided = await post(application_id, "decision", {"outcome": "rejected-unfounded"})

    read = await client.get(f"/v1/applications/{application_id}")
    assert read.status_code == 200 and read.headers["ETag"] == '"9"'
    body = read.json()
    assert body == decided
    assert body["track"] == "4-general" and body["stream"] == "not-accelerated" and body["ground"] is None
    assert rest["restAndPreparationPeriod"] is not None
    assert body["restAndPreparationPeriod"]["endsAt"] == (clock.now()).isoformat().replace("+00:00", "Z")
    assert [(h["kind"], h["site"], h["indOffice"]) for h in body["hearings"]] == [
        ("registration", "ind-office", "Ter Apel"),
        ("detailed", "on-location", None),
    ]
    assert body["intendedDecision"]["outcome"] == "rejected-unfounded" and body["viewSubmittedAt"]
    assert body["decision"]["departurePeriodDays"] == 28 and body["decision"]["appealPeriodDays"] == 7
    assert at(body["decision"]["appealDeadline"]) == clock.now() + 7 * DAY
    assert (
        body["outcome"] == "rejected-unfounded" and body["final"] is None and body["residencePermit"] is None
    )

    stream = await recorded(application_id)
    assert [type(r.event) for r in stream] == [
        ApplicationLodged,
        TrackAssigned,
        ReceptionStreamDetermined,
        RestAndPreparationPeriodStarted,
        HearingHeld,
        HearingHeld,
        IntendedDecisionIssued,
        ViewSubmitted,
        DecisionIssued,
    ]
    assert stream[-1].envelope.schemaversion == 2 and stream[0].envelope.schemaversion == 2
    assert stream[-1].envelope.actor.startswith("IND:")


async def test_a_grant_in_the_extended_procedure_has_a_four_week_appeal_period_and_a_permit(
    client: httpx.AsyncClient, clock: ManualClock, lodge: Fixture, post: Fixture, recorded: Fixture
) -> None:
    application_id = await lodge()
    await post(application_id, "track", {"track": "4-general"})
    await post(application_id, "reception-stream", {"stream": "not-accelerated"})
    await post(application_id, "extended-procedure", {"occurredAt": "2026-03-03T10:00:00Z"})
    clock.advance(90 * DAY)
    body = await post(application_id, "decision", {"outcome": "granted"})
    assert body["referredToExtendedProcedureAt"] == "2026-03-03T10:00:00Z"
    assert body["decision"]["appealPeriodDays"] == 28 and body["decision"]["departurePeriodDays"] == 0
    assert body["residencePermit"] == {
        "validFrom": "2026-05-31T09:00:00Z",
        "validUntil": "2031-05-31T09:00:00Z",
    }
    *_, referred, issued, permit = await recorded(application_id)
    assert isinstance(referred.event, ReferredToExtendedProcedure)
    assert isinstance(issued.event, DecisionIssued) and isinstance(permit.event, ResidencePermitGranted)
    # one append: the same request, the same recorded time, consecutive versions
    assert issued.envelope.correlationid == permit.envelope.correlationid
    assert issued.envelope.time == permit.envelope.time
    assert permit.envelope.streamversion == issued.envelope.streamversion + 1


async def test_a_dublin_case_is_not_considered_once_the_other_state_accepts(
    client: httpx.AsyncClient, lodge: Fixture, post: Fixture, recorded: Fixture
) -> None:
    application_id = await lodge()
    await post(application_id, "track", {"track": "1-dublin"})
    not_yet = await post(application_id, "dublin-claims/acceptance", status=409)
    assert not_yet["code"] == "no-dublin-claim"
    await post(application_id, "dublin-claims", {"memberState": "DE"})
    accepted = await post(application_id, "dublin-claims/acceptance")
    assert accepted["dublinClaim"]["memberState"] == "DE" and accepted["dublinClaim"]["acceptedAt"]
    await post(
        application_id,
        "reception-stream",
        {"stream": "accelerated", "ground": "protection-in-other-member-state"},
    )
    await post(application_id, "hearings", {"kind": "registration", "site": "on-location"})
    refused = await post(application_id, "hearings", {"kind": "detailed", "site": "on-location"}, status=409)
    assert refused["code"] == "detailed-hearing-not-for-track"  # Dublin cases get one interview
    await post(application_id, "intended-decision", {"intendedOutcome": "dublin-not-considered"})
    body = await post(application_id, "decision", {"outcome": "dublin-not-considered"})
    assert body["decision"]["departurePeriodDays"] == 0 and body["decision"]["appealPeriodDays"] == 7
    types = [type(r.event) for r in await recorded(application_id)]
    assert DublinClaimSent in types and DublinClaimAccepted in types


async def test_an_unfounded_appeal_makes_the_decision_final_from_the_ruling(
    client: httpx.AsyncClient, clock: ManualClock, prepared: Fixture, post: Fixture, recorded: Fixture
) -> None:
    application_id = await prepared("rejected-unfounded", people=3)
    await post(application_id, "decision", {"outcome": "rejected-unfounded"})
    clock.advance(3 * DAY)
    appealed = await post(application_id, "appeal", {"suspensive": True})
    assert appealed["appeal"]["suspensive"] is True and appealed["appeal"]["outcome"] is None
    again = await post(application_id, "appeal", {"suspensive": True}, status=409)
    assert again["code"] == "appeal-already-lodged"
    clock.advance(40 * DAY)
    ruled = await post(application_id, "appeal-ruling", {"outcome": "unfounded"})
    assert ruled["appeal"]["outcome"] == "unfounded"
    assert at(ruled["final"]["becameFinalAt"]) == clock.now()
    assert at(ruled["final"]["departureDeadline"]) == clock.now() + 28 * DAY
    *_, appeal, ruling, final = await recorded(application_id)
    assert isinstance(appeal.event, AppealLodged) and isinstance(ruling.event, AppealRuled)
    assert isinstance(final.event, DecisionBecameFinal) and len(final.event.person_ids) == 3
    assert ruling.envelope.legalbasis.startswith("Vreemdelingenwet 2000 art. 69")


async def test_a_well_founded_appeal_sends_the_application_back_to_the_ind(
    client: httpx.AsyncClient, clock: ManualClock, prepared: Fixture, post: Fixture
) -> None:
    application_id = await prepared()
    await post(application_id, "decision", {"outcome": "rejected-manifestly-unfounded"})
    await post(application_id, "appeal", {"suspensive": False})
    clock.advance(30 * DAY)
    annulled = await post(application_id, "appeal-ruling", {"outcome": "well-founded"})
    assert annulled["decision"] is None and annulled["appeal"] is None and annulled["outcome"] is None
    [round_] = annulled["annulledDecisions"]
    assert round_["decision"]["outcome"] == "rejected-manifestly-unfounded"
    assert round_["appeal"]["outcome"] == "well-founded" and round_["appeal"]["suspensive"] is False
    redecided = await post(application_id, "decision", {"outcome": "granted"})
    assert redecided["decision"]["outcome"] == "granted" and redecided["residencePermit"] is not None


async def test_an_appeal_after_the_appeal_period_is_refused_by_the_service_clock(
    client: httpx.AsyncClient, clock: ManualClock, prepared: Fixture, post: Fixture
) -> None:
    application_id = await prepared()
    decided = await post(application_id, "decision", {"outcome": "rejected-manifestly-unfounded"})
    clock.current = at(decided["decision"]["appealDeadline"])
    # even when the caller dates the appeal inside the period
    late = await post(
        application_id, "appeal", {"suspensive": True, "occurredAt": decided["decidedAt"]}, status=409
    )
    assert late["code"] == "appeal-period-expired"
