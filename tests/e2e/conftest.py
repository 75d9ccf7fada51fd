"""The end-to-end fixtures: one stack of the five services for the whole module run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.cli import SERVICES
from tests.e2e.stack import ServiceStack
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


class Chain:
    """An HTTP client per agency, pointed at the right service: how the agencies use the chain."""

    def __init__(self, stack: ServiceStack, token_for: MintToken) -> None:
        self.stack = stack
        self._token_for = token_for
        self._client = httpx.AsyncClient(timeout=10)

    def headers(self, agency: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token_for(agency)}"}

    async def call(
        self, method: str, service: str, path: str, agency: str, json: Any = None
    ) -> httpx.Response:
        return await self._client.request(
            method, self.stack.urls[service] + path, headers=self.headers(agency), json=json
        )

    async def close(self) -> None:
        await self._client.aclose()


@pytest.fixture
async def chain(stack: ServiceStack, token_for: MintToken) -> AsyncIterator[Chain]:
    client = Chain(stack, token_for)
    yield client
    await client.close()
