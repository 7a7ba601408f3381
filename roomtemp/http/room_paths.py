"""Room ids are routed from the raw path. A room id is data and may hold any character, `/`
included ("Floor 2/Room 5"), but the server decodes %2F to `/` before routing, which made
/measurements/Kitchen%2Faverage%2FP1D Kitchen's average and a%2Fb unreachable. The room's
segment is handed to the router still percent-encoded, and decoded by the route itself."""

import unicodedata
from urllib.parse import unquote, unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

PREFIX = b"/measurements/"
RAW_SEGMENT = "roomtemp.raw_room_segment"  # set in the scope when the segment is still encoded


class RawRoomSegment:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw: bytes | None = scope.get("raw_path") if scope["type"] == "http" else None
        if raw is not None and raw.startswith(PREFIX):
            # Some servers (and httpx's ASGI transport) leave the query in raw_path.
            segment, slash, rest = raw.partition(b"?")[0][len(PREFIX) :].partition(b"/")
            path = "/measurements/" + segment.decode("latin-1") + slash.decode()
            path += unquote(rest.decode("latin-1"), errors="replace")
            scope = {**scope, "path": path, RAW_SEGMENT: True}
        await self.app(scope, receive, send)


class RoomSegmentNotUtf8(ValueError):
    """The room's path segment decodes to bytes that are not UTF-8."""


def room_id_of(scope: Scope, segment: str) -> str:
    """The room id a path segment names, in NFC (as every room id is stored)."""
    if scope.get(RAW_SEGMENT):
        try:
            segment = unquote_to_bytes(segment.encode("latin-1")).decode("utf-8")
        except UnicodeDecodeError:
            raise RoomSegmentNotUtf8("the room id is not valid UTF-8") from None
    return unicodedata.normalize("NFC", segment)
