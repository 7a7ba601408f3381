"""`roomtemp token create|list|revoke`: access tokens, kept in the database the server uses.

A running server reads the tokens again every few seconds, so what is done here counts there
without a restart.
"""

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

from roomtemp.domain.access import format_scopes, mint, parse_scopes
from roomtemp.settings import Settings
from roomtemp.storage import MeasurementStore, backend_of, migrate, open_store

T = TypeVar("T")


class NoTokensInMemory(ValueError):
    def __init__(self) -> None:
        super().__init__(
            "memory:// keeps nothing, tokens included: use a database, or ROOMTEMP_ADMIN_TOKEN"
        )


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    token = commands.add_parser("token", help="create, list or revoke access tokens")
    token.set_defaults(command="token")
    actions = token.add_subparsers(required=True, metavar="ACTION")

    create = actions.add_parser("create", help="make a token and print it, once")
    create.add_argument(
        "--scope",
        action="append",
        required=True,
        help="read, write or admin (admin implies the others); repeat or comma-separate",
    )
    create.add_argument("--name", required=True, help="what the token is for: sensor-hall")
    create.set_defaults(run=create_token)

    listing = actions.add_parser("list", help="the tokens: name, scopes, created, id")
    listing.set_defaults(run=list_tokens)

    revoke = actions.add_parser("revoke", help="revoke a token by name")
    revoke.add_argument("name")
    revoke.set_defaults(run=revoke_token)

    for action in (create, listing, revoke):
        action.add_argument(
            "--database-url",
            dest="database_url",
            help="the server's database (default: ROOMTEMP_DATABASE_URL)",
        )


def _with_store(args: argparse.Namespace, work: Callable[[MeasurementStore], Awaitable[T]]) -> T:
    flags = {"database_url": args.database_url} if args.database_url else {}
    settings = Settings(**flags)
    backend = backend_of(settings.database_url)
    if backend == "memory":
        raise NoTokensInMemory()

    async def run() -> T:
        if backend == "sqlite":  # zero set-up, as `serve` does
            await migrate(settings.database_url, db_timeout=settings.db_timeout)
        store = await open_store(settings.database_url, pool_size=1, db_timeout=settings.db_timeout)
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())


def create_token(args: argparse.Namespace) -> int:
    scopes = parse_scopes(name for given in args.scope for name in given.split(","))
    text, token = mint(args.name, scopes, datetime.now(UTC))
    _with_store(args, lambda store: store.add_token(token))
    print(text)
    print(
        f"token {token.name!r} ({format_scopes(scopes)}, id {token.token_id}): shown only now,"
        " keep it; send it as 'Authorization: Bearer <token>'",
        file=sys.stderr,
    )
    return 0


def list_tokens(args: argparse.Namespace) -> int:
    tokens = _with_store(args, lambda store: store.tokens())
    if not tokens:
        print("no tokens", file=sys.stderr)
        return 0
    width = max(len(token.name) for token in tokens)
    print(f"{'NAME':<{width}}  {'SCOPES':<17}  {'CREATED':<20}  ID")
    for token in tokens:
        created = token.created.strftime("%Y-%m-%dT%H:%M:%SZ")
        print(
            f"{token.name:<{width}}  {format_scopes(token.scopes):<17}  {created}  {token.token_id}"
        )
    return 0


def revoke_token(args: argparse.Namespace) -> int:
    if _with_store(args, lambda store: store.revoke_token(args.name)):
        print(f"revoked {args.name!r}: refused by running servers within seconds", file=sys.stderr)
        return 0
    print(f"roomtemp token revoke: no token named {args.name!r}", file=sys.stderr)
    return 1
