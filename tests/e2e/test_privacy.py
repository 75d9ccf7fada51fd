"""Privacy by design, through the running chain (five uvicorn processes, PostgreSQL, real Kafka): people
are registered and identified with V-number, names, date of birth and passport; they go through the
chain (placement, procedure, the process move, the read side); one of them is erased. Before and after
the erasure, none of their personal data is anywhere in plaintext — not in any database table, on any
Kafka topic from offset 0, in any log the services wrote, or in any read-model answer. After it, the
erased person's identity opens for no one, and their residence history is still there, without it."""

from __future__ import annotations

import json
import random
import string
from dataclasses import dataclass
from typing import Any

from shared.contracts.intake import IdentificationAndRegistrationCompleted
from tests.e2e.privacy_scan import Hit, scan_files, scan_kafka, scan_postgres
from tests.e2e.stack import Chain
from tests.fixtures import eventually
from tests.helpers import read_topic


@dataclass(frozen=True)
class Identity:
    v_number: str
    given_names: str
    family_name: str
    date_of_birth: str
    passport: str

    def values(self) -> list[str]:
        year, month, day = self.date_of_birth.split("-")
        born = [self.date_of_birth, f"{day}-{month}-{year}", f"{year}{month}{day}", f"{day}{month}{year}"]
        return [self.v_number, self.given_names, self.family_name, self.passport, *born]

    def body(self) -> dict[str, Any]:
        return {
            "vNumber": self.v_number,
            "givenNames": self.given_names,
            "familyName": self.family_name,
            "dateOfBirth": self.date_of_birth,
            "documents": [{"kind": "passport", "number": self.passport, "issuingCountry": "ERI"}],
            "biometricsCaptured": True,
            "documentsRetained": 1,
        }


def _word(rng: random.Random) -> str:
    return rng.choice(string.ascii_uppercase) + "".join(rng.choices(string.ascii_lowercase, k=9))


def new_identity(rng: random.Random, born: int) -> Identity:
    return Identity(
        v_number="".join(rng.choices(string.digits, k=10)),
        given_names=f"{_word(rng)} {_word(rng)}",
        family_name=_word(rng),
        date_of_birth=f"{born}-{rng.randint(1, 12):02d}-{rng.randint(10, 28):02d}",
        passport="EP" + "".join(rng.choices(string.digits, k=7)),
    )


async def _ok(chain: Chain, method: str, service: str, path: str, agency: str, body: Any = None) -> Any:
    response = await chain.call(method, service, path, agency, json=body)
    assert response.status_code in (200, 201), (path, response.text)
    return response.json()


async def _wait(chain: Chain, service: str, path: str, agency: str, what: str, until: Any) -> Any:
    found: dict[str, Any] = {}

    async def ready() -> bool:
        response = await chain.call("GET", service, path, agency)
        if response.status_code == 200 and until(response.json()):
            found.update(response.json())
            return True
        return False

    await eventually(ready, timeout=60, what=what)
    return found


async def _everything(chain: Chain, persons: list[str], values: list[str]) -> list[Hit]:
    """Every place the chain keeps anything, and the read side's answers about these persons."""
    stack = chain.stack
    # The person ids go along as a control: a scan that finds them reads the content it claims to.
    looked_for = values + persons
    database_hits, tables = await scan_postgres(stack.database_urls, looked_for)
    kafka_hits, records = await scan_kafka(stack.kafka_bootstrap, looked_for)
    file_hits, files = scan_files(stack.log_dir, looked_for)
    assert tables >= 20 and records >= 10 and files >= 5, "the scan must have read something"
    for hits, kind in ((database_hits, "postgres"), (kafka_hits, "kafka"), (file_hits, "file")):
        assert {hit.value for hit in hits} >= set(persons), f"the {kind} scan did not see the person ids"
    answers: list[Hit] = []
    for person_id in persons:
        for what in ("timeline", "residence-history"):
            text = (await chain.call("GET", "history", f"/v1/persons/{person_id}/{what}", "AUDIT")).text
            answers += [Hit(f"answer:{what}", value) for value in values if value in text]
        text = (await chain.call("GET", "intake", f"/v1/persons/{person_id}", "COA")).text
        answers += [Hit("answer:intake-person", value) for value in values if value in text]
    return [hit for hit in database_hits + kafka_hits + file_hits + answers if hit.value not in persons]


