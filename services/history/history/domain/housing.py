"""The municipality's housing view: which households are linked to a municipality (koppeling) and what
housing them needs — how many people, and whether (and since when) they hold a residence permit.

Derived from immutable facts, like the residence history: the household's registration (its members,
for the size), COA's link to a municipality, and the IND's residence permit. The three come from three
topics and may arrive in any order; the view depends only on the set of facts, never on their order, so
a rebuild gives the same answer as the live read side.

Nothing else is kept: no names, no nationality, no asylum grounds or hearing details, no locations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shared.contracts import Event
from shared.contracts.intake import HouseholdRegistered
from shared.contracts.placement import HouseholdLinkedToMunicipality
from shared.contracts.procedure import ResidencePermitGranted


class HousingFactKind(StrEnum):
    REGISTERED = "registered"  # intake: the household and its members
    LINKED = "linked"  # placement (COA): linked to a municipality that will house it
    PERMIT = "permit"  # procedure (IND): residence permit granted


class PermitStatus(StrEnum):
    GRANTED = "granted"
    # A household is linked after its permit, but the two facts travel on different topics: until the
    # permit's fact has reached the read side, the view says so rather than guess.
    NOT_RECORDED = "not-recorded"


@dataclass(frozen=True, kw_only=True, slots=True)
class HousingFact:
    event_id: str
    household_id: str
    kind: HousingFactKind
    occurred_at: datetime
    recorded_at: datetime
    person_ids: tuple[str, ...]
    municipality: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class HousingHousehold:
    household_id: str
    municipality: str
    linked_on: datetime
    household_size: int | None  # None until the household's registration has reached the read side
    permit_status: PermitStatus
    permit_granted_on: datetime | None


HOUSING_EVENTS: tuple[type[Event], ...] = (
    HouseholdRegistered,
    HouseholdLinkedToMunicipality,
    ResidencePermitGranted,
)


def fact_of(event: Event, *, event_id: str, recorded_at: datetime) -> HousingFact:
    """The part of `event` the housing view keeps."""
    match event:
        case HouseholdRegistered():
            kind, person_ids, municipality = (
                HousingFactKind.REGISTERED,
                tuple(m.person_id for m in event.members),
                None,
            )
        case HouseholdLinkedToMunicipality():
            kind, person_ids, municipality = HousingFactKind.LINKED, event.person_ids, event.municipality
        case ResidencePermitGranted():
            kind, person_ids, municipality = HousingFactKind.PERMIT, event.person_ids, None
        case _:
            raise TypeError(f"{type(event).__name__} is no fact of the housing view")
    return HousingFact(
        event_id=event_id,
        household_id=event.subject,
        kind=kind,
        occurred_at=event.occurred_at,
        recorded_at=recorded_at,
        person_ids=tuple(person_ids),
        municipality=municipality,
    )


def _order(fact: HousingFact) -> tuple[datetime, datetime, str]:
    return fact.occurred_at, fact.recorded_at, fact.event_id


def housing_household(facts: Iterable[HousingFact]) -> HousingHousehold | None:
    """The housing view of one household from its facts (in any order); None while it is not linked.

    COA links a household once; should a second link ever arrive (a correction), the latest in valid
    time holds. The size counts the distinct members registered; the permit date is the first permit's.
    """
    kinds: dict[HousingFactKind, list[HousingFact]] = {kind: [] for kind in HousingFactKind}
    for fact in facts:
        kinds[fact.kind].append(fact)
    if not kinds[HousingFactKind.LINKED]:
        return None
    link = max(kinds[HousingFactKind.LINKED], key=_order)
    assert link.municipality is not None
    registered = kinds[HousingFactKind.REGISTERED]
    permits = kinds[HousingFactKind.PERMIT]
    first_permit = min(permits, key=_order) if permits else None
    return HousingHousehold(
        household_id=link.household_id,
        municipality=link.municipality,
        linked_on=link.occurred_at,
        household_size=len({p for fact in registered for p in fact.person_ids}) if registered else None,
        permit_status=PermitStatus.GRANTED if first_permit else PermitStatus.NOT_RECORDED,
        permit_granted_on=first_permit.occurred_at if first_permit else None,
    )


def linked_to(municipality: str | None, households: Iterable[HousingHousehold]) -> list[HousingHousehold]:
    """The households linked to `municipality` now (all of them for None: the auditor's view), in the
    order they were linked."""
    return sorted(
        (h for h in households if municipality is None or h.municipality == municipality),
        key=lambda h: (h.linked_on, h.household_id),
    )
