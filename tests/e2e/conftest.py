"""The end-to-end fixtures: one stack of the five services for the whole module run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.cli import SERVICES
from tests.e2e.stack import Chain, ServiceStack
from tests.fixtures import MintToken, NewDatabase


@pytest.fixture(scope="session")
async def stack(
    kafka_bootstrap: str,
    new_postgres_database: NewDatabase,
    auth_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[ServiceStack]:
    databases = {name: await new_postgres_database(name) for name in SERVICES}
    services = ServiceStack(
        kafka_bootstrap=kafka_bootstrap,
        database_urls=databases,
        jwks_path=auth_dir / "jwks.json",
        log_dir=tmp_path_factory.mktemp("stack"),
    )
    services.start()
    yield services
    services.stop()


@pytest.fixture
async def chain(stack: ServiceStack, token_for: MintToken) -> AsyncIterator[Chain]:
    client = Chain(stack, token_for)
    try:
        yield client
        # every end-to-end test doubles as an access-log check of the reads it made
        await client.verify_access_log()
    finally:
        await client.close()
