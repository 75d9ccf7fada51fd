"""Aggregates of the read side — occupancy, provinces, flows, streams, moves, system health — for readers
with person-level access (exact) and for aggregate-only readers (under disclosure control). The
dashboard (`/dashboard`) shows exactly these answers."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Query
from pydantic import Field

from history.adapters.metrics_scrape import health_from_metrics, scrape
from history.domain.disclosure import Disclosure
from history.domain.health import READ_MODELS, ServiceHealth
from history.domain.moves import children_policy
from history.domain.occupancy import GroupBy
from history.domain.statistics import (
    FlowKind,
    flows_per_month,
    months_until,
    moves_per_month,
    stream_figures,
)
from history.entrypoints.access import PERSON_LEVEL, STATISTICS, RuntimeDep, applied_first, disclosure_for
from history.entrypoints.moments import DateMeans, MomentParser
from history.entrypoints.routes import KNOWN_AT, VALID_AT
from history.service_layer.moves import all_moves
from history.service_layer.occupancy import occupancy_at, provinces_at
from history.service_layer.statistics import flow_facts, in_province, procedures
from shared.api import ApiModel
from shared.auth import Principal
from shared.contracts.placement import LocationType
from shared.contracts.procedure import ReceptionStream
from shared.metrics import metrics_text

Reader = Annotated[Principal, Depends(applied_first(PERSON_LEVEL, STATISTICS))]
router = APIRouter(prefix="/v1", tags=["statistics"])

VALID_AT_NOW = VALID_AT + "; default now"
MONTHS = "How many calendar months the series covers, ending with the month of validAt"
Months = Annotated[int, Query(ge=1, le=36, description=MONTHS)]
PEOPLE = "People (rounded to tens, and null below 5, under disclosure control)"


class DisclosureOut(ApiModel):
    applied: bool = Field(description="Counts of people are rounded to tens and withheld below 5")
    round_to: int = 10
    suppress_below: int = 5


def _disclosure_out(disclosure: Disclosure) -> DisclosureOut:
    return DisclosureOut(applied=disclosure.controlled)


def _moments(valid_at: str | None, known_at: str | None, now: datetime) -> tuple[datetime, datetime | None]:
    parser = MomentParser()
    valid = parser.parse("validAt", valid_at, DateMeans.END_OF_DAY)
    known = parser.parse("knownAt", known_at, DateMeans.END_OF_DAY)
    parser.raise_if_invalid()
    return valid or now, known


ValidAt = Annotated[str | None, Query(alias="validAt", description=VALID_AT_NOW)]
KnownAt = Annotated[str | None, Query(alias="knownAt", description=KNOWN_AT)]
Province = Annotated[str | None, Query(max_length=50, description="Only this province")]


# --- occupancy and provinces -------------------------------------------------------------------------


class OccupancyRowOut(ApiModel):
    key: str = Field(description="The location id, type, municipality or province")
    name: str
    occupancy: int | None = Field(ge=0, description="People with a stay there at the valid moment. " + PEOPLE)
    capacity: int = Field(ge=0, description="Places registered at the valid moment (0 once closed)")
    locations: int
    to_be_avoided: bool = Field(
        description="Crisis emergency or temporary municipal reception, which the 2024 letter says to avoid "
        "(by type; for a location, by its type)"
    )


class OccupancyOut(ApiModel):
    valid_at: datetime
    known_at: datetime | None
    group_by: GroupBy
    province: str | None
    disclosure_control: DisclosureOut
    total_occupancy: int | None = Field(description=PEOPLE + "; rounded on its own, not summed")
    total_capacity: int
    results: list[OccupancyRowOut]


AVOIDED_TYPES = {t.value for t in LocationType if t.to_be_avoided}


@router.get(
    "/occupancy",
    tags=["occupancy"],
    summary="Occupancy beside capacity per location, type, municipality or province at a valid moment",
)
async def get_occupancy(
    runtime: RuntimeDep,
    principal: Reader,
    valid_at: ValidAt = None,
    known_at: KnownAt = None,
    group_by: Annotated[GroupBy, Query(alias="groupBy")] = GroupBy.LOCATION,
    province: Province = None,
) -> OccupancyOut:
    valid, known = _moments(valid_at, known_at, runtime.clock.now())
    disclosure = disclosure_for(principal)
    async with runtime.units_of_work() as uow:
        rows = await occupancy_at(uow.session, valid, known, group_by, province)
    return OccupancyOut(
        valid_at=valid,
        known_at=known,
        group_by=group_by,
        province=province,
        disclosure_control=_disclosure_out(disclosure),
        total_occupancy=disclosure.count(sum(r.occupancy for r in rows)),
        total_capacity=sum(r.capacity for r in rows),
        results=[
            OccupancyRowOut(
                key=r.key,
                name=r.name,
                occupancy=disclosure.count(r.occupancy),
                capacity=r.capacity,
                locations=r.locations,
                to_be_avoided=r.location_type in AVOIDED_TYPES,
            )
            for r in rows
        ],
    )


class ProvinceOut(ApiModel):
    province: str
    target: int = Field(description="Its share of the national reception target (Spreidingswet)")
    realised: int = Field(description="Places at its open locations at the valid moment")
    realised_share: float = Field(description="realised / target")
    occupancy: int | None = Field(description=PEOPLE)


class ProvincesOut(ApiModel):
    valid_at: datetime
    known_at: datetime | None
    disclosure_control: DisclosureOut
    results: list[ProvinceOut]


@router.get(
    "/provinces",
    tags=["occupancy"],
    summary="Each province's realised places against its Spreidingswet target, and its occupancy",
)
async def get_provinces(
    runtime: RuntimeDep, principal: Reader, valid_at: ValidAt = None, known_at: KnownAt = None
) -> ProvincesOut:
    valid, known = _moments(valid_at, known_at, runtime.clock.now())
    disclosure = disclosure_for(principal)
    async with runtime.units_of_work() as uow:
        rows = await provinces_at(uow.session, valid, known)
    return ProvincesOut(
        valid_at=valid,
        known_at=known,
        disclosure_control=_disclosure_out(disclosure),
        results=[
            ProvinceOut(
                province=r.province,
                target=r.target,
                realised=r.realised,
                realised_share=r.realised_share,
                occupancy=disclosure.count(r.occupancy),
            )
            for r in rows
        ],
    )


# --- flows and streams -------------------------------------------------------------------------------


class FlowMonthOut(ApiModel):
    month: str = Field(examples=["2026-06"])
    registered: int | None = Field(description="People registered (inflow). " + PEOPLE)
    decided: int | None = Field(description="People the IND decided on. " + PEOPLE)
    housed: int | None = Field(description="People whose reception ended: housed by a municipality")
    departed: int | None = Field(description="People who left reception by departure or Dublin transfer")
    other_ends: int | None = Field(
        description="People whose reception ended otherwise (departure period over, LKO, detention)"
    )


class FlowsOut(ApiModel):
    valid_at: datetime
    known_at: datetime | None
    disclosure_control: DisclosureOut
    months: list[FlowMonthOut]


@router.get("/flows", summary="Inflow and outflow per month: registrations, decisions, housing, departures")
async def get_flows(
    runtime: RuntimeDep,
    principal: Reader,
    valid_at: ValidAt = None,
    known_at: KnownAt = None,
    months: Months = 12,
) -> FlowsOut:
    valid, known = _moments(valid_at, known_at, runtime.clock.now())
    disclosure = disclosure_for(principal)
    async with runtime.units_of_work() as uow:
        facts = await flow_facts(uow.session, known)
    series = flows_per_month(facts, valid, months)
    return FlowsOut(
        valid_at=valid,
        known_at=known,
        disclosure_control=_disclosure_out(disclosure),
        months=[
            FlowMonthOut(
                month=month,
                registered=disclosure.count(counts[FlowKind.REGISTERED]),
                decided=disclosure.count(counts[FlowKind.DECIDED]),
                housed=disclosure.count(counts[FlowKind.HOUSED]),
                departed=disclosure.count(counts[FlowKind.DEPARTED]),
                other_ends=disclosure.count(counts[FlowKind.OTHER_END]),
            )
            for month, counts in series.items()
        ],
    )


class StreamOut(ApiModel):
    stream: str = Field(description="accelerated, not-accelerated, or undetermined (not yet)")
    people: int | None = Field(description="People registered by validAt in this stream. " + PEOPLE)
    decided: int | None = Field(description="Of them, decided on by validAt. " + PEOPLE)
    median_days_to_stream: float | None = Field(
        description="Median days from registration to the stream determination (withheld below 5 people "
        "under disclosure control)"
    )
    median_days_to_decision: float | None = Field(description="Median days from registration to decision")


class StreamsOut(ApiModel):
    valid_at: datetime
    known_at: datetime | None
    disclosure_control: DisclosureOut
    results: list[StreamOut]


@router.get("/streams", summary="The accelerated / not accelerated split, and lead times per stream")
async def get_streams(
    runtime: RuntimeDep, principal: Reader, valid_at: ValidAt = None, known_at: KnownAt = None
) -> StreamsOut:
    valid, known = _moments(valid_at, known_at, runtime.clock.now())
    disclosure = disclosure_for(principal)
    async with runtime.units_of_work() as uow:
        people = await procedures(uow.session, valid, known)
    figures = stream_figures(people, [s.value for s in ReceptionStream])
    return StreamsOut(
        valid_at=valid,
        known_at=known,
        disclosure_control=_disclosure_out(disclosure),
        results=[
            StreamOut(
                stream=f.stream,
                people=disclosure.count(f.people),
                decided=disclosure.count(f.decided),
                median_days_to_stream=disclosure.statistic(f.days_to_stream, f.days_to_stream_people),
                median_days_to_decision=disclosure.statistic(f.days_to_decision, f.days_to_decision_people),
            )
            for f in figures
        ],
    )


# --- moves and the children policy -------------------------------------------------------------------


class MoveCountOut(ApiModel):
    month: str
    reason: str
    forced: bool
    moves: int | None = Field(description="Moves of people. " + PEOPLE)


class ChildrenPolicyCountsOut(ApiModel):
    """Counts behind the children-policy lists (`GET /v1/children-policy`, person-level access only),
    over the same months, in all provinces."""

    children_moved_by_force_more_than_once: int | None
    school_age_moves_outside_holidays: int | None
    out_of_region_moves: int | None


class MoveStatisticsOut(ApiModel):
    valid_at: datetime
    known_at: datetime | None
    province: str | None
    valid_from: datetime = Field(description="Start of the first month counted (the children policy too)")
    disclosure_control: DisclosureOut
    months: list[str]
    results: list[MoveCountOut]
    children_policy: ChildrenPolicyCountsOut


@router.get(
    "/move-statistics",
    tags=["moves"],
    summary="Moves per month by reason and forced or not; the children-policy counts",
)
async def get_move_statistics(
    runtime: RuntimeDep,
    principal: Reader,
    valid_at: ValidAt = None,
    known_at: KnownAt = None,
    months: Months = 12,
    province: Annotated[
        str | None, Query(max_length=50, description="Moved from or to this province")
    ] = None,
) -> MoveStatisticsOut:
    valid, known = _moments(valid_at, known_at, runtime.clock.now())
    disclosure = disclosure_for(principal)
    series = months_until(valid, months)
    start = datetime.fromisoformat(f"{series[0]}-01T00:00:00+00:00")
    async with runtime.units_of_work() as uow:
        moves = [
            m
            for m in await all_moves(uow.session, known_at=known, valid_from=start)
            if m.occurred_at <= valid
        ]
    policy = children_policy(moves)
    return MoveStatisticsOut(
        valid_at=valid,
        known_at=known,
        province=province,
        valid_from=start,
        disclosure_control=_disclosure_out(disclosure),
        months=series,
        results=[
            MoveCountOut(month=c.month, reason=c.reason, forced=c.forced, moves=disclosure.count(c.moves))
            for c in moves_per_month(in_province(moves, province), valid, months)
        ],
        children_policy=ChildrenPolicyCountsOut(
            children_moved_by_force_more_than_once=disclosure.count(len(policy.forced_more_than_once)),
            school_age_moves_outside_holidays=disclosure.count(len(policy.school_age_outside_holidays)),
            out_of_region_moves=disclosure.count(len(policy.out_of_region)),
        ),
    )


# --- system health -----------------------------------------------------------------------------------


class ConsumerHealthOut(ApiModel):
    consumer: str
    lag_messages: int = Field(description="Messages on Kafka not yet applied")
    read_model_lag_seconds: float = Field(description="Apply delay of the last event applied")
    dead_lettered: int


class ServiceHealthOut(ApiModel):
    service: str
    reachable: bool
    error: str | None
    outbox_backlog: int | None = Field(description="Events not yet on Kafka (null: publishes nothing)")
    consumers: list[ConsumerHealthOut]


class ReadModelHealthOut(ApiModel):
    read_model: str
    consumer: str
    lag_messages: int | None


class SystemHealthOut(ApiModel):
    services: list[ServiceHealthOut]
    read_models: list[ReadModelHealthOut]


@router.get(
    "/system-health",
    tags=["operations"],
    summary="Outbox backlog per service, consumer lag per read model, dead-letter counts (from /metrics)",
)
async def get_system_health(runtime: RuntimeDep, _: Reader) -> SystemHealthOut:
    own = health_from_metrics(
        runtime.definition.name, metrics_text(await runtime.metrics_snapshot()).decode()
    )
    peers = runtime.settings.peers
    async with httpx.AsyncClient() as client:
        others = await asyncio.gather(*(scrape(client, name, url) for name, url in sorted(peers.items())))
    services: list[ServiceHealth] = [own, *others]
    lag = {c.consumer: c.lag_messages for c in own.consumers}
    return SystemHealthOut(
        services=[
            ServiceHealthOut(
                service=s.service,
                reachable=s.reachable,
                error=s.error,
                outbox_backlog=s.outbox_backlog,
                consumers=[
                    ConsumerHealthOut(
                        consumer=c.consumer,
                        lag_messages=c.lag_messages,
                        read_model_lag_seconds=c.read_model_lag_seconds,
                        dead_lettered=c.dead_lettered,
                    )
                    for c in s.consumers
                ],
            )
            for s in services
        ],
        read_models=[
            ReadModelHealthOut(read_model=model, consumer=consumer, lag_messages=lag.get(consumer))
            for model, consumer in READ_MODELS.items()
        ],
    )
