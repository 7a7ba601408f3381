"""Measurements: store one (the original endpoint), store many, read them back."""

import base64
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Annotated

import msgspec
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from roomtemp import ingestion
from roomtemp.domain.measurements import (
    EARLIEST,
    MAX_ROOM_ID_LENGTH,
    ROOM_ID_PATTERN,
    UnknownRoom,
    format_ts,
)
from roomtemp.domain.rollups import MICROSECOND
from roomtemp.domain.units import Unit, from_kelvin, parse_unit
from roomtemp.http.batch_body import read_batch
from roomtemp.http.dependencies import ClockDep, ServicesDep, StoreDep
from roomtemp.http.json_body import read_measurement
from roomtemp.http.openapi import batch_body, request_body, schema_of
from roomtemp.http.parameters import (
    ROOM_ID_DESCRIPTION,
    EndQuery,
    RoomId,
    StartQuery,
    UnitQuery,
    known_query_only,
    parse_timestamp,
)
from roomtemp.http.problems import documented_problems, invalid_parameter
from roomtemp.http.room_paths import RoomSegmentNotUtf8, room_id_of
from roomtemp.http.schemas import (
    BatchResult,
    Page,
    PostedMeasurement,
    Reading,
    StoredMeasurement,
)
from roomtemp.http.services import services_of
from roomtemp.storage.base import MeasurementStore

router = APIRouter(tags=["measurements"])
Endpoint = Callable[[Request], Awaitable[Response]]
CSV_PAGE = 10_000


async def post_measurement(request: Request) -> Response:
    """Store a measurement durably; posting the same one again is harmless (201, nothing new).
    The same room and ts with another value is a conflict (409)."""
    services = services_of(request)
    await known_query_only(request)  # not a FastAPI route: its dependencies do not run here
    try:
        room_id = room_id_of(request.scope, request.path_params["room_id"])
    except RoomSegmentNotUtf8 as error:
        raise invalid_parameter("room_id", str(error)) from None
    posted = await read_measurement(request)
    measurement = ingestion.validate(
        room_id, posted.v, posted.u, posted.ts, now=services.clock(), limits=services.limits
    )
    await services.record(measurement)
    services.metrics.count_stored(1)
    answer = {
        "room_id": measurement.room_id,
        "v": posted.v,
        "u": parse_unit(posted.u),
        "ts": measurement.ts,
    }
    return Created(msgspec.json.encode(answer))


class Created(Response):
    """201 with a JSON body: what Response(body, 201, media_type=...) makes, its headers
    written out (Response's own making of them was 0.7 of a single write's ~23 us)."""

    media_type = "application/json"

    def __init__(self, body: bytes) -> None:
        self.status_code = 201
        self.body = body
        self.background = None
        self.raw_headers = [(b"content-length", str(len(body)).encode()), _JSON]


_JSON = (b"content-type", b"application/json")


class TemplateRoute(Route):
    """A Starlette route that leaves itself in the scope when it matches, even only by path
    (a 405), as FastAPI's routes do: the metrics label requests by its template.

    Its endpoint's errors go straight to the app's ExceptionMiddleware, which hands them to
    the same handlers: Starlette's request_response() would catch them first with its own
    copy of that step, a wrapper around each request and each message sent."""

    def __init__(self, path: str, endpoint: Endpoint, *, methods: list[str]) -> None:
        super().__init__(path, endpoint, methods=methods)

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            response = await endpoint(Request(scope, receive))
            await response(scope, receive, send)

        self.app = app

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


