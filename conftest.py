"""The one place pytest picks up the shared fixtures (tests/fixtures.py): one definition, so every
suite — tests/ and services/*/tests — shares the same session-scoped servers."""

from tests.fixtures import (
    auth_dir,
    kafka_bootstrap,
    new_postgres_database,
    postgres_base_url,
    sqlite_or_postgres_database,
    token_for,
)

__all__ = [
    "auth_dir",
    "kafka_bootstrap",
    "new_postgres_database",
    "postgres_base_url",
    "sqlite_or_postgres_database",
    "token_for",
]
