"""Reading a service's Prometheus text (its `/metrics`) into the dashboard's health figures."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from history.domain.health import ConsumerHealth, ServiceHealth

SCRAPE_TIMEOUT_S = 2.0


def health_from_metrics(service: str, text: str) -> ServiceHealth:
    backlog: int | None = None
    lag: dict[str, int] = {}
    delay: dict[str, float] = {}
    dead: dict[str, int] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            consumer = sample.labels.get("consumer", "")
            if sample.name == "asielketen_outbox_backlog":
                backlog = (backlog or 0) + int(sample.value)
            elif sample.name == "asielketen_consumer_lag_messages":
                lag[consumer] = lag.get(consumer, 0) + int(sample.value)
            elif sample.name == "asielketen_read_model_lag_seconds":
                delay[consumer] = float(sample.value)
            elif sample.name == "asielketen_dead_lettered_events":
                dead[consumer] = int(sample.value)
    return ServiceHealth(
        service=service,
        reachable=True,
        outbox_backlog=backlog,
        consumers=[
            ConsumerHealth(
                consumer=name,
                lag_messages=lag.get(name, 0),
                read_model_lag_seconds=round(delay.get(name, 0.0), 3),
                dead_lettered=dead[name],
            )
            for name in sorted(dead)
        ],
    )


async def scrape(client: httpx.AsyncClient, service: str, base_url: str) -> ServiceHealth:
    """The service's health from its /metrics; unreachable (with the reason) when it does not answer."""
    try:
        response = await client.get(f"{base_url.rstrip('/')}/metrics", timeout=SCRAPE_TIMEOUT_S)
        response.raise_for_status()
    except httpx.HTTPError as error:
        return ServiceHealth(service=service, reachable=False, error=f"{type(error).__name__}: {error}")
    return health_from_metrics(service, response.text)
