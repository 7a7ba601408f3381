"""Path and query parameters shared by the routes, with their documentation and checks."""

import unicodedata
from datetime import datetime
from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Path, Query, Request
from pydantic import WithJsonSchema

from roomtemp.domain.measurements import (
    MAX_ROOM_ID_LENGTH,
    ROOM_ID_PATTERN,
    InvalidTimestamp,
    TimestampOutOfRange,
    parse_ts,
)
from roomtemp.http.problems import invalid_parameter
from roomtemp.http.schemas import UnitParameter

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


def check_utf8_path(request: Request, room_id: str) -> None:
    # The server decodes %FF and other invalid UTF-8 to U+FFFD, which would silently name
    # another room: look at the raw path whenever one appears.
    if "\ufffd" in room_id:
        try:
            unquote(request.scope.get("raw_path", b"").decode("ascii"), errors="strict")
        except UnicodeDecodeError:
            raise invalid_parameter("room_id", "the room id is not valid UTF-8") from None


async def room_id_in_path(request: Request, room_id: RoomIdPath) -> str:
    check_utf8_path(request, room_id)
    return unicodedata.normalize("NFC", room_id)  # as every room id was stored


RoomId = Annotated[str, Depends(room_id_in_path)]


def parse_timestamp(parameter: str, text: str) -> datetime:
    """An RFC 3339 query parameter, read as bodies read ts (naive means UTC)."""
    try:
        return parse_ts(text)
    except (InvalidTimestamp, TimestampOutOfRange) as error:
        raise invalid_parameter(parameter, f"{parameter}={text!r}: {error}") from None
