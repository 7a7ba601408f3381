"""The single write's front door. `POST /measurements/{room_id}` is the API's hottest request,
and most of the general stack carries nothing for it: FastAPI's body-limit and telemetry hooks
(both off), the raw-path rewrite (its segment is read here), the router trying routes, and a
wrapper around every message sent for each layer. Here it gets what those layers would give
it, from the same code (telemetry, the gatekeeper, the content policy, the app's exception
handlers and post_measurement itself), with its answer's headers sent in one message.

Every other request, and any single write out of the ordinary (a query string, a segment
with a slash: the general stack answers those with 422 and 404), goes to the general stack
untouched. With CORS configured there is no front door: its layer would have to be in both.
"""

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from roomtemp.http.auth import Gatekeeper
from roomtemp.http.content_policy import with_default_policy
from roomtemp.http.room_paths import PREFIX, RAW_SEGMENT
from roomtemp.http.routes.measurements import POST_MEASUREMENT, post_measurement
from roomtemp.http.telemetry import Telemetry

ExceptionHandlers = Mapping[Any, Any]  # Starlette's: exception class -> async handler


def single_write_segment(scope: Scope) -> bytes | None:
    """The room's raw path segment when the request is a plain single write, else None."""
    if scope["type"] != "http" or scope["method"] != "POST" or scope["query_string"]:
        return None
    raw: bytes | None = scope.get("raw_path")
    if raw is None or not raw.startswith(PREFIX):
        return None
    segment = raw[len(PREFIX) :]
    if not segment or b"/" in segment or b"?" in segment:
        return None
    return segment


class WithFrontDoor(FastAPI):
    """FastAPI, with single writes let in by a door of their own when `single_writes` is set
    (the telemetry and gatekeeper of the general stack's middleware)."""

    single_writes: tuple[Telemetry, Gatekeeper] | None = None
    _single_write: "SingleWrite | None" = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        segment = single_write_segment(scope) if self.single_writes else None
        if segment is None:
            await super().__call__(scope, receive, send)
            return
        if self._single_write is None:  # the exception handlers are all installed by now
            assert self.single_writes is not None
            self._single_write = SingleWrite(*self.single_writes, self.exception_handlers)
        # As Starlette, RawRoomSegment and the router leave it: the app, and the segment
        # still percent-encoded, in the path and as the route's parameter.
        room_segment = segment.decode("latin-1")
        scope["app"] = self
        scope["path"] = "/measurements/" + room_segment
        scope[RAW_SEGMENT] = True
        scope["path_params"] = {"room_id": room_segment}
        await self._single_write(scope, receive, send)


class SingleWrite:
    """What the general stack's ServerErrorMiddleware, DefaultContentPolicy,
    TelemetryMiddleware, AccessMiddleware (no path under /measurements/ is open), router and
    exception middleware do with a single write, in that order, without a layer each."""

    def __init__(
        self, telemetry: Telemetry, gatekeeper: Gatekeeper, handlers: ExceptionHandlers
    ) -> None:
        self.telemetry = telemetry
        self.gatekeeper = gatekeeper
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False
        try:
            visit = self.telemetry.begin(scope)
            status = 500  # as telemetry counts a request whose answer failed
            try:
                response = self.gatekeeper.refusal(scope) or await self._answer(scope, receive)
                status = response.status_code
            finally:  # before the answer is sent, so counted before it leaves (Metrics)
                self.telemetry.end(scope, visit, status, unsent=True)
            headers = with_default_policy([*response.raw_headers, visit.id_header])
            started = True
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": response.body})
        except Exception as error:
            # As Starlette's ServerErrorMiddleware, outermost in the general stack: a bug is
            # answered 500 (problems.py) unless an answer has begun, then raised to be logged.
            if not started:
                bug = await self.handlers[Exception](Request(scope), error)
                await bug(scope, receive, send)
            raise

    async def _answer(self, scope: Scope, receive: Receive) -> Response:
        scope["route"] = POST_MEASUREMENT  # the router's mark: metrics label requests by it
        request = Request(scope, receive)
        try:
            return await post_measurement(request)
        except Exception as error:
            handler = self._handler_of(error)
            if handler is None:
                raise
            response: Response = await handler(request, error)
            return response

    def _handler_of(self, error: Exception) -> Any:
        """Starlette's look-up: the handler of the nearest class in the error's MRO, but that
        of Exception itself (the server-error layer's)."""
        for kind in type(error).__mro__:
            if kind is Exception:
                return None
            if kind in self.handlers:
                return self.handlers[kind]
        return None
