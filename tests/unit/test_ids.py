"""Event ids are UUIDv7: version 7, RFC 9562 variant, time-ordered and increasing within a process."""

from __future__ import annotations

import itertools
import time
import uuid

from shared.ids import new_id, uuid7


def test_an_id_is_a_version_7_uuid_of_the_rfc_variant() -> None:
    identifier = uuid.UUID(new_id())

    assert identifier.version == 7
    assert identifier.variant == uuid.RFC_4122


def test_an_id_starts_with_the_current_unix_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    identifier = uuid7()
    after = time.time_ns() // 1_000_000

    assert before <= identifier.int >> 80 <= after + 1


def test_ids_made_in_a_burst_increase_strictly() -> None:
    # given many ids made faster than the clock ticks (several thousand share a millisecond)
    ids = [uuid7() for _ in range(20_000)]

    # then each is greater than the one before, as a number and as the canonical string
    assert all(earlier.int < later.int for earlier, later in itertools.pairwise(ids))
    texts = [str(identifier) for identifier in ids]
    assert texts == sorted(texts)
    assert len(set(texts)) == len(texts)
