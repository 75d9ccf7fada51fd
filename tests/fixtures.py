"""Fixtures shared by every test — real servers, fresh databases, development keys and tokens — and
the helpers tests use with them. Registered once, by the repository's root conftest.py, so that the
suites under tests/ and services/*/tests share one Kafka broker and one PostgreSQL per run."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from shared.auth import ensure_dev_keys, mint_token
from shared.ids import new_id
from shared.settings import DEFAULT_AUDIENCE, DEV_ISSUER
from tests.infrastructure import kafka_broker, postgres_server


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap address of a real Apache Kafka broker for this test run."""
    with kafka_broker() as bootstrap:
        yield bootstrap


@pytest.fixture(scope="session")
def postgres_base_url() -> Iterator[str]:
    """`postgresql+asyncpg://user:password@host:port` of a real PostgreSQL server (no database part)."""
    with postgres_server() as base:
        yield base


NewDatabase = Callable[[str], Awaitable[str]]


@pytest.fixture(scope="session")
async def new_postgres_database(postgres_base_url: str) -> AsyncIterator[NewDatabase]:
    """Make a fresh, empty PostgreSQL database; returns its SQLAlchemy URL. Dropped after the run."""
    created: list[str] = []
    url = make_url(postgres_base_url)

    async def admin() -> asyncpg.Connection:
        return await asyncpg.connect(
            user=url.username,
            password=url.password,
            host=url.host,
            port=url.port or 5432,
            database="postgres",
        )

    async def make(prefix: str) -> str:
        name = f"t_{prefix}_{new_id().replace('-', '')[-12:]}"
        connection = await admin()
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        created.append(name)
        return f"{postgres_base_url}/{name}"

    yield make
    from tests.helpers import drop_database

    for name in created:
        await drop_database(f"{postgres_base_url}/{name}")


# The same test on both stores: SQLite (the embedded default) and PostgreSQL, whose locking, COPY and
# types differ enough that a behaviour proven on one is not proven on the other.
@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def sqlite_or_postgres_database(request: pytest.FixtureRequest, tmp_path: Path) -> NewDatabase:
    if request.param == "postgresql":
        postgres: NewDatabase = request.getfixturevalue("new_postgres_database")
        return postgres

    async def sqlite(name: str) -> str:
        return f"sqlite+aiosqlite:///{tmp_path}/{name}.db"

    return sqlite


@pytest.fixture(scope="session")
def auth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("auth")
    ensure_dev_keys(directory)
    return directory


MintToken = Callable[..., str]


@pytest.fixture(scope="session")
def token_for(auth_dir: Path) -> MintToken:
    """`token_for("COA")` → a valid development access token of that agency."""
    private_key = (auth_dir / "dev-private-key.pem").read_bytes()

    def mint(agency: str, **overrides: object) -> str:
        options: dict[str, object] = {"issuer": DEV_ISSUER, "audience": DEFAULT_AUDIENCE}
        options.update(overrides)
        return mint_token(private_key, agency=agency, **options)  # type: ignore[arg-type]

    return mint


async def eventually(
    check: Callable[[], Awaitable[bool]],
    *,
    timeout: float = 30.0,
    interval: float = 0.1,
    what: str = "condition",
) -> None:
    """Poll `check` until it returns True; fail with `what` after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if await check():
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)
