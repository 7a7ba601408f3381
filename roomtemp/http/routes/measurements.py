"""The original two endpoints: store one measurement, average a room over a window."""

from datetime import datetime
from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import TypeAdapter, ValidationError, WithJsonSchema

from roomtemp import ingestion
from roomtemp.domain.durations import parse_duration
from roomtemp.domain.measurements import (
    MAX_ROOM_ID_LENGTH,
    ROOM_ID_PATTERN,
    EmptyWindow,
    TimestampOutOfRange,
    UnknownRoom,
    as_utc,
)
from roomtemp.domain.units import Unit, from_kelvin
from roomtemp.http.dependencies import ClockDep, LimitsDep, StoreDep
from roomtemp.http.json_body import read_json
from roomtemp.http.metrics import count_stored
from roomtemp.http.openapi import request_body
from roomtemp.http.problems import documented_problems, invalid_parameter
from roomtemp.http.schemas import TIMESTAMP, Average, MeasurementIn, StoredMeasurement, UnitField

router = APIRouter(tags=["measurements"])

RoomIdPath = Annotated[
    str,
    Path(
        alias="room_id",
        min_length=1,
        max_length=MAX_ROOM_ID_LENGTH,
        pattern=ROOM_ID_PATTERN,
        description="any Unicode text without control characters; URL-encode spaces as %20",
        examples=["Living room"],
    ),
]
MEASUREMENT_IN = TypeAdapter(MeasurementIn)


async def room_id_in_path(request: Request, room_id: RoomIdPath) -> str:
    # The server decodes %FF and other invalid UTF-8 to U+FFFD, which would silently name
    # another room: look at the raw path whenever one appears.
    if "\ufffd" in room_id:
        try:
            unquote(request.scope.get("raw_path", b"").decode("ascii"), errors="strict")
        except UnicodeDecodeError:
            raise invalid_parameter("room_id", "the room id is not valid UTF-8") from None
    return room_id


RoomId = Annotated[str, Depends(room_id_in_path)]


@router.post(
    "/measurements/{room_id}",
    status_code=201,
    summary="Store one measurement",
    openapi_extra=request_body(MeasurementIn),
    responses=documented_problems(400, 409, 413, 415, 422, 503),
)
async def post_measurement(
    room_id: RoomId, request: Request, store: StoreDep, clock: ClockDep, limits: LimitsDep
) -> StoredMeasurement:
    """Store a measurement durably; posting the same one again is harmless (201, nothing new).
    The same room and ts with another value is a conflict (409)."""
    posted = await read_json(request, MEASUREMENT_IN)
    stored = await ingestion.record(
        store, room_id, posted.v, posted.u, posted.ts, now=clock(), limits=limits
    )
    count_stored(request, 1)
    return StoredMeasurement(room_id=room_id, v=posted.v, u=posted.u, ts=stored.ts)


@router.get(
    "/measurements/{room_id}/average/{duration}",
    summary="Average a room over a window",
    responses=documented_problems(404, 422, 503),
)
async def get_average(
    room_id: RoomId,
    duration: Annotated[
        str,
        Path(description="ISO 8601: PT15M, PT1H30M, P1D, P1W (not P1M/P1Y)", examples=["PT15M"]),
    ],
    store: StoreDep,
    clock: ClockDep,
    unit: Annotated[UnitField, Query()] = Unit.KELVIN,
    end: Annotated[
        str | None,
        Query(description="the window's end, RFC 3339 (default now); encode + as %2B"),
        WithJsonSchema({"type": "string", "format": "date-time"}),
    ] = None,
) -> Average:
    """The exact mean, min and max of the room's measurements with end - duration <= ts <= end."""
    until = clock() if end is None else parse_end(end)
    since = until - parse_duration(duration)
    stats = await store.window_stats(room_id, since, until)
    if stats is None:
        if await store.has_room(room_id):
            raise EmptyWindow(room_id, since, until)
        raise UnknownRoom(room_id)
    return Average(
        v=from_kelvin(stats.mean, unit),
        u=unit,
        ts=stats.first_ts,
        count=stats.count,
        min=from_kelvin(stats.minimum, unit),
        max=from_kelvin(stats.maximum, unit),
        start=since,
        end=until,
    )


def parse_end(text: str) -> datetime:
    try:
        return as_utc(TIMESTAMP.validate_strings(text))
    except (ValidationError, TimestampOutOfRange) as error:
        message = error.errors()[0]["msg"] if isinstance(error, ValidationError) else str(error)
        raise invalid_parameter("end", f"end={text!r}: {message}") from None
