"""Path and query parameters shared by the routes, with their documentation and checks."""

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import unquote

import msgspec
from fastapi import Depends, Path, Query, Request
from pydantic import WithJsonSchema

from roomtemp.domain.measurements import (
    MAX_ROOM_ID_LENGTH,
    ROOM_ID_PATTERN,
    TimestampOutOfRange,
    as_utc,
)
from roomtemp.http.problems import Problem, invalid_parameter
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
    return room_id


RoomId = Annotated[str, Depends(room_id_in_path)]


def parse_timestamp(parameter: str, text: str) -> datetime:
    """An RFC 3339 query parameter, read as bodies read ts (naive means UTC)."""
    try:
        return as_utc(msgspec.convert(text, datetime))
    except (msgspec.ValidationError, TimestampOutOfRange) as error:
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
