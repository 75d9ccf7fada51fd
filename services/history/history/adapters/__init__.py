"""Adapters of the read side: its read-model tables and migrations."""
