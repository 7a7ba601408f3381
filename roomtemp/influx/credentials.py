"""The token of a request from an InfluxDB client, however it sends it: `Authorization:
Token <t>` (2.x) or `Bearer <t>`, HTTP Basic auth with the token as password, or `p=<t>` in
the query string (1.x; the user name is taken and not needed). Tokens and scopes are
roomtemp's own: write to write, read to query."""

import base64
import binascii
from urllib.parse import parse_qs

from starlette.types import Scope

WRITING_PATHS = frozenset({"/write", "/api/v2/write"})
# POSTs that read (the second one refuses Flux): GET and POST both need `read`
READING_PATHS = frozenset({"/query", "/api/v2/query"})
OPEN_PATHS = frozenset({"/ping", "/health"})


def influx_token(scope: Scope) -> str | None:
    if scope["path"] not in WRITING_PATHS and scope["path"] not in READING_PATHS:
        return None
    for name, value in scope["headers"]:
        if name == b"authorization":
            text: str = value.decode("latin-1")
            scheme, _, credentials = text.partition(" ")
            credentials = credentials.strip()
            if scheme.lower() in ("token", "bearer") and credentials:
                return credentials
            if scheme.lower() == "basic":
                return _basic_password(credentials)
            return None
    password = parse_qs(scope["query_string"].decode("latin-1")).get("p")
    return password[-1] if password else None


def _basic_password(credentials: str) -> str | None:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    return (password if colon else user) or None
