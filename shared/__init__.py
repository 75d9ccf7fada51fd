"""The project's common package: event envelope and contracts, event store, outbox relay,
idempotent consumer, authentication, settings, logging and HTTP edge helpers.

Nothing in here knows about any one agency's domain; services import from here, never from each other.
"""
