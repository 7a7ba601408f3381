"""Rooms: every room that ever had a measurement, with its latest, a page at a time."""

import base64
import binascii
import re
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Query, Request, Response

from roomtemp.domain.durations import parse_duration
from roomtemp.domain.measurements import MAX_ROOM_ID_LENGTH, ROOM_ID_PATTERN
from roomtemp.domain.rollups import Summary, plan
from roomtemp.domain.units import Unit, from_kelvin
from roomtemp.http.dependencies import ClockDep, SettingsDep, StoreDep
from roomtemp.http.parameters import UnitQuery
from roomtemp.http.problems import documented_problems, invalid_parameter
from roomtemp.http.schemas import RoomSummary
from roomtemp.retention import horizon

router = APIRouter(tags=["rooms"])


# A page of a thousand rooms is encoded straight from dicts: as pydantic models, validated
# and then serialised, it cost 11 ms of CPU (the database's part of it: about 1 ms).
_ENCODER = msgspec.json.Encoder()
_NEXT_PAGE = {
    "description": 'while more rooms follow: `<...&cursor=...>; rel="next"`, the next page',
    "schema": {"type": "string"},
}


@router.get(
    "/rooms",
    summary="List the rooms",
    response_model=list[RoomSummary],
    response_model_exclude_unset=True,
    responses={
        **documented_problems(422, 503),
        200: {"headers": {"Link": _NEXT_PAGE}},
    },
)
async def get_rooms(
    request: Request,
    store: StoreDep,
    clock: ClockDep,
    settings: SettingsDep,
    unit: UnitQuery = Unit.KELVIN,
    limit: Annotated[int, Query(ge=1, le=10_000, description="rooms per page")] = 1000,
    cursor: Annotated[str | None, Query(description="from the previous page's Link")] = None,
    window: Annotated[
        str | None,
        Query(
            description="also summarise each room over this last duration (e.g. P1D), exactly",
            examples=["P1D"],
        ),
    ] = None,
) -> Response:
    """Sorted by room_id (code point order), a page at a time: while more follow, the answer's
    `Link` header names the next page (`rel="next"`), whose `cursor` continues the list."""
    rooms = await store.rooms(None if cursor is None else _after(cursor), limit + 1)
    headers = {}
    if len(rooms) > limit:
        rooms = rooms[:limit]
        following = request.url.include_query_params(cursor=_cursor(rooms[-1].room_id))
        headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'
    found: list[dict[str, Any]] = [
        {
            "room_id": room.room_id,
            "count": room.summary.count,
            "first_ts": room.summary.first_ts,  # UTC: msgspec writes it with a Z, like format_ts
            "last_ts": room.summary.last_ts,
            "last_v": from_kelvin(room.last_kelvin, unit),
            "u": unit.value,
        }
        for room in rooms
    ]
    if window is not None:
        now = clock()
        since = now - parse_duration(window)
        planned = plan(since, now, raw_from=horizon(now, settings.raw_retention))
        summaries = await store.summarise_rooms([room.room_id for room in rooms], planned.pieces)
        for room in found:
            room["window"] = _window(summaries.get(room["room_id"]), unit)
    return Response(_ENCODER.encode(found), media_type="application/json", headers=headers)


def _window(summary: Summary | None, unit: Unit) -> dict[str, Any] | None:
    if summary is None:
        return None
    return {
        "v": from_kelvin(summary.mean, unit),
        "min": from_kelvin(summary.minimum, unit),
        "max": from_kelvin(summary.maximum, unit),
        "count": summary.count,
    }


def _cursor(after: str) -> str:
    """Opaque to clients: the room_id of the last room sent."""
    return base64.urlsafe_b64encode(after.encode()).decode().rstrip("=")


def _after(cursor: str) -> str:
    """The room_id in a cursor: only ever a room id, which the database can compare (a NUL
    from a forged cursor would be PostgreSQL's error, not the client's)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        after = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, ValueError):
        after = ""
    if not re.fullmatch(ROOM_ID_PATTERN, after) or len(after) > MAX_ROOM_ID_LENGTH:
        raise invalid_parameter("cursor", "not a cursor this service gave out")
    return after
