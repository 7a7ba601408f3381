"""Content-Security-Policy: what a response may load and run when a browser shows it.

The dashboard keeps an access token in localStorage, on the origin that also serves the API's
documentation. So every page runs only scripts served from here, as files (no CDN, nothing
inline): neither a third party nor text from the database (a room's name) can run as code on
this origin."""

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The dashboard and the documentation pages. Inline styles are allowed because uPlot sizes
# its elements with them, and Swagger UI and ReDoc style theirs so; images and fonts may be
# data: URLs (their icons, ReDoc's font).
PAGE = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "style-src 'self' 'unsafe-inline'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
# ReDoc runs its search in a worker made from a blob: URL of its own code. Only a script that
# already runs here can make one, so this widens nothing an attacker could reach.
REDOC_PAGE = f"{PAGE}; worker-src 'self' blob:"
# Everything else (JSON, CSV, problem details, the files pages load) is no page: opened in a
# browser on its own, it may load and run nothing, nor be framed.
DEFAULT = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

_HEADER = b"content-security-policy"
_DEFAULT_HEADER = (_HEADER, DEFAULT.encode("ascii"))


def with_default_policy(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """An answer's headers, with DEFAULT unless they name a policy of their own."""
    headers = list(headers)
    for name, _ in headers:  # a loop, not any() over a generator: 0.48 -> 0.3 us a request
        if name.lower() == _HEADER:
            return headers
    headers.append(_DEFAULT_HEADER)
    return headers


class DefaultContentPolicy:
    """Send DEFAULT with every HTTP response that does not name a policy of its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_default_policy(message.get("headers", []))
            await send(message)

        await self.app(scope, receive, send_with_policy)
