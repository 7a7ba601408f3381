"""Who may do what. Every request, but those to the open paths, shows a bearer token with the
scope it needs (read for GET, HEAD and OPTIONS, write for the rest) or is refused, 401 or 403,
before any route runs; with a rate limit, beyond it, 429.

Pure ASGI, like telemetry.py, because every request pays for it: the tokens are checked
against a keyring in memory, which each server process reads again from the store every
ROOMTEMP_TOKEN_REFRESH (2 s), so that a token made or revoked by `roomtemp token` (another process)
counts in every worker within seconds, without a query per request.

When no token exists at all (none stored, no ROOMTEMP_ADMIN_TOKEN) and the server listens on
loopback only (or was started with --insecure), requests are anonymous: local development.
"""

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from roomtemp.domain.access import ADMIN_TOKEN_ID, AccessToken, Keyring, allows
from roomtemp.domain.access import Scope as TokenScope
from roomtemp.domain.rates import Buckets
from roomtemp.http.problems import problem_response
from roomtemp.influx import credentials as influx
from roomtemp.settings import Settings
from roomtemp.storage.base import StorageUnavailable, TokenStore

# Carry no data: the health checks, the API's documentation (problem types included), and the
# dashboard page and its files (which send a token of their own for the data they ask for).
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/openapi.json", "/docs", "/redoc", "/"})
OPEN_PREFIXES = ("/static/", "/problems/")
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ANONYMOUS = "anonymous"  # the one rate-limit bucket of anonymous requests
CHALLENGE = 'Bearer realm="roomtemp"'
log = logging.getLogger("roomtemp.access")


def is_open(path: str) -> bool:
    return path in OPEN_PATHS or path in influx.OPEN_PATHS or path.startswith(OPEN_PREFIXES)


def bearer_token(scope: Scope) -> str | None:
    """The token of `Authorization: Bearer <token>` (the scheme case-insensitive), if any."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.partition(b" ")
            if scheme.lower() == b"bearer" and (token := token.strip()):
                text: str = token.decode("latin-1")
                return text
            return None
    return None


class Gatekeeper:
    """Decides, per request, whether it may go on; holds the keyring and the rate limits."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        admin = settings.admin_token
        self._admin_token = admin.get_secret_value() if admin else None
        self._open_when_no_token = settings.loopback_only or settings.insecure
        rate = settings.rate
        self._buckets = Buckets(rate) if rate else None
        self._clock = clock
        # Until the stored tokens are read: the admin token only, nobody anonymous.
        self._keyring = Keyring([], self._admin_token)
        self._anonymous = False

    def load(self, tokens: Sequence[AccessToken]) -> None:
        keyring = Keyring(tokens, self._admin_token)
        self._keyring = keyring
        self._anonymous = keyring.empty and self._open_when_no_token
        if self._buckets:
            in_use = {token.token_id for token in tokens} | {ADMIN_TOKEN_ID, ANONYMOUS}
            self._buckets.forget_all_but(in_use)

    def refusal(self, scope: Scope) -> Response | None:
        """The answer that refuses the request, or None to let it through."""
        if self._anonymous:
            return self._beyond_rate(ANONYMOUS)
        token = bearer_token(scope) or influx.influx_token(scope)
        if token is None:
            return problem_response(
                401,
                "token_required",
                "send a token: Authorization: Bearer <token> (see `roomtemp token create`)",
                headers={"WWW-Authenticate": CHALLENGE},
            )
        grant = self._keyring.grant(token)
        if grant is None:
            return problem_response(
                401,
                "invalid_token",
                "the token is unknown or revoked",
                headers={"WWW-Authenticate": f'{CHALLENGE}, error="invalid_token"'},
            )
        reads = scope["method"] in READING_METHODS or scope["path"] in influx.READING_PATHS
        needed = TokenScope.READ if reads else TokenScope.WRITE
        if not allows(grant.scopes, needed):
            return problem_response(
                403,
                "insufficient_scope",
                f"the token lacks the {needed} scope",
                headers={
                    "WWW-Authenticate": f'{CHALLENGE}, error="insufficient_scope", scope="{needed}"'
                },
            )
        return self._beyond_rate(grant.token_id)

    def _beyond_rate(self, key: str) -> Response | None:
        if self._buckets is None:
            return None
        wait = self._buckets.take(key, self._clock())
        if not wait:
            return None
        return problem_response(
            429,
            "rate_limited",
            "too many requests with this token; retry after Retry-After seconds",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )


class AccessMiddleware:
    def __init__(self, app: ASGIApp, *, gatekeeper: Gatekeeper) -> None:
        self.app = app
        self.gatekeeper = gatekeeper

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not is_open(scope["path"]):
            refusal = self.gatekeeper.refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


@asynccontextmanager
async def tokens_kept_fresh(
    gatekeeper: Gatekeeper, store: TokenStore, every: timedelta
) -> AsyncIterator[None]:
    """Read the stored tokens now, then again `every` while the block runs."""
    gatekeeper.load(await store.tokens())
    refreshing = asyncio.create_task(
        _refresh_forever(gatekeeper, store, every.total_seconds()), name="token-refresh"
    )
    try:
        yield
    finally:
        refreshing.cancel()


async def _refresh_forever(gatekeeper: Gatekeeper, store: TokenStore, seconds: float) -> None:
    failing = False
    while True:
        await asyncio.sleep(seconds)
        try:
            gatekeeper.load(await store.tokens())
        except StorageUnavailable as error:
            # The tokens read last stay in force: a database that blinks locks nobody out
            # (nor does it let anyone in who was not in already).
            if not failing:
                log.warning("tokens not refreshed, the last ones read stay in force: %s", error)
            failing = True
        else:
            failing = False
