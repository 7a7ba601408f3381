"""Access tokens and their scopes: who may read, who may write. Rules only, no I/O.

A token is `rt_<id>_<secret>`: the id (public, shown by `roomtemp token list`) finds the
token's record, and the SHA-256 digest of the whole token, compared in constant time, proves
it. Only the digest is stored. Why SHA-256 and no HMAC key: the secret is 256 random bits, so
no one can search for a token that matches a stolen digest, keyed or not; a server-side key
would protect nothing more, and would be one more secret to keep, whose loss invalidates every
token. (A slow password hash guards low-entropy secrets, which these are not, and would cost
milliseconds on every request.)
"""

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

PREFIX = "rt_"
_TOKEN = re.compile(r"rt_(?P<id>[0-9a-f]{12})_[A-Za-z0-9_-]{43}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ADMIN_TOKEN_ID = "admin"  # ROOMTEMP_ADMIN_TOKEN's, for rate limits and logs


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


class InvalidTokenName(ValueError):
    """A token name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit."""


class UnknownScope(ValueError):
    """A scope other than read, write and admin."""


class TokenNameTaken(ValueError):
    """Another token already has this name."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"a token named {name!r} exists already: revoke it, or choose another name"
        )


def parse_scopes(names: Iterable[str]) -> frozenset[Scope]:
    """`["read", "write"]` as scopes; UnknownScope names the first that is none."""
    scopes = set()
    for name in names:
        try:
            scopes.add(Scope(name.strip().lower()))
        except ValueError:
            raise UnknownScope(f"unknown scope {name!r}: use read, write or admin") from None
    if not scopes:
        raise UnknownScope("a token needs at least one scope: read, write or admin")
    return frozenset(scopes)


def format_scopes(scopes: frozenset[Scope]) -> str:
    """ "read write": space-separated, in a fixed order."""
    return " ".join(scope.value for scope in Scope if scope in scopes)


def allows(granted: frozenset[Scope], needed: Scope) -> bool:
    """admin implies read and write. write does not imply read: a sensor's token, if it
    leaks, tells nothing about the building."""
    return needed in granted or Scope.ADMIN in granted


@dataclass(frozen=True, slots=True)
class AccessToken:
    """What is stored of a token: never the token itself."""

    token_id: str
    name: str
    scopes: frozenset[Scope]
    digest: bytes  # SHA-256 of the whole token
    created: datetime


def digest_of(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", errors="surrogatepass")).digest()


def mint(name: str, scopes: frozenset[Scope], now: datetime) -> tuple[str, AccessToken]:
    """A new token, to be shown once, and the record of it to store."""
    if not _NAME.fullmatch(name):
        raise InvalidTokenName(f"invalid token name {name!r}: {InvalidTokenName.__doc__}")
    token_id = secrets.token_hex(6)
    token = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    return token, AccessToken(token_id, name, scopes, digest_of(token), now)


@dataclass(frozen=True, slots=True)
class Grant:
    """Who a request's token says it comes from, and what it may do."""

    token_id: str
    scopes: frozenset[Scope]


ADMIN = frozenset({Scope.ADMIN})


class Keyring:
    """The tokens a server accepts at one moment: those stored, and the admin token."""

    def __init__(self, tokens: Iterable[AccessToken], admin_token: str | None) -> None:
        self._by_id: Mapping[str, AccessToken] = {token.token_id: token for token in tokens}
        self._admin_digest = digest_of(admin_token) if admin_token else None

    @property
    def empty(self) -> bool:
        """No token exists at all, stored or given as the admin token."""
        return not self._by_id and self._admin_digest is None

    def grant(self, token: str) -> Grant | None:
        """The grant of a presented token; None if it is no token of this keyring."""
        digest = digest_of(token)
        match = _TOKEN.fullmatch(token)
        known = self._by_id.get(match["id"]) if match else None
        if known is not None and hmac.compare_digest(digest, known.digest):
            return Grant(known.token_id, known.scopes)
        if self._admin_digest is not None and hmac.compare_digest(digest, self._admin_digest):
            return Grant(ADMIN_TOKEN_ID, ADMIN)
        return None
