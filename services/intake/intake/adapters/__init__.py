"""Adapters of intake: its database migrations (the event store itself is the common one)."""
