"""Errors the services' pure domain code raises; the HTTP edge maps them to problem+json.

They carry a stable `code` so an integrating agency can act on the reason, not on the wording.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from shared.contracts.base import Event


class DomainError(Exception):
    code = "domain-error"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code


class NotFound(DomainError):
    """The case, person or location does not exist (HTTP 404)."""

    code = "not-found"


class RuleViolation(DomainError):
    """The command breaks a rule of the domain or does not fit the current state (HTTP 409)."""

    code = "rule-violation"


class PreconditionFailed(DomainError):
    """The caller's `If-Match` version is not the aggregate's current version (HTTP 412)."""

    code = "precondition-failed"


State = TypeVar("State")


def fold(
    evolve: Callable[[State | None, Event], State | None],
    events: Iterable[Event],
    state: State | None = None,
) -> State | None:
    """An aggregate's state: the left fold of `evolve` over its events, from `state` (None: no history)."""
    for event in events:
        state = evolve(state, event)
    return state
