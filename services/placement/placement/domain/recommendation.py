"""Where should a household go? Candidate locations ranked, each with the reasons for its rank.

Order (the issue's, from the letter): first the hard constraints — a location that breaks one is never
recommended, only listed as excluded with its reasons; then fewest moves (a durable main-form location
needs no further move, a temporary one will), then staying near (first-degree family at the location,
the same province as now — school continuity — or at least the same school-holiday region), then the
province's share of the national target (Spreidingswet: provinces furthest below their share first),
then avoiding the locations flagged to be avoided (crisis emergency, temporary municipal). Ties: the
location with most free places, then by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from placement.domain.location import Location
from shared.calendar import region_of
from shared.contracts.placement import LocationType


class Purpose(StrEnum):
    REGISTRATION = "registration"
    PROCESS_ACCELERATED = "process-accelerated"
    PROCESS_NOT_ACCELERATED = "process-not-accelerated"
    CLOSURE = "closure"  # a like-for-like place for residents of a closing location
    HTL = "htl"
    IBO = "ibo"
    BACK_FROM_SPECIAL_FORM = "back-from-special-form"
    VBL = "vbl"
    FAMILY_LOCATION = "family-location"
    OWN_REQUEST = "own-request"


TEMPORARY = frozenset(
    {LocationType.NOODOPVANG, LocationType.CRISISNOODOPVANG, LocationType.TGO, LocationType.WAITING_LOCATION}
)
MAIN_FORMS = (LocationType.AZC_AANMELD, LocationType.AZC_VERSNELD, LocationType.AZC_REGULIER)


@dataclass(frozen=True, kw_only=True, slots=True)
class HouseholdProfile:
    size: int
    has_children: bool
    current: Location | None = None
    family_location_ids: frozenset[str] = frozenset()
    family_provinces: frozenset[str] = frozenset()


@dataclass(frozen=True, kw_only=True, slots=True)
class ProvinceShare:
    province: str
    target: int
    realised: int

    @property
    def fill(self) -> float:
        return self.realised / self.target if self.target else float("inf")


@dataclass(frozen=True, kw_only=True, slots=True)
class Recommendation:
    location: Location
    rank: int
    reasons: tuple[str, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Exclusion:
    location: Location
    reasons: tuple[str, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Ranking:
    recommended: tuple[Recommendation, ...]
    excluded: tuple[Exclusion, ...] = field(default_factory=tuple)

    @property
    def best(self) -> Location | None:
        return self.recommended[0].location if self.recommended else None


def wanted_types(purpose: Purpose, current: Location | None) -> tuple[LocationType, ...]:
    if purpose is Purpose.REGISTRATION:
        return (LocationType.AZC_AANMELD, LocationType.WAITING_LOCATION)
    if purpose is Purpose.PROCESS_ACCELERATED:
        return (LocationType.AZC_VERSNELD,)
    if purpose is Purpose.PROCESS_NOT_ACCELERATED:
        return (LocationType.AZC_REGULIER,)
    if purpose is Purpose.HTL:
        return (LocationType.HTL,)
    if purpose is Purpose.IBO:
        return (LocationType.IBO,)
    if purpose is Purpose.VBL:
        return (LocationType.VBL,)
    if purpose is Purpose.FAMILY_LOCATION:
        return (LocationType.FAMILY_LOCATION,)
    if purpose is Purpose.BACK_FROM_SPECIAL_FORM:
        return (LocationType.AZC_VERSNELD, LocationType.AZC_REGULIER)
    if purpose is Purpose.CLOSURE and current is not None:
        # Like for like; a resident of a temporary location may go to a durable one of the same stage.
        if current.location_type in TEMPORARY:
            return (current.location_type, LocationType.AZC_REGULIER)
        return (current.location_type,)
    return (LocationType.AZC_VERSNELD, LocationType.AZC_REGULIER, LocationType.MUNICIPAL)


def hard_violations(
    household: HouseholdProfile, location: Location, types: Iterable[LocationType]
) -> list[str]:
    """Every hard constraint `location` breaks for `household` (empty: it may be recommended)."""
    violations = []
    if location.location_type not in tuple(types):
        violations.append(f"type {location.location_type.value} does not serve this purpose")
    if household.current is not None and location.location_id == household.current.location_id:
        violations.append("the household already stays here")
    if location.closed or location.closing_at is not None:
        violations.append("closing or closed")
    if location.free_places < household.size:
        violations.append(f"{location.free_places} free places, {household.size} needed")
    if household.has_children and location.near_open_water:
        violations.append("near open water: no children are placed here")
    if household.has_children and location.location_type is LocationType.KWV_AMV:
        violations.append("small-scale housing is for unaccompanied minors")
    return violations


def _sort_key(
    household: HouseholdProfile, location: Location, shares: Mapping[str, ProvinceShare]
) -> tuple[int, int, float, int, int, str]:
    further_moves = 1 if location.location_type in TEMPORARY else 0
    share = shares.get(location.province)
    return (
        further_moves,
        _nearness(household, location),
        share.fill if share else 1.0,
        int(location.location_type.to_be_avoided),
        -location.free_places,
        location.name,
    )


def _nearness(household: HouseholdProfile, location: Location) -> int:
    if location.location_id in household.family_location_ids:
        return 0
    current_province = household.current.province if household.current else None
    if location.province == current_province or location.province in household.family_provinces:
        return 1
    if current_province is not None and region_of(location.province) == region_of(current_province):
        return 2
    return 3


def _reasons(
    household: HouseholdProfile, location: Location, shares: Mapping[str, ProvinceShare]
) -> tuple[str, ...]:
    reasons = []
    if location.location_type in TEMPORARY:
        reasons.append(f"{location.location_type.value} is temporary: another move will follow")
    else:
        reasons.append(f"{location.location_type.value} is durable: no further move expected")
    nearness = _nearness(household, location)
    if nearness == 0:
        reasons.append("first-degree family stays at this location")
    elif nearness == 1:
        reasons.append(f"same province ({location.province}): school and family continuity")
    elif nearness == 2:
        reasons.append(f"same school-holiday region ({region_of(location.province).value})")
    else:
        reasons.append(f"another region ({location.province})")
    share = shares.get(location.province)
    if share is not None:
        reasons.append(
            f"{location.province} has realised {share.realised} of its {share.target} places "
            f"({share.fill:.0%} of its Spreidingswet share)"
        )
    if location.location_type.to_be_avoided:
        reasons.append(f"{location.location_type.value} is to be avoided (2024 letter)")
    reasons.append(f"{location.free_places} free places")
    return tuple(reasons)


def recommend(
    household: HouseholdProfile,
    locations: Iterable[Location],
    purpose: Purpose,
    shares: Mapping[str, ProvinceShare] | None = None,
) -> Ranking:
    shares = shares or {}
    types = wanted_types(purpose, household.current)
    candidates, excluded = [], []
    for location in locations:
        violations = hard_violations(household, location, types)
        if violations:
            excluded.append(Exclusion(location=location, reasons=tuple(violations)))
        else:
            candidates.append(location)
    candidates.sort(key=lambda location: _sort_key(household, location, shares))
    recommended = tuple(
        Recommendation(location=location, rank=rank, reasons=_reasons(household, location, shares))
        for rank, location in enumerate(candidates, start=1)
    )
    return Ranking(recommended=recommended, excluded=tuple(excluded))


def province_shares(locations: Iterable[Location], targets: Mapping[str, int]) -> dict[str, ProvinceShare]:
    """Realised places per province: the capacity of its open locations, against its target."""
    realised: dict[str, int] = dict.fromkeys(targets, 0)
    for location in locations:
        if not location.closed:
            realised[location.province] = realised.get(location.province, 0) + location.capacity
    return {
        province: ProvinceShare(province=province, target=targets.get(province, 0), realised=places)
        for province, places in realised.items()
    }
