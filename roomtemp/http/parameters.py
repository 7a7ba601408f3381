"""Path and query parameters shared by the routes, with their documentation and checks."""

from datetime import datetime
from typing import Annotated, Any

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
from roomtemp.http.problems import Problem, invalid_parameter
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


async def known_query_only(request: Request) -> None:
    """Refuse (422, naming it) a query parameter the endpoint does not declare: a typo such as
    `?untl=` must not silently widen a window. What an endpoint declares is read from its
    operation in the OpenAPI document, so a parameter added to a route is known at once."""
    if not request.scope["query_string"]:
        return
    route = request.scope.get("route")
    declared = _declared_query(request.app.openapi(), getattr(route, "path", ""), request.method)
    unknown = [name for name in dict.fromkeys(request.query_params) if name not in declared]
    if unknown:
        takes = f"it takes {', '.join(sorted(declared))}" if declared else "it takes none"
        detail = f"unknown query parameter {', '.join(map(repr, unknown))}: {takes}"
        raise Problem(
            422,
            "unknown_parameter",
            detail,
            [{"parameter": name, "detail": "not a parameter of this endpoint"} for name in unknown],
        )


def _declared_query(document: dict[str, Any], template: str, method: str) -> frozenset[str]:
    operation = (
        document["paths"].get(template, {}).get("get" if method == "HEAD" else method.lower())
    )
    parameters = operation.get("parameters", []) if operation else []
    return frozenset(p["name"] for p in parameters if p["in"] == "query")
