"""A half-open PostgreSQL connection (the chaos run's blackholed link: accepted, never answered, never
closed) must not hang whoever uses it: every statement is bounded, fails, and once the network is back
the engine's pool serves working connections again. Through our fault proxy, on the real server."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from chaos.proxy import FaultProxy, Mode
from shared.eventstore.database import create_engine
from tests.fixtures import NewDatabase

pytestmark = [pytest.mark.postgres]


async def test_a_statement_on_a_half_open_connection_fails_in_bounded_time_and_the_pool_recovers(
    new_postgres_database: NewDatabase,
) -> None:
    # given an engine whose connections go through a fault proxy, with one pooled connection in use
    url = make_url(await new_postgres_database("half_open"))
    proxy = FaultProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    engine = create_engine(
        url.set(host="127.0.0.1", port=proxy.listen_port).render_as_string(hide_password=False),
        pool_size=1,
        command_timeout_s=2,
    )
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(sa.text("SELECT 1"))).scalar_one() == 1

        # when the link goes half-open and a statement is sent on the pooled connection
        await proxy.set_mode(Mode.BLACKHOLE)
        started = time.monotonic()
        with pytest.raises(Exception):  # noqa: B017 - a timeout, however the driver words it
            async with engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))

        # then it failed within the bound instead of waiting for ever
        assert time.monotonic() - started < 15

        # and once the network is back, the same engine works again
        await proxy.set_mode(Mode.PASS)
        async with engine.connect() as connection:
            assert (await connection.execute(sa.text("SELECT 2"))).scalar_one() == 2
    finally:
        await engine.dispose()
        await proxy.stop()
