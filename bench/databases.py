"""The benchmarks' scratch databases on the test PostgreSQL: created fresh per measurement and dropped
after it (a full `make bench` creates a dozen, the largest several GB)."""

from __future__ import annotations

import asyncpg
from sqlalchemy import make_url

from shared.ids import new_id
from tests.infrastructure import POSTGRES_BASE


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def fresh_database(purpose: str) -> str:
    """A new, empty database named after `purpose` (so a left-over one says which benchmark left it)."""
    name = f"bench_{purpose}_{new_id().replace('-', '')[-10:]}"
    connection = await asyncpg.connect(asyncpg_dsn(f"{POSTGRES_BASE}/postgres"))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return f"{POSTGRES_BASE}/{name}"


async def drop(url: str) -> None:
    """Drop the database, closing what is still connected to it."""
    connection = await asyncpg.connect(asyncpg_dsn(f"{POSTGRES_BASE}/postgres"))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        await connection.close()
