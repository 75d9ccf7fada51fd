"""Every service answers /metrics in the Prometheus text format (parsed here with prometheus_client's own
parser): events appended, outbox backlog and publish latency, consumer lag, read-model lag, dead letters,
and HTTP latency by route template — with no personal identifier in any label."""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.stack import Chain
from tests.e2e.test_chain_flow import _register, _wait_for
from tests.fixtures import eventually

PUBLISHERS = ("intake", "placement", "procedure", "return")
CONSUMERS = {"history": "history", "placement": "placement", "procedure": "procedure", "return": "return"}


async def scrape(chain: Chain, service: str) -> tuple[str, dict[str, list[Any]]]:
    async with httpx.AsyncClient(timeout=10) as anonymous:  # Prometheus scrapes without a token
        response = await anonymous.get(chain.stack.urls[service] + "/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[str, list[Any]] = {}
    for family in text_string_to_metric_families(response.text):
        samples.setdefault(family.name, [])
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return response.text, samples


def value(samples: dict[str, list[Any]], name: str, **labels: str) -> float:
    found = [s.value for s in samples.get(name, []) if all(s.labels.get(k) == v for k, v in labels.items())]
    assert found, f"no sample {name}{labels}"
    return float(sum(found))


async def test_every_service_exposes_its_metrics_without_personal_ids_in_labels(chain: Chain) -> None:
    # Given a household registered, placed and its application lodged (work for every service but return)
    household = await _register(chain, [{"role": "adult", "birthYear": 1990, "nationality": "SYR"}])
    person_id = household["members"][0]["personId"]
    await _wait_for(
        chain, "procedure", f"/v1/households/{household['householdId']}/application", "IND", "application"
    )
    await _wait_for(
        chain, "history", f"/v1/persons/{person_id}/timeline", "AUDIT", "the read side's timeline"
    )

    for service in (*PUBLISHERS, "history"):
        text, samples = await scrape(chain, service)
        # HTTP latency by route template: the person's id never becomes a label value
        assert person_id not in text and household["householdId"] not in text
        assert "asielketen_http_request_duration_seconds_bucket" in samples
        if service in PUBLISHERS:
            # families are always there; samples once something happened (return has had no case yet)
            assert {"asielketen_events_appended", "asielketen_outbox_publish_latency_seconds"} <= set(samples)
            assert value(samples, "asielketen_outbox_backlog") >= 0
        if service in CONSUMERS:
            consumer = CONSUMERS[service]
            assert value(samples, "asielketen_dead_lettered_events", consumer=consumer) >= 0
            assert "asielketen_consumer_lag_messages" in samples
            assert value(samples, "asielketen_read_model_lag_seconds", consumer=consumer) >= 0

    # intake appended and published the registration; its route is labelled by template
    _, intake = await scrape(chain, "intake")
    assert value(intake, "asielketen_events_appended_total") >= 1
    assert value(intake, "asielketen_outbox_publish_latency_seconds_count") >= 1
    assert value(
        intake, "asielketen_http_request_duration_seconds_count", route="/v1/households", method="POST"
    )

    # the read side read the timeline by template, applied events (apply delay observed), and holds
    # partitions whose lag it reports per topic
    async def read_side_reports_lag() -> bool:
        _, history = await scrape(chain, "history")
        return any(s.labels["topic"] == "intake.events" for s in history["asielketen_consumer_lag_messages"])

    await eventually(read_side_reports_lag, timeout=30, what="the read side's lag per partition")
    _, history = await scrape(chain, "history")
    assert value(
        history, "asielketen_http_request_duration_seconds_count", route="/v1/persons/{person_id}/timeline"
    )
    assert value(history, "asielketen_event_apply_delay_seconds_count", consumer="history") >= 1
    assert value(history, "asielketen_consumer_events_applied_total", consumer="history") >= 1
