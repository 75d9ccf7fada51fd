"""Adapters of procedure: its database migrations."""
