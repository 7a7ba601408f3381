"""Clients that send a request slowly are cut off at the configured deadline, while ordinary
clients, on the same connection or others, are served as usual."""

import asyncio
import time
from collections.abc import Iterator
from contextlib import suppress

import pytest

from tests.blackbox.server import Server, running_server

DEADLINE = 0.5  # seconds, for the headers and again for the body
GIVE_UP = 20.0  # seconds: a connection still open by then was never cut off


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    deadlines = {"ROOMTEMP_HEADER_TIMEOUT": str(DEADLINE), "ROOMTEMP_BODY_TIMEOUT": str(DEADLINE)}
    with running_server("memory://", "--no-access-log", env=deadlines) as running:
        yield running


async def trickle(server: Server, start: bytes, drip: bytes) -> tuple[bytes, float]:
    """Send `start`, then `drip` a byte every 0.1 s until the server closes the connection:
    what it answered, and after how long."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    started = time.monotonic()
    writer.write(start)
    answer = b""
    async with asyncio.timeout(GIVE_UP):
        with suppress(ConnectionError):  # the server closed it while a byte was on its way
            for byte in drip:
                writer.write(bytes([byte]))
                try:
                    async with asyncio.timeout(0.1):
                        if not (chunk := await reader.read(1024)):
                            break
                        answer += chunk
                except TimeoutError:
                    continue
    seconds = time.monotonic() - started
    writer.close()
    return answer, seconds


def a_client_trickling_its_headers_should_be_cut_off_with_a_408(server: Server) -> None:
    start = b"GET /healthz HTTP/1.1\r\nHost: roomtemp\r\nX-Slow: "
    answer, seconds = asyncio.run(trickle(server, start, b"a" * 10_000))
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert seconds > 0.8 * DEADLINE  # its clock started as the server accepted, a little earlier


def a_client_trickling_its_body_should_be_cut_off(server: Server) -> None:
    start = (
        b"POST /measurements/hall HTTP/1.1\r\nHost: roomtemp\r\n"
        b"Content-Type: application/json\r\nContent-Length: 10000\r\n\r\n"
    )
    answer, seconds = asyncio.run(trickle(server, start, b" " * 10_000))
    assert b" 201 " not in answer
    assert seconds > 0.8 * DEADLINE  # its clock started as the server accepted, a little earlier


async def two_requests_apart(server: Server, pause: float) -> list[bytes]:
    """Two GET /healthz on one connection, `pause` seconds apart: each answer's status line."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    lines = []
    for _ in range(2):
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: roomtemp\r\n\r\n")
        async with asyncio.timeout(GIVE_UP):
            answer = await reader.readuntil(b"\r\n\r\n")
            length = int(answer.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
        lines.append(answer.split(b"\r\n")[0])
        await asyncio.sleep(pause)
    writer.close()
    return lines


def a_connection_kept_alive_should_serve_requests_past_the_deadline(server: Server) -> None:
    # Idle for longer than the deadline, within uvicorn's keep-alive timeout (5 s).
    lines = asyncio.run(two_requests_apart(server, 3 * DEADLINE))
    assert lines == [b"HTTP/1.1 200 OK"] * 2
