"""Summaries of a room over a window: the average (the original query) and a series."""

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Query

from roomtemp import queries
from roomtemp.domain.durations import parse_duration
from roomtemp.domain.series import bucket_edges
from roomtemp.domain.units import Unit, from_kelvin
from roomtemp.http.dependencies import ClockDep, SettingsDep, StoreDep
from roomtemp.http.parameters import DurationPath, EndQuery, RoomId, UnitQuery, parse_timestamp
from roomtemp.http.problems import documented_problems, invalid_parameter
from roomtemp.http.schemas import Average, Point, Series
from roomtemp.retention import horizon

router = APIRouter(tags=["measurements"])


@router.get(
    "/measurements/{room_id}/average/{duration}",
    summary="Average a room over a window",
    responses=documented_problems(404, 422, 503),
)
async def get_average(
    room_id: RoomId,
    duration: DurationPath,
    store: StoreDep,
    clock: ClockDep,
    settings: SettingsDep,
    unit: UnitQuery = Unit.KELVIN,
    end: EndQuery = None,
) -> Average:
    """The exact mean, min and max of the room's measurements with end - duration <= ts <= end."""
    now = clock()
    since, until = window(duration, end, now)
    found = await queries.window(
        store, room_id, since, until, raw_from=horizon(now, settings.raw_retention)
    )
    summary = found.summary
    return Average(
        v=from_kelvin(summary.mean, unit),
        u=unit,
        ts=summary.first_ts,
        count=summary.count,
        min=from_kelvin(summary.minimum, unit),
        max=from_kelvin(summary.maximum, unit),
        start=found.start,
        end=found.end,
        exact=found.exact,
    )


@router.get(
    "/measurements/{room_id}/series/{duration}",
    summary="A room over a window, bucket by bucket (for charts)",
    responses=documented_problems(404, 422, 503),
)
async def get_series(
    room_id: RoomId,
    duration: DurationPath,
    bucket: Annotated[
        str, Query(description="bucket size, ISO 8601, at least PT1S", examples=["PT1H"])
    ],
    store: StoreDep,
    clock: ClockDep,
    settings: SettingsDep,
    unit: UnitQuery = Unit.KELVIN,
    end: EndQuery = None,
    tz: Annotated[
        str, Query(description="IANA time zone: buckets of a day or more start at its midnight")
    ] = "UTC",
) -> Series:
    """Mean, min, max and count per bucket; empty buckets are left out, not reported as zero."""
    now = clock()
    since, until = window(duration, end, now)
    edges = bucket_edges(since, until, parse_duration(bucket), _zone(tz))
    found = await queries.series(
        store, room_id, since, until, edges, raw_from=horizon(now, settings.raw_retention)
    )
    points = [
        Point(
            ts=start,
            v=from_kelvin(summary.mean, unit),
            min=from_kelvin(summary.minimum, unit),
            max=from_kelvin(summary.maximum, unit),
            count=summary.count,
        )
        for start, summary in found.points
    ]
    return Series(
        room_id=room_id,
        u=unit,
        bucket=bucket,
        start=since,
        end=until,
        exact=found.exact,
        points=points,
    )


def window(duration: str, end: str | None, now: datetime) -> tuple[datetime, datetime]:
    """(since, until) of `end - duration <= ts <= end`, `end` defaulting to now."""
    until = now if end is None else parse_timestamp("end", end)
    return until - parse_duration(duration), until


def _zone(name: str) -> ZoneInfo | None:
    if name.upper() == "UTC":
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid_parameter(
            "tz", f"{name!r} is not an IANA time zone, such as Europe/Berlin"
        ) from None
