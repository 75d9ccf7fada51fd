"""Adapters of the return service: its own tables beside the event store, and its migrations."""
