"""Reading request bodies: the right 4xx for each way a body can be wrong.

415 another content type, 413 too large, 400 not JSON, 422 a value of the wrong type. FastAPI's
own body handling would coerce "20" to 20.0 and answer 422 where a body is not JSON at all.
"""

import re
from typing import Any, TypeVar

import msgspec
from fastapi import Request

from roomtemp.http.problems import MAX_LISTED_ERRORS, Problem
from roomtemp.http.schemas import PostedItem, PostedMeasurement

T = TypeVar("T")
MAX_SINGLE_BODY_BYTES = 64 * 1024
NDJSON = "application/x-ndjson"

_SINGLE = msgspec.json.Decoder(PostedMeasurement)
_BATCH = msgspec.json.Decoder(list[PostedItem])
_ITEM = msgspec.json.Decoder(PostedItem)
_RAW_ITEMS = msgspec.json.Decoder(list[msgspec.Raw])
# msgspec says where: "Expected `float`, got `str` - at `$[3].v`"
_MESSAGE_AT = re.compile(r"(?P<message>.*?)(?: - at `\$(?P<path>.*)`)?", re.DOTALL)


def media_type(request: Request) -> str | None:
    content_type = request.headers.get("content-type")
    return content_type.partition(";")[0].strip().lower() if content_type is not None else None


def _is_json(media: str | None) -> bool:
    # No Content-Type at all from a sensor still means JSON.
    return (
        media is None
        or media == "application/json"
        or (media.startswith("application/") and media.endswith("+json"))
    )


def _unsupported(request: Request, accepted: str) -> Problem:
    return Problem(
        415,
        "unsupported_media_type",
        f"send {accepted}, not {request.headers.get('content-type')}"
        " (with curl: --json, or -H 'Content-Type: application/json')",
    )


async def read_body(request: Request, max_bytes: int) -> bytearray:
    """The body, refused (413) as soon as it is known to be longer than max_bytes."""
    too_large = Problem(413, "body_too_large", f"the body is larger than {max_bytes} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise too_large
    return body  # not copied into bytes: msgspec reads any buffer, and a batch is 32 MiB


def _error(error: msgspec.ValidationError, *prefix: int) -> dict[str, Any]:
    """msgspec's error as an RFC 9457 field problem with a JSON pointer."""
    match = _MESSAGE_AT.fullmatch(str(error))
    assert match is not None  # the pattern matches any text
    path = re.findall(r"\[(\d+)\]|\.([^.\[]+)", match["path"] or "")
    parts = [*map(str, prefix), *(index or name for index, name in path)]
    located = {"index": prefix[0]} if prefix else {}
    return {**located, "pointer": "#/" + "/".join(parts), "detail": match["message"]}


# msgspec reports invalid UTF-8 inside a string as UnicodeDecodeError, not DecodeError, and
# values nested past Python's recursion limit as RecursionError.
NOT_JSON = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)


def _malformed(error: Exception, where: str = "") -> Problem:
    return Problem(400, "malformed_json", f"the body is not JSON{where}: {error}")


async def read_measurement(request: Request) -> PostedMeasurement:
    if not _is_json(media_type(request)):
        raise _unsupported(request, "application/json")
    body = await read_body(request, MAX_SINGLE_BODY_BYTES)
    try:
        return _SINGLE.decode(body)
    except msgspec.ValidationError as error:
        raise Problem(
            422, "invalid_measurement", "the body has invalid values", [_error(error)]
        ) from None
    except NOT_JSON as error:
        raise _malformed(error) from None


async def read_batch(request: Request, max_bytes: int, max_items: int) -> list[PostedItem]:
    """A JSON array or NDJSON lines of measurements: 422 lists up to 100 failing items."""
    media = media_type(request)
    if media != NDJSON and not _is_json(media):
        raise _unsupported(request, f"application/json (an array) or {NDJSON}")
    body = await read_body(request, max_bytes)
    too_many = Problem(413, "batch_too_large", f"a batch holds at most {max_items} measurements")
    if media == NDJSON:
        lines = [(number, line) for number, line in enumerate(body.splitlines(), 1) if line.strip()]
        if len(lines) > max_items:
            raise too_many
        items = _decode_lines(lines)
    else:
        items = _decode_array(body)
    if len(items) > max_items:
        raise too_many
    return items


def _decode_array(body: bytearray) -> list[PostedItem]:
    try:
        return _BATCH.decode(body)
    except msgspec.ValidationError:  # (a subclass of DecodeError: caught first)
        pass
    except NOT_JSON as error:
        raise _malformed(error) from None
    # Slow path, only for a batch that fails: each item on its own, to list every failing one.
    try:
        raw_items = _RAW_ITEMS.decode(body)
    except msgspec.ValidationError:
        raise Problem(
            422, "invalid_measurement", "a batch is a JSON array of measurements"
        ) from None
    except NOT_JSON as error:
        raise _malformed(error) from None
    errors = []
    for index, raw in enumerate(raw_items):
        try:
            _ITEM.decode(raw)
        except msgspec.ValidationError as error:
            errors.append(_error(error, index))
        except NOT_JSON as error:
            raise _malformed(error, f" in item {index}") from None
    raise invalid_items(errors)


def _decode_lines(lines: list[tuple[int, bytearray]]) -> list[PostedItem]:
    items, errors = [], []
    for index, (number, line) in enumerate(lines):
        try:
            items.append(_ITEM.decode(line))
        except msgspec.ValidationError as error:
            errors.append({**_error(error, index), "line": number})
        except NOT_JSON as error:
            raise _malformed(error, f" on line {number}") from None
    if errors:
        raise invalid_items(errors)
    return items


def invalid_items(errors: list[dict[str, Any]]) -> Problem:
    listed = errors[:MAX_LISTED_ERRORS]
    more = f" (the first {len(listed)} are listed)" if len(errors) > len(listed) else ""
    return Problem(
        422,
        "invalid_measurement",
        f"{len(errors)} items are invalid{more}; nothing was stored",
        listed,
    )
