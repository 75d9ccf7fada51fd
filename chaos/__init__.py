"""Fault injection around a running chain (`make chaos`, `python -m chaos`): the five services on
PostgreSQL and real Kafka under simulated load, faults from a seeded schedule, then the invariants."""
