"""Adapters of intake: its own tables (persons lookup, identity vault) and database migrations (the
event store itself is the common one)."""
