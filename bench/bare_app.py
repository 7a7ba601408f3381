"""The HTTP ceiling: an ASGI app that reads the request and answers 201 with a small JSON body,
nothing else, served by the same server stack and worker count as roomtemp (`make bench`)."""

from collections.abc import Awaitable, Callable
from typing import Any

BODY = b'{"room_id":"bench","v":291.5,"u":"K","ts":"2026-11-27T14:00:00Z"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    if scope["type"] == "lifespan":  # nothing to start or stop
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 201, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
