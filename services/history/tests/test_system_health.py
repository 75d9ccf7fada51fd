"""The dashboard's system-health panel reads a service's /metrics text: the outbox backlog, and per
consumer its lag (summed over partitions), last apply delay and dead letters."""

from __future__ import annotations

from history.adapters.metrics_scrape import health_from_metrics
from shared.metrics import ConsumerState, Snapshot, metrics_text


def test_a_services_metrics_become_its_health() -> None:
    text = metrics_text(
        Snapshot(
            service="placement",
            source="urn:test:placement",
            outbox_backlog=7,
            consumers=[
                ConsumerState(
                    name="placement-test",
                    applied=12,
                    dead_lettered_stored=2,
                    lag={("intake.events", 0): 3, ("intake.events", 1): 4},
                )
            ],
        )
    ).decode()

    health = health_from_metrics("placement", text)

    assert health.reachable and health.outbox_backlog == 7
    (consumer,) = [c for c in health.consumers if c.consumer == "placement-test"]
    assert (consumer.lag_messages, consumer.dead_lettered) == (7, 2)


def test_the_read_side_has_no_outbox() -> None:
    text = metrics_text(Snapshot(service="history", source="urn:test:history", outbox_backlog=None)).decode()
    assert health_from_metrics("history", text).outbox_backlog is None
