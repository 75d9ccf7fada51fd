"""A half-open PostgreSQL connection (the chaos run's blackholed link: accepted, never answered, never
closed) must not hang whoever uses it: every statement is bounded, fails, and once the network is back
the engine's pool serves working connections again. Through our fault proxy, on the real server."""

from __future__ import annotations

import asyncio
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from chaos.proxy import FaultProxy, Mode
from shared.contracts import chain_registry
from shared.eventstore import UnitOfWorkFactory
from shared.eventstore.database import create_engine, session_factory
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


async def test_units_of_work_on_half_open_connections_fail_in_bounded_time_and_new_ones_work_after(
    new_postgres_database: NewDatabase,
) -> None:
    # given a service's units of work on a pool of three, every connection through the fault proxy, and
    # three of them checked out by work in progress (as a relay, a consumer and a request would be)
    url = make_url(await new_postgres_database("half_open_units"))
    proxy = FaultProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    engine = create_engine(
        url.set(host="127.0.0.1", port=proxy.listen_port).render_as_string(hide_password=False),
        pool_size=3,
        command_timeout_s=2,
    )
    units = UnitOfWorkFactory(session_factory(engine), chain_registry(), source="urn:test", topic="none")

    async def one_unit(statement: str) -> int:
        async with units() as uow:
            value = int((await uow.session.execute(sa.text(statement))).scalar_one())
            await uow.commit()
            return value

    try:
        assert await asyncio.gather(*(one_unit("SELECT 1") for _ in range(3))) == [1, 1, 1]

        # when the link goes half-open under all three
        await proxy.set_mode(Mode.BLACKHOLE)
        started = time.monotonic()
        outcomes = await asyncio.wait_for(
            asyncio.gather(*(one_unit("SELECT 1") for _ in range(3)), return_exceptions=True), timeout=60
        )
        # then each failed, within the bound, instead of hanging its task for ever
        assert all(isinstance(outcome, Exception) for outcome in outcomes), outcomes
        assert time.monotonic() - started < 30

        # and once the network is back (the half-open connections stay dead), new units of work succeed
        await proxy.set_mode(Mode.PASS)
        recovered = await asyncio.wait_for(
            asyncio.gather(*(one_unit("SELECT 2") for _ in range(3)), return_exceptions=True), timeout=60
        )
        assert recovered == [2, 2, 2]
    finally:
        await engine.dispose()
        await proxy.stop()


async def test_a_lock_held_by_a_session_cut_off_half_open_is_released_by_the_server(
    new_postgres_database: NewDatabase,
) -> None:
    # given the outbox relay's way of leading: a session advisory lock held on a pooled connection, through
    # the fault proxy; the server ends sessions idle for more than a second (two minutes in service)
    url = make_url(await new_postgres_database("half_open_lock"))
    proxy = FaultProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.listen_port).render_as_string(hide_password=False)
    engine = create_engine(proxied, pool_size=2, command_timeout_s=2, idle_session_timeout_s=1)
    lock = sa.text("SELECT pg_try_advisory_lock(4242)")
    try:
        leader = await engine.connect()
        assert (await leader.execute(lock)).scalar_one() is True
        await leader.commit()

        # when the link goes half-open: the leader's check times out and it gives its connection up
        await proxy.set_mode(Mode.BLACKHOLE)
        with pytest.raises(Exception):  # noqa: B017 - a timeout, however the driver words it
            await leader.execute(sa.text("SELECT 1"))
        await leader.invalidate()
        await leader.close()
        await proxy.set_mode(Mode.PASS)

        # then the server ends the cut-off session, and a new leader gets the lock within seconds,
        # where before it never would (the server's session lived on behind the half-open link)
        deadline = time.monotonic() + 20
        while True:
            async with engine.connect() as contender:
                if (await contender.execute(lock)).scalar_one():
                    break
            assert time.monotonic() < deadline, "the cut-off session still holds the lock"
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()
        await proxy.stop()
