"""What anonymous mode (no token exists) serves: this machine, not every web page its browser
opens, nor everyone behind a proxy.

- A page from another site can send requests to 127.0.0.1 without reading the answers: the
  Origin or Sec-Fetch-Site headers the browser adds say so, and such requests are refused. (A
  body must also be declared JSON, see json_body.py: a cross-site no-cors fetch can send none.)
- DNS rebinding makes the browser send such a page's requests as same-origin ones, but with
  the attacker's name in Host: only loopback names are served.
- A reverse proxy on this machine would serve everyone: a request that says it was forwarded
  is refused.
The last two only when the server listens on loopback; with --insecure on another address,
Host names are the server's own and a proxy may be the point.
"""

import ipaddress
from functools import lru_cache

from starlette.responses import Response
from starlette.types import Scope

from roomtemp.http.problems import problem_response

SAME_ORIGIN = frozenset({b"same-origin", b"none"})  # none: typed in, or a bookmark
PROXY_HEADERS = frozenset({b"forwarded", b"x-forwarded-for", b"x-real-ip"})
ADVICE = "; anonymous access serves this machine only (create a token: roomtemp token create)"


@lru_cache(maxsize=256)
def is_loopback_host(host: str) -> bool:
    """Whether a Host header names this machine: localhost, *.localhost, 127.x.y.z or [::1],
    with any port."""
    name = host[1 : host.find("]")] if host.startswith("[") else host.rpartition(":")[0] or host
    name = name.lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def refusal(
    scope: Scope, *, loopback: bool, allowed_origins: frozenset[str] = frozenset()
) -> Response | None:
    """The answer refusing an anonymous request from elsewhere, or None to serve it. Pages of
    `allowed_origins` (ROOMTEMP_CORS_ORIGINS, chosen by the operator) are not refused."""
    host = origin = fetch_site = None
    for name, value in scope["headers"]:
        if name == b"host":
            host = value.decode("latin-1")
        elif name == b"origin":
            origin = value.decode("latin-1")
        elif name == b"sec-fetch-site":
            fetch_site = value
        elif loopback and name in PROXY_HEADERS:
            return _refuse(
                (403, "proxied_request"), f"the request came through a proxy ({name.decode()})"
            )
    if loopback and (host is None or not is_loopback_host(host)):
        return _refuse((403, "non_loopback_host"), f"Host {host!r} is not a name of this machine")
    allowed = origin is not None and origin.rstrip("/") in allowed_origins
    if fetch_site is not None and fetch_site.lower() not in SAME_ORIGIN and not allowed:
        return _refuse(
            (403, "cross_site_request"), f"a {fetch_site.decode()} request, by another site"
        )
    if (
        origin is not None
        and origin.lower() != f"{scope['scheme']}://{host}".lower()
        and not allowed
    ):
        return _refuse((403, "cross_site_request"), f"a request sent by a page of {origin}")
    return None


def _refuse(status_and_code: tuple[int, str], reason: str) -> Response:
    return problem_response(*status_and_code, reason + ADVICE)
