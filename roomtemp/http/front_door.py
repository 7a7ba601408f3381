"""The single write's front door. `POST /measurements/{room_id}` is the API's hottest request,
and most layers of the general stack carry nothing for it: FastAPI's body limit and telemetry
hooks (both off), the raw-path rewrite (its segment is read here), the router trying routes,
the exception middleware's and the exit stack's wrappers. Here it meets only the layers that
do something to it, the very same classes as in the general stack (the server-error answer,
telemetry, content policy, access), then its own endpoint; the rules stay in one place each.

Every other request, and any single write out of the ordinary (a query string, a segment
with a slash: the general stack answers those with 422 and 404), goes to the general stack
untouched. With CORS configured there is no front door: its layer would have to be in both.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from roomtemp.http.room_paths import PREFIX, RAW_SEGMENT
from roomtemp.http.routes.measurements import POST_MEASUREMENT, post_measurement

ExceptionHandlers = Mapping[Any, Any]  # Starlette's: exception class -> async handler


class WithFrontDoor(FastAPI):
    """FastAPI, with single writes let in by the front door when `single_write_layers` (the
    general stack's layers that do something to them, outermost first) is set."""

    single_write_layers: Sequence[Middleware] | None = None

    def build_middleware_stack(self) -> ASGIApp:
        general = super().build_middleware_stack()
        if self.single_write_layers is None:
            return general
        handlers = self.exception_handlers
        single_write: ASGIApp = SingleWriteEndpoint(handlers)
        for cls, args, kwargs in reversed(self.single_write_layers):
            single_write = cls(single_write, *args, **kwargs)
        # As outermost in the general stack: a bug is answered 500 (problems.py), then raised
        # for the server to log.
        single_write = ServerErrorMiddleware(
            single_write, handler=handlers.get(Exception), debug=self.debug
        )
        return FrontDoor(general, single_write)


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


class FrontDoor:
    """Single writes to `single_write`, everything else to `general`."""

    def __init__(self, general: ASGIApp, single_write: ASGIApp) -> None:
        self.general = general
        self.single_write = single_write

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        segment = single_write_segment(scope)
        if segment is None:
            await self.general(scope, receive, send)
            return
        # As the general stack's RawRoomSegment and router leave it: the segment still
        # percent-encoded, in the path and as the route's parameter.
        room_segment = segment.decode("latin-1")
        scope["path"] = "/measurements/" + room_segment
        scope[RAW_SEGMENT] = True
        scope["path_params"] = {"room_id": room_segment}
        await self.single_write(scope, receive, send)


class SingleWriteEndpoint:
    """post_measurement, as the router and the exception middleware would call it: the route
    left in the scope (metrics label requests by it), errors answered by the app's handlers
    (problems.py), a bug left to the server-error layer outside."""

    def __init__(self, handlers: ExceptionHandlers) -> None:
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = POST_MEASUREMENT
        request = Request(scope, receive)
        try:
            response = await post_measurement(request)
        except Exception as error:
            handler = self._handler_of(error)
            if handler is None:
                raise
            response = await handler(request, error)
        await response(scope, receive, send)

    def _handler_of(self, error: Exception) -> Any:
        """Starlette's look-up: the handler of the nearest class in the error's MRO, but that
        of Exception itself (the server-error layer's)."""
        for kind in type(error).__mro__:
            if kind is Exception:
                return None
            if kind in self.handlers:
                return self.handlers[kind]
        return None
