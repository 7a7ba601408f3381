"""Path and query parameters shared by the routes, with their documentation and checks."""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from pydantic import WithJsonSchema

from roomtemp.domain.measurements import (
    MAX_ROOM_ID_LENGTH,
    ROOM_ID_PATTERN,
    InvalidRoomId,
    InvalidTimestamp,
    TimestampOutOfRange,
    check_room_id,
    parse_ts,
)
from roomtemp.http.problems import invalid_parameter
from roomtemp.http.room_paths import RoomSegmentNotUtf8, room_id_of
from roomtemp.http.schemas import UnitParameter

# Checked once decoded (room_id_in_path), not here: the router sees the segment still
# percent-encoded (see room_paths.py), and 128 characters may take 1,536 to encode.
ROOM_ID_DESCRIPTION = (
    "any Unicode text without control characters, percent-encoded: every character but"
    " letters, digits, - and _ (a / as %2F, a . as %2E)"
)
RoomIdPath = Annotated[
    str,
    Path(
        alias="room_id",
        description=ROOM_ID_DESCRIPTION,
        examples=["Living room"],
        json_schema_extra={
            "minLength": 1,
            "maxLength": MAX_ROOM_ID_LENGTH,
            "pattern": ROOM_ID_PATTERN,
        },
    ),
]
DurationPath = Annotated[
    str,
    Path(description="ISO 8601: PT15M, PT1H30M, P1D, P1W (not P1M/P1Y)", examples=["PT15M"]),
]
UnitQuery = Annotated[UnitParameter, Query()]
_TIMESTAMP = WithJsonSchema({"type": "string", "format": "date-time"})
EndQuery = Annotated[
    str | None,
    Query(description="the window's end, RFC 3339 (default now); encode + as %2B"),
    _TIMESTAMP,
]
StartQuery = Annotated[
    str | None, Query(description="the earliest ts, RFC 3339 (default: the first)"), _TIMESTAMP
]


async def room_id_in_path(request: Request, room_id: RoomIdPath) -> str:
    """The room id of the path, checked like a posted one's: 422 when it cannot name a room."""
    try:
        return check_room_id(room_id_of(request.scope, room_id))
    except (RoomSegmentNotUtf8, InvalidRoomId) as error:
        raise invalid_parameter("room_id", str(error)) from None


RoomId = Annotated[str, Depends(room_id_in_path)]


def parse_timestamp(parameter: str, text: str) -> datetime:
    """An RFC 3339 query parameter, read as bodies read ts (naive means UTC)."""
    try:
        return parse_ts(text)
    except (InvalidTimestamp, TimestampOutOfRange) as error:
        raise invalid_parameter(parameter, f"{parameter}={text!r}: {error}") from None
