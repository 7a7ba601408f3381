"""Deadlines for slow clients: uvicorn's HTTP/1.1 protocol (httptools), with a time limit for
a request's headers and another for its body.

uvicorn bounds the idle time between requests (its keep-alive timeout) but not how long a
request may take to arrive: a client sending a header a byte at a time held its connection,
its file descriptor and its parser state forever, and 1,100 such clients at a server allowed
1,024 open files took it off the air (ordinary requests refused). Each connection here gets
ROOMTEMP_HEADER_TIMEOUT seconds from its first byte (or from connecting) to finish a request's
headers, then ROOMTEMP_BODY_TIMEOUT to finish its body; past either, it is closed (with a
408 if no answer has begun)."""

import asyncio
from functools import cache

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from roomtemp.http.one_send import OneSendPerTurn
from roomtemp.settings import Settings

TIMEOUT_408 = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


@cache
def _deadlines() -> tuple[float, float]:
    # Read once per worker process, from the environment the serve command sets up for its
    # workers (uvicorn makes this class, not roomtemp).
    settings = Settings()
    return settings.header_timeout, settings.body_timeout


class DeadlineProtocol(HttpToolsProtocol):
    """Each phase of a request sets when it must be over (`_due`); one timer per connection
    checks, and sets itself again for the new due time if that has moved. A timer made and
    cancelled per phase (two per request) cost 2-3 us of a single write's ~95 (py-spy)."""

    _due: float | None = None  # loop time by which the current phase must be over
    _timer: asyncio.TimerHandle | None = None
    _timer_at = 0.0
    _headers_in = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(OneSendPerTurn(transport, self.loop))  # type: ignore[arg-type]
        self._expect(_deadlines()[0])

    def connection_lost(self, exc: Exception | None) -> None:
        self._due = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._headers_in = False
        if self._due is None:  # a request after another on this connection
            self._expect(_deadlines()[0])

    def on_headers_complete(self) -> None:
        self._headers_in = True
        self._expect(_deadlines()[1])
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._due = None
        super().on_message_complete()

    def _expect(self, seconds: float) -> None:
        self._due = due = self.loop.time() + seconds
        if self._timer is not None and self._timer_at <= due:
            return  # it will check in time, and set itself again for `due`
        if self._timer is not None:
            self._timer.cancel()
        self._set_timer(due)

    def _set_timer(self, at: float) -> None:
        self._timer_at = at
        self._timer = self.loop.call_at(at, self._check)

    def _check(self) -> None:
        self._timer = None
        if self._due is None:
            return  # nothing expected now: the next phase sets a timer again
        if self.loop.time() < self._due:
            self._set_timer(self._due)
            return
        self._due = None
        self._too_slow()

    def _too_slow(self) -> None:
        if self.transport.is_closing():
            return
        if not self._headers_in:
            self.transport.write(TIMEOUT_408)
        self.transport.close()
