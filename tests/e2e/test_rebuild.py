"""Rebuilding the read side from offset 0 into a fresh database gives exactly the live read models."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from history.entrypoints.rebuild import REBUILD_GROUP, checksums, end_offsets, rebuild
from shared.cli import EVENT_TOPICS
from shared.envelope import KafkaMessage
from shared.eventstore.database import create_engine
from shared.eventstore.schema import consumer_positions
from shared.ids import new_id
from shared.kafka import dead_letter_topic, ensure_topics
from tests.e2e.stack import Chain
from tests.e2e.test_chain_flow import _register
from tests.fixtures import NewDatabase, eventually
from tests.helpers import new_topic, produce, read_topic


async def test_the_rebuilt_read_side_equals_the_live_one(
    chain: Chain, kafka_bootstrap: str, new_postgres_database: NewDatabase
) -> None:
    # some history of our own, in case this test runs alone
    await _register(chain, [{"role": "adult", "birthYear": 1991, "nationality": "AFG"}])
    live_url = chain.stack.database_urls["history"]
    live = create_engine(live_url)

    async def live_caught_up() -> bool:
        ends = await end_offsets(kafka_bootstrap, EVENT_TOPICS)
        async with live.connect() as connection:
            rows = await connection.execute(
                sa.select(consumer_positions).where(consumer_positions.c.consumer == "history")
            )
            positions = {(r.topic, r.partition): r.next_offset for r in rows}
        behind = {
            f"{tp.topic}[{tp.partition}]": (positions.get((tp.topic, tp.partition), 0), end)
            for tp, end in ends.items()
            if end and positions.get((tp.topic, tp.partition), 0) < end
        }
        return not behind

    await eventually(live_caught_up, timeout=60, what="the live read side to apply every event")
    await live.dispose()

    out = io.StringIO()
    fresh = await new_postgres_database("history_rebuild")
    result = await rebuild(fresh, kafka_bootstrap, out=out, timeout_s=120)

    assert result["events"] > 0 and result["events_per_s"] > 0
    assert "events/s" in out.getvalue() and out.getvalue().startswith("\rrebuild: ")
    live_sums, rebuilt_sums = await checksums(live_url), await checksums(fresh)
    assert rebuilt_sums == live_sums
    assert int(live_sums["placement_facts"].split(":")[0]) > 0

    # and one model can be rebuilt on its own: the timeline (with the household members it needs)
    # equals the live one, and nothing else was written nor handed to the live consumer's name
    only_timeline = await new_postgres_database("history_rebuild_timeline")
    await rebuild(only_timeline, kafka_bootstrap, models=["timeline"], out=io.StringIO(), timeout_s=120)
    assert await checksums(only_timeline, ["timeline"]) == await checksums(live_url, ["timeline"])
    assert (await checksums(only_timeline, ["residence"]))["placement_facts"].startswith("0:")
    partial = create_engine(only_timeline)
    async with partial.connect() as connection:
        names = set((await connection.execute(sa.select(consumer_positions.c.consumer))).scalars())
    await partial.dispose()
    assert names == {"history-rebuild"}


async def test_an_unknown_read_model_is_refused_before_anything_is_read(
    kafka_bootstrap: str, new_postgres_database: NewDatabase
) -> None:
    target = await new_postgres_database("history_rebuild_unknown")
    with pytest.raises(ValueError, match=r"unknown read model\(s\) stays; known: residence"):
        await rebuild(target, kafka_bootstrap, models=["stays"])


async def test_a_rebuild_passes_a_poison_message_to_its_own_dead_letter_topic_and_finishes(
    kafka_bootstrap: str, new_postgres_database: NewDatabase
) -> None:
    # given a topic whose history holds a message that is no CloudEvent (the chaos run poisons one so)
    topic = new_topic("rebuild-poison")
    await ensure_topics(kafka_bootstrap, {topic: 1})
    key = f"poison-{new_id()}"
    await produce(kafka_bootstrap, topic, [KafkaMessage(key=key.encode(), value=b"not an event", headers=[])])

    # when the read side is rebuilt from it
    target = await new_postgres_database("history_rebuild_poison")
    result = await rebuild(target, kafka_bootstrap, topics=[topic], out=io.StringIO(), timeout_s=60)

    # then the rebuild reached the end of the topic instead of waiting for ever on a dead-letter topic
    # that did not exist, and the message is on the rebuild's own dead-letter topic
    assert result["events"] == 1
    dead = await read_topic(kafka_bootstrap, dead_letter_topic(REBUILD_GROUP))
    assert key in {(record.key or b"").decode() for record in dead}
