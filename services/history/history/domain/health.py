"""System health as the dashboard shows it: per service its outbox backlog, and per consumer its lag
and dead letters — read from each service's own `/metrics`, so the dashboard and Prometheus agree."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True, slots=True)
class ConsumerHealth:
    consumer: str
    lag_messages: int  # summed over the partitions the scraped process holds
    read_model_lag_seconds: float  # apply delay of the last event it applied
    dead_lettered: int


@dataclass(frozen=True, kw_only=True, slots=True)
class ServiceHealth:
    service: str
    reachable: bool
    error: str | None = None
    outbox_backlog: int | None = None  # None: publishes nothing (the read side) or unreachable
    consumers: list[ConsumerHealth] = field(default_factory=list)


# The read side's models and the consumer that feeds them: one consumer, so one lag for all of them.
READ_MODELS = {
    "residence-history": "history",
    "occupancy": "history",
    "moves-and-children-policy": "history",
    "timeline": "history",
}
