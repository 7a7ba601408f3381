"""Reading request bodies: the right 4xx for each way a body can be wrong.

415 another content type, 413 too large, 400 not JSON, 422 a value of the wrong type. FastAPI's
own body handling would coerce "20" to 20.0 and answer 422 where a body is not JSON at all.
"""

import re
from typing import Any, TypeVar

import msgspec
from fastapi import Request
from starlette.requests import ClientDisconnect

from roomtemp.http.problems import Problem
from roomtemp.http.schemas import PostedMeasurement

T = TypeVar("T")
MAX_SINGLE_BODY_BYTES = 64 * 1024
NDJSON = "application/x-ndjson"

_SINGLE = msgspec.json.Decoder(PostedMeasurement)
# msgspec says where: "Expected `float`, got `str` - at `$[3].v`"
_MESSAGE_AT = re.compile(r"(?P<message>.*?)(?: - at `\$(?P<path>.*)`)?", re.DOTALL)


def header(request: Request, name: bytes) -> str | None:
    """What request.headers.get() gives for `name` (in lower case), without building the
    request's Headers first: 1.5 of a single write's ~35 us in-process went on that."""
    for key, value in request.scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


def media_type(request: Request) -> str | None:
    content_type = header(request, b"content-type")
    return content_type.partition(";")[0].strip().lower() if content_type is not None else None


def is_json(media: str | None) -> bool:
    # A body without a Content-Type is not taken for JSON: it is what a page of another site
    # can send with fetch(..., {mode: "no-cors"}) without the browser asking first.
    return media is not None and (
        media == "application/json"
        or (media.startswith("application/") and media.endswith("+json"))
    )


def unsupported(request: Request, accepted: str) -> Problem:
    return Problem(
        415,
        "unsupported_media_type",
        f"send {accepted}, not {header(request, b'content-type')}"
        " (with curl: --json, or -H 'Content-Type: application/json')",
    )


async def read_body(request: Request, max_bytes: int) -> bytearray:
    """The body, refused (413) as soon as it is known to be longer than max_bytes."""
    declared = header(request, b"content-length") or ""
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    # What request.stream() does, without an async generator (1.2 of a single write's ~25 us
    # in-process went on making and driving one, measured).
    if request._stream_consumed:
        raise RuntimeError("Stream consumed")
    body = bytearray()
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            request._is_disconnected = True
            raise ClientDisconnect()
        body += message.get("body", b"")
        if len(body) > max_bytes:
            raise _too_large(max_bytes)
        if not message.get("more_body", False):
            request._stream_consumed = True
            return body  # not copied into bytes: msgspec reads any buffer; a batch is 32 MiB


def _too_large(max_bytes: int) -> Problem:
    return Problem(413, "body_too_large", f"the body is larger than {max_bytes} bytes")


def message_and_path(error: msgspec.ValidationError) -> tuple[str, list[int | str]]:
    """msgspec's message, and where: list indices and field names ([3, "v"] for `$[3].v`)."""
    match = _MESSAGE_AT.fullmatch(str(error))
    assert match is not None  # the pattern matches any text
    path = re.findall(r"\[(\d+)\]|\.([^.\[]+)", match["path"] or "")
    return match["message"], [int(index) if index else name for index, name in path]


def _error(error: msgspec.ValidationError) -> dict[str, Any]:
    """msgspec's error as an RFC 9457 field problem with a JSON pointer."""
    message, path = message_and_path(error)
    return {"pointer": "#/" + "/".join(map(str, path)), "detail": message}


# msgspec reports invalid UTF-8 inside a string as UnicodeDecodeError, not DecodeError, and
# values nested past Python's recursion limit as RecursionError.
NOT_JSON = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)


def malformed(error: Exception, where: str = "") -> Problem:
    return Problem(400, "malformed_json", f"the body is not JSON{where}: {error}")


async def read_measurement(request: Request) -> PostedMeasurement:
    if not is_json(media_type(request)):
        raise unsupported(request, "application/json")
    body = await read_body(request, MAX_SINGLE_BODY_BYTES)
    try:
        return _SINGLE.decode(body)
    except msgspec.ValidationError as error:
        raise Problem(
            422, "invalid_measurement", "the body has invalid values", [_error(error)]
        ) from None
    except NOT_JSON as error:
        raise malformed(error) from None
