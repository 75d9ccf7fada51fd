"""Who may read what on the read side, and read-your-writes waiting.

Person-level access (`history:read`): residence histories, timelines, moves and the children-policy
lists, and every aggregate exactly. Aggregate-only access (`statistics:read`, e.g. the provincial and
national steering tables): the aggregates, under disclosure control (history.domain.disclosure) —
applied here, server side, so no client ever receives an unrounded small count it may not see.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Query

from history.domain.disclosure import CONTROLLED, EXACT, Disclosure
from history.service_layer.freshness import wait_until_applied
from shared.access import AccessRecorder, reads_personal_data
from shared.auth import AuthorisationError, Principal
from shared.eventstore.access_log import ProcessingActivity
from shared.http import Problem, authenticated
from shared.runtime import Runtime, runtime_of

PERSON_LEVEL = "history:read"
STATISTICS = "statistics:read"
FRESHNESS_WAIT_S = 5.0
MAX_AFTER_IDS = 200
# Event ids are UUIDs (shared/ids.py). Anything else can never be applied: refused at once, rather than
# holding the request (and a database connection) for the whole wait only to answer 503.
EVENT_ID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
AFTER_PATTERN = rf"^\s*({EVENT_ID}\s*(,\s*{EVENT_ID}\s*)*,?\s*)?$"  # empty: nothing to wait for

RuntimeDep = Annotated[Runtime, Depends(runtime_of)]

# Why the read side serves personal data (the access log names one per read; docs/security.md).
_REGISTRATION = "Vreemdelingenwet 2000 art. 107 (vreemdelingenadministratie)"
RESIDENCE_HISTORY = ProcessingActivity("residence-history", _REGISTRATION)
PERSON_TIMELINE = ProcessingActivity("person-timeline", _REGISTRATION)
MOVES_MONITORING = ProcessingActivity(
    "moves-monitoring", "Wet Centraal Orgaan opvang asielzoekers art. 3; Rva 2005"
)
CHILDREN_POLICY = ProcessingActivity(
    "children-moves-policy", "Verdrag inzake de rechten van het kind art. 3; Rva 2005"
)

ResidenceHistoryRead = Annotated[AccessRecorder, Depends(reads_personal_data(RESIDENCE_HISTORY))]
TimelineRead = Annotated[AccessRecorder, Depends(reads_personal_data(PERSON_TIMELINE))]
MovesRead = Annotated[AccessRecorder, Depends(reads_personal_data(MOVES_MONITORING))]
ChildrenPolicyRead = Annotated[AccessRecorder, Depends(reads_personal_data(CHILDREN_POLICY))]
HOUSING = ProcessingActivity(
    "housing-status-holders", "Huisvestingswet 2014 art. 28 (taakstelling vergunninghouders)"
)
HousingRead = Annotated[AccessRecorder, Depends(reads_personal_data(HOUSING))]


def disclosure_for(principal: Principal) -> Disclosure:
    return EXACT if PERSON_LEVEL in principal.scopes else CONTROLLED


def applied_first(*scopes: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the caller holds one of `scopes` (checked first: no waiting for strangers), then
    the answer waits for the events named in `after`."""

    async def dependency(
        runtime: RuntimeDep,
        principal: Annotated[Principal, Depends(authenticated)],
        after: Annotated[
            str | None,
            Query(
                description="Event ids from a command's X-Event-Ids header, comma-separated: the "
                f"answer waits (at most {FRESHNESS_WAIT_S:.0f} s) until the read side has applied them "
                "all, else 503",
                # documented here, checked below: after the scope, so a stranger learns nothing first
                json_schema_extra={"pattern": AFTER_PATTERN},
            ),
        ] = None,
    ) -> Principal:
        if not principal.scopes & set(scopes):
            raise AuthorisationError(
                f"this operation needs scope {' or '.join(repr(s) for s in scopes)}; the token has "
                f"{', '.join(sorted(principal.scopes)) or 'none'}"
            )
        ids = [part.strip() for part in (after or "").split(",") if part.strip()]
        if len(ids) > MAX_AFTER_IDS or not all(re.fullmatch(EVENT_ID, id_) for id_ in ids):
            reason = f"name at most {MAX_AFTER_IDS} event ids (UUIDs), comma-separated"
            raise Problem(
                400,
                "The request is not valid.",
                reason,
                code="invalid-request",
                invalidParams=[{"name": "query.after", "code": "invalid", "reason": reason}],
            )
        if ids:
            done, applied = await wait_until_applied(runtime.units_of_work, ids, timeout_s=FRESHNESS_WAIT_S)
            if not done:
                raise Problem(
                    503,
                    "The read side has not applied these events yet.",
                    f"{applied} of {len(set(ids))} events named in 'after' were applied within "
                    f"{FRESHNESS_WAIT_S:.0f} s; retry shortly (or check the id).",
                    code="read-model-behind",
                    headers={"Retry-After": "1"},
                )
        return principal

    return dependency