# The hottest route is a plain Starlette route: FastAPI's handling of a request (parameters,
# dependencies, response model) cost half of its time, 100 -> 47 us per request in-process,
# measured. The room id is checked by ingestion.validate like a batch item's; the route's
# OpenAPI is written out here instead of derived. The app routes it first (app.py).
POST_MEASUREMENT = TemplateRoute("/measurements/{room_id}", post_measurement, methods=["POST"])
POST_MEASUREMENT_OPENAPI = {
    "tags": ["measurements"],
    "summary": "Store one measurement",
    "description": inspect.cleandoc(post_measurement.__doc__ or ""),
    "operationId": "post_measurement",
    "parameters": [
        {
            "name": "room_id",
            "in": "path",
            "required": True,
            "description": ROOM_ID_DESCRIPTION,
            "schema": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_ROOM_ID_LENGTH,
                "pattern": ROOM_ID_PATTERN,
                "examples": ["Living room"],
            },
        }
    ],
    **request_body(PostedMeasurement, {"v": 21.5, "u": "C", "ts": "2026-11-27T14:00:00Z"}),
    "responses": {
        "201": {
            "description": "Stored (or stored already, with the same value)",
            "content": {"application/json": {"schema": schema_of(StoredMeasurement)}},
        },
        **documented_problems(400, 409, 413, 415, 422, 503),
    },
}


@router.post(
    "/measurements",
    summary="Store many measurements",
    openapi_extra=batch_body(),
    responses=documented_problems(400, 409, 413, 415, 422, 503),
)
async def post_batch(request: Request, services: ServicesDep) -> BatchResult:
    """Store a JSON array, or NDJSON lines, of measurements: all or nothing, in one transaction.
    Items already stored with the same value count as duplicates; 422 and 409 list the failing
    items by index (the first 100)."""
    settings, now = services.settings, services.clock()
    readings = await read_batch(request, settings.batch_max_bytes, settings.batch_max_items, now)
    services.metrics.observe_batch(len(readings))
    batch = ingestion.validate_readings(readings, now=now, limits=services.limits)
    result = await ingestion.record_batch(services.store, batch)
    services.metrics.count_stored(len(batch))
    return BatchResult(received=len(batch), stored=result.stored, duplicates=result.duplicates)


@router.get(
    "/measurements/{room_id}",
    summary="Read a room's measurements",
    response_model=Page,
    responses={
        **documented_problems(404, 422, 503),
        200: {"content": {"text/csv": {"schema": {"type": "string", "example": "ts,v,u\n"}}}},
    },
)
async def get_measurements(
    room_id: RoomId,
    store: StoreDep,
    clock: ClockDep,
    start: StartQuery = None,
    end: EndQuery = None,
    unit: UnitQuery = Unit.KELVIN,
    limit: Annotated[int, Query(ge=1, le=10_000, description="items per page")] = 1000,
    cursor: Annotated[str | None, Query(description="`next` of the previous page")] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Page | Response:
    """Ascending by ts, start <= ts <= end, a page at a time; with `Accept: text/csv`, every
    one of them as CSV (ts,v,u), streamed, without pages."""
    since = EARLIEST if start is None else parse_timestamp("start", start)
    stop = (clock() if end is None else parse_timestamp("end", end)) + MICROSECOND
    if cursor is not None:
        since = max(since, _after(cursor) + MICROSECOND)
    if not await store.has_room(room_id):
        raise UnknownRoom(room_id)
    if accept is not None and "text/csv" in accept:
        return StreamingResponse(_csv(store, room_id, since, stop, unit), media_type="text/csv")
    rows = await store.raw(room_id, since, stop, limit + 1)
    items = [Reading(ts=ts, v=from_kelvin(kelvin, unit), u=unit) for ts, kelvin in rows[:limit]]
    more = len(rows) > limit
    return Page(items=items, next=_cursor(rows[limit - 1][0]) if more else None)


async def _csv(
    store: MeasurementStore, room_id: str, since: datetime, stop: datetime, unit: Unit
) -> AsyncIterator[bytes]:
    yield b"ts,v,u\n"
    while rows := await store.raw(room_id, since, stop, CSV_PAGE):
        yield "".join(
            f"{format_ts(ts)},{from_kelvin(k, unit)!r},{unit}\n" for ts, k in rows
        ).encode()
        since = rows[-1][0] + MICROSECOND


def _cursor(after: datetime) -> str:
    """Opaque to clients: the ts of the last item sent."""
    return base64.urlsafe_b64encode(format_ts(after).encode()).decode().rstrip("=")


def _after(cursor: str) -> datetime:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return parse_timestamp("cursor", text)
    except (ValueError, UnicodeDecodeError):
        raise invalid_parameter("cursor", "not a cursor this service gave out") from None
