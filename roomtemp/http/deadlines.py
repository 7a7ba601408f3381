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
    _deadline: asyncio.TimerHandle | None = None
    _headers_in = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(OneSendPerTurn(transport, self.loop))  # type: ignore[arg-type]
        self._expect(_deadlines()[0])

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_expecting()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._headers_in = False
        if self._deadline is None:  # a request after another on this connection
            self._expect(_deadlines()[0])

    def on_headers_complete(self) -> None:
        self._headers_in = True
        self._expect(_deadlines()[1])
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._stop_expecting()
        super().on_message_complete()

    def _expect(self, seconds: float) -> None:
        self._stop_expecting()
        self._deadline = self.loop.call_later(seconds, self._too_slow)

    def _stop_expecting(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if not self._headers_in:
            self.transport.write(TIMEOUT_408)
        self.transport.close()
