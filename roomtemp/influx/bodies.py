"""Request bodies of the InfluxDB endpoints: plain or gzip, never more than the body limit."""

import zlib

from fastapi import Request

from roomtemp.http.json_body import read_body
from roomtemp.http.problems import Problem
from roomtemp.influx.answers import InfluxError

_CHUNK = 1024 * 1024


async def read_bytes(request: Request, max_bytes: int) -> bytearray:
    """The body; `Content-Encoding: gzip` decompressed, and refused (413) once either the
    body or what it decompresses to is longer than max_bytes."""
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip"):
        raise InfluxError(415, f"Content-Encoding {encoding!r} is not supported: use gzip")
    try:
        body = await read_body(request, max_bytes)
    except Problem as problem:  # too large: InfluxDB's clients read {"error": ...}
        raise InfluxError(problem.status, problem.detail) from None
    return _gunzip(body, max_bytes) if encoding == "gzip" else body


async def read_text(request: Request, max_bytes: int) -> str:
    return text_of(await read_bytes(request, max_bytes))


def text_of(body: bytes | bytearray) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InfluxError(400, f"the body is not UTF-8: {error}") from None


def _gunzip(body: bytearray, max_bytes: int) -> bytearray:
    """Decompressed a chunk at a time, so that a small body that inflates to gigabytes (a
    gzip bomb) is refused when it passes max_bytes, not when memory runs out."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    plain = bytearray()
    pending = bytes(body)
    try:
        while pending:
            plain += inflater.decompress(pending, _CHUNK)
            if len(plain) > max_bytes:
                raise InfluxError(413, f"the body decompresses to more than {max_bytes} bytes")
            pending = inflater.unconsumed_tail
            if inflater.eof:
                break
    except zlib.error as error:
        raise InfluxError(400, f"the body is not gzip: {error}") from None
    if not inflater.eof:
        raise InfluxError(400, "the gzip body is truncated")
    return plain
