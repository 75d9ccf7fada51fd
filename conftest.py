"""Fixtures for the tests beside each service (services/*/tests): the same development keys, tokens
and PostgreSQL databases the suite under tests/ uses."""

from tests.conftest import auth_dir, new_postgres_database, postgres_base_url, token_for

__all__ = ["auth_dir", "new_postgres_database", "postgres_base_url", "token_for"]
