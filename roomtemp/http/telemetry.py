"""What every request leaves behind: a request id, echoed in the answer, its count and
latency in the metrics, and a log line.

Pure ASGI rather than Starlette's BaseHTTPMiddleware: every request passes through here, and
BaseHTTPMiddleware runs the app in a task of its own and copies the body through a stream.
"""

import contextvars
import itertools
import logging
import os
import re
import time
from typing import NamedTuple

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from roomtemp import logs
from roomtemp.http.metrics import Metrics

REQUEST_ID_HEADER = b"x-request-id"
# An id from a proxy or a client is kept when it cannot break a log line or a header;
# anything else is replaced, so that one request is never logged under two ids.
SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:@+=/-]{1,128}")
# The route of a request that matched none: one value for every unknown path.
UNMATCHED = "<unmatched>"

access_log = logging.getLogger("roomtemp.access")


class RequestIds:
    """New request ids: 32 hex digits, a random half per process and a count. Unique without
    a system call per request (os.urandom's getrandom() was one for every single write)."""

    def __init__(self) -> None:
        self._start()
        os.register_at_fork(after_in_child=self._start)  # a forked worker counts on its own

    def _start(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._count = itertools.count()

    def new(self) -> str:
        return f"{self._prefix}{next(self._count):016x}"


_new_ids = RequestIds()


def request_id_of(scope: Scope) -> str:
    """The client's X-Request-ID when it is sane, else a new one."""
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and SANE_REQUEST_ID.fullmatch(value):
            given: str = value.decode("ascii")
            return given
    return _new_ids.new()


def route_of(scope: Scope) -> str:
    """The template of the route that served the request (`/measurements/{room_id}`), never
    the path itself: the router leaves the route it matched in the scope."""
    template: str = getattr(scope.get("route"), "path", UNMATCHED)
    return template


def path_of(scope: Scope) -> str:
    """The path as it came, still percent-encoded, so that no decoded character (a newline in
    a room id, say) can forge a log line."""
    raw: bytes | None = scope.get("raw_path")
    if raw is None:
        return str(scope["path"])
    return raw.partition(b"?")[0].decode("ascii", errors="backslashreplace")


class Visit(NamedTuple):
    """A request being answered, as telemetry saw it begin."""

    request_id: str
    id_header: tuple[bytes, bytes]  # to add to the answer's headers
    context: contextvars.Token[str | None]
    started: float


class Telemetry:
    """What every request leaves behind, for TelemetryMiddleware and the single write's front
    door alike: begin() as it arrives, end() once it is answered (or has failed)."""

    def __init__(self, metrics: Metrics, *, log_requests: bool) -> None:
        self.metrics = metrics
        self.log_requests = log_requests

    def begin(self, scope: Scope) -> Visit:
        request_id = request_id_of(scope)
        id_header = (REQUEST_ID_HEADER, request_id.encode("ascii"))
        return Visit(request_id, id_header, logs.request_id.set(request_id), time.perf_counter())

    def end(self, scope: Scope, visit: Visit, status: int, *, unsent: bool = False) -> None:
        """`unsent`: the answer is yet to be sent, so its count may wait for the end of the
        event loop's turn (Metrics.observe_request_soon)."""
        duration = time.perf_counter() - visit.started
        observe = self.metrics.observe_request_soon if unsent else self.metrics.observe_request
        observe(scope["method"], route_of(scope), status, duration)
        if self.log_requests:
            log_request(scope, status, duration, visit.request_id)
        logs.request_id.reset(visit.context)


class TelemetryMiddleware:
    def __init__(self, app: ASGIApp, *, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        visit = self.telemetry.begin(scope)
        status = 500  # what the client gets when the app raises before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), visit.id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.telemetry.end(scope, visit, status)


def log_request(scope: Scope, status: int, duration: float, request_id: str) -> None:
    if not access_log.isEnabledFor(logging.INFO):
        return
    method = scope["method"]
    fields = {
        "method": method,
        "route": route_of(scope),
        "status": status,
        "duration_ms": round(duration * 1000, 3),
        "request_id": request_id,
    }
    # makeRecord() and handle(), as Logger.info() would, but without its search of the stack
    # for the caller's file and line, which no format here prints (a sixth of the cost).
    args = (method, path_of(scope), status)
    line = access_log.makeRecord(
        access_log.name, logging.INFO, __file__, 0, "%s %s %d", args, None, extra=fields
    )
    access_log.handle(line)
