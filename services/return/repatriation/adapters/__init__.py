"""Adapters of the return service: its database migrations."""
