"""Reading a JSON request body ourselves: the right 4xx for each way a body can be wrong.

FastAPI's own body handling would accept "20" for 20.0 and 1700000000 for a date, and answer
422 where a body is not JSON at all; strict pydantic over the raw bytes gets all of it right.
"""

from typing import TypeVar

from fastapi import Request
from pydantic import TypeAdapter, ValidationError

from roomtemp.http.problems import Problem, validation_errors

T = TypeVar("T")
MAX_SINGLE_BODY_BYTES = 64 * 1024


def is_json(content_type: str) -> bool:
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The body, refusing (413) one longer than max_bytes before reading all of it."""
    too_large = Problem(413, "body_too_large", f"the body is larger than {max_bytes} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise too_large
    return bytes(body)


async def read_json(
    request: Request, adapter: TypeAdapter[T], max_bytes: int = MAX_SINGLE_BODY_BYTES
) -> T:
    """The body validated by `adapter`: 415 not JSON, 413 too large, 400 malformed, 422 invalid."""
    content_type = request.headers.get("content-type")
    # A sensor that sends no Content-Type at all still means JSON; one that names another
    # type has sent something else.
    if content_type is not None and not is_json(content_type):
        raise Problem(
            415,
            "unsupported_media_type",
            f"the body must be JSON with Content-Type: application/json, not {content_type}"
            " (with curl: --json, or -H 'Content-Type: application/json')",
        )
    body = await read_body(request, max_bytes)
    try:
        return adapter.validate_json(body)
    except ValidationError as error:
        errors = error.errors(include_url=False)
        malformed = [e for e in errors if e["type"] == "json_invalid"]
        if malformed:
            raise Problem(
                400, "malformed_json", f"the body is not JSON: {malformed[0]['msg']}"
            ) from None
        located = [{**e, "loc": ("body", *e["loc"])} for e in errors]
        raise Problem(
            422, "invalid_measurement", "the body has invalid values", validation_errors(located)
        ) from None
