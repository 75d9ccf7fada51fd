"""Crash points: named places where the chaos runner (chaos/) can make a service die with SIGKILL, to hit
the windows a random kill -9 rarely hits — after Kafka acknowledged a batch but before the outbox rows
are deleted, after a consumer committed its effect and positions but before it committed the Kafka offset.

`ASIELKETEN_CRASH_POINT=<name>:<n>` arms one point: the process kills itself the n-th time it passes it.
Unset (always, outside a chaos run) a crash point is a comparison of two strings. Refused in production.
"""

from __future__ import annotations

import os
import signal

OUTBOX_PUBLISHED_NOT_DELETED = "outbox-published-not-deleted"
CONSUMER_COMMITTED_NOT_OFFSET = "consumer-committed-not-offset"
CRASH_POINTS = (OUTBOX_PUBLISHED_NOT_DELETED, CONSUMER_COMMITTED_NOT_OFFSET)


def _armed() -> tuple[str, int]:
    name, _, count = os.environ.get("ASIELKETEN_CRASH_POINT", "").partition(":")
    if not name or os.environ.get("ASIELKETEN_ENV") == "production":
        return "", 0
    return name, int(count or 1)


_ARMED_NAME, _passes_left = _armed()


def crash_point(name: str) -> None:
    """Die here (SIGKILL, no clean-up, as kill -9 from outside) if this point is armed and due."""
    global _passes_left
    if name != _ARMED_NAME:
        return
    _passes_left -= 1
    if _passes_left <= 0:
        os.kill(os.getpid(), signal.SIGKILL)