async def test_no_personal_data_in_plaintext_anywhere_before_or_after_erasure(chain: Chain) -> None:
    rng = random.Random()
    head_identity, child_identity = new_identity(rng, 1986), new_identity(rng, 2016)
    values = head_identity.values() + child_identity.values()

    # Given a family registered at Ter Apel, pre-registered by the IND and identified by AVIM
    household = await _ok(
        chain,
        "POST",
        "intake",
        "/v1/households",
        "AVIM",
        {
            "channel": "ter-apel",
            "arrivalGroup": "first-application",
            "members": [
                {"role": "adult", "relation": "head", "birthYear": 1986, "nationality": "ERI"},
                {"role": "child", "relation": "child", "birthYear": 2016, "nationality": "ERI"},
            ],
        },
    )
    household_id = household["householdId"]
    head, child = (m["personId"] for m in household["members"])
    await _ok(
        chain, "POST", "intake", f"/v1/households/{household_id}/pre-registration", "IND", {"language": "ti"}
    )
    for person_id, identity in ((head, head_identity), (child, child_identity)):
        await _ok(chain, "POST", "intake", f"/v1/persons/{person_id}/identification", "AVIM", identity.body())

    # and run through the chain: placed at registration, application lodged, accelerated, the process move
    application = await _wait(
        chain, "procedure", f"/v1/households/{household_id}/application", "IND", "application", lambda b: True
    )
    await _ok(
        chain,
        "POST",
        "procedure",
        f"/v1/applications/{application['applicationId']}/reception-stream",
        "IND",
        {"stream": "accelerated", "ground": "safe-country-of-origin"},
    )
    await _wait(
        chain,
        "placement",
        f"/v1/households/{household_id}/reception",
        "COA",
        "move",
        lambda b: b["moves"] == 1,
    )
    stays_before = {}
    for person_id in (head, child):
        history = await _wait(
            chain,
            "history",
            f"/v1/persons/{person_id}/residence-history",
            "AUDIT",
            "two stays",
            lambda b: len(b["stays"]) == 2,
        )
        stays_before[person_id] = history["stays"]
    await _wait(
        chain,
        "history",
        f"/v1/persons/{head}/timeline",
        "AUDIT",
        "the identification in the timeline",
        lambda b: any(e["type"] == IdentificationAndRegistrationCompleted.type_name for e in b["entries"]),
    )

    # the agencies with a task can still read who the person is, through intake
    opened = await _ok(
        chain, "POST", "intake", f"/v1/persons/{head}/identity/_open", "IND", {"purpose": "procedure"}
    )
    assert (
        opened["vNumber"] == head_identity.v_number and opened["dateOfBirth"] == head_identity.date_of_birth
    )
    (sealed_name,) = [
        json.loads(r.value)["sealed_name"]
        for r in await read_topic(chain.stack.kafka_bootstrap, "intake.events")
        if r.key == head.encode()
        and b"identification-and-registration-completed" in dict(r.headers)["ce_type"]
    ]
    unseal = {"field": "name", "sealed": sealed_name, "purpose": "housing"}
    name = await _ok(chain, "POST", "intake", f"/v1/persons/{head}/sealed-fields/_open", "GEMEENTE", unseal)
    assert name["value"] == f"{head_identity.given_names} {head_identity.family_name}"

    # Then nothing of who they are is in plaintext anywhere
    assert await _everything(chain, [head, child], values) == []

    # When an operator erases the head's personal data, on a request under AVG art. 17
    erased = await _ok(
        chain,
        "POST",
        "intake",
        f"/v1/persons/{head}/erasure",
        "OPERATOR",
        {"ground": "erasure-request", "legalBasis": "AVG art. 17 lid 1 onder a; verzoek 2026-0042"},
    )
    assert erased["categories"] == ["identity", "documents"]
    timeline = await _wait(
        chain,
        "history",
        f"/v1/persons/{head}/timeline",
        "AUDIT",
        "the erasure on the read side",
        lambda b: b["personalDataErasedAt"] is not None,
    )

    # Then still nothing in plaintext anywhere
    assert await _everything(chain, [head, child], values) == []
    # and the head's identity opens for no one: not the vault record, not the name that travelled sealed
    gone = await chain.call(
        "POST", "intake", f"/v1/persons/{head}/identity/_open", "IND", json={"purpose": "procedure"}
    )
    assert (gone.status_code, gone.json()["code"]) == (410, "personal-data-erased")
    gone = await chain.call(
        "POST", "intake", f"/v1/persons/{head}/sealed-fields/_open", "GEMEENTE", json=unseal
    )
    assert (gone.status_code, gone.json()["code"]) == (410, "personal-data-erased")
    found = await chain.call(
        "POST", "intake", "/v1/persons/_zoek", "COA", json={"vNumber": head_identity.v_number}
    )
    assert found.status_code == 404
    # (the ciphertext of the name is still on Kafka, as topics keep everything: without the key it is noise)
    assert any(
        sealed_name.encode() in (r.value or b"")
        for r in await read_topic(chain.stack.kafka_bootstrap, "intake.events")
    )
    # and the key that opened it is gone from the vault, with the records
    keys, _ = await scan_postgres({"intake": chain.stack.database_urls["intake"]}, [head])
    assert {hit.where for hit in keys}.isdisjoint(
        {"postgres:intake.person_keys", "postgres:intake.identity_records", "postgres:intake.v_number_index"}
    )
    # while the residence history is all still there, under the pseudonymous id, and the timeline keeps
    # every fact without the sealed name or the V-number reference
    history = await _ok(chain, "GET", "history", f"/v1/persons/{head}/residence-history", "AUDIT")
    assert history["stays"] == stays_before[head]
    assert all(
        "sealed_name" not in e["data"] and "v_number_ref" not in e["data"] for e in timeline["entries"]
    )
    assert timeline["entries"][-1]["type"] == "nl.asielketen.intake.personal-data-erased"
    # and the child, not erased, is still who they are, for those with a task
    child_identity_read = await _ok(
        chain, "POST", "intake", f"/v1/persons/{child}/identity/_open", "IND", {"purpose": "procedure"}
    )
    assert child_identity_read["vNumber"] == child_identity.v_number
