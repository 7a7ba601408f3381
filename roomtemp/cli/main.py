"""The `roomtemp` command: parse arguments, build Settings, call one thing."""

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from pydantic import ValidationError

from roomtemp import __version__
from roomtemp.cli import tokens as cli_tokens
from roomtemp.cli.connection import ClientError
from roomtemp.cli.import_export import add_export, add_import
from roomtemp.cli.reads import add_reads
from roomtemp.cli.simulate import add_simulate
from roomtemp.domain.access import InvalidTokenName, TokenNameTaken, UnknownScope
from roomtemp.logs import logging_config
from roomtemp.settings import Settings
from roomtemp.storage import (
    SchemaOutOfDate,
    StorageUnavailable,
    UnsupportedDatabaseUrl,
    backend_of,
    migrate,
    open_store,
)

SERVE_FLAGS = (
    "database_url",
    "host",
    "port",
    "workers",
    "log_level",
    "log_format",
    "access_log",
    "insecure",
)


class ProtectedMode(Exception):
    """Listening beyond loopback with no token would let anyone on the network in."""

    def __init__(self, host: str) -> None:
        super().__init__(
            f"refusing to listen on {host} with no access token (protected mode): anyone who"
            " can reach it could read and write. Create a token (roomtemp token create --scope"
            " admin --name NAME), set ROOMTEMP_ADMIN_TOKEN, listen on 127.0.0.1, or start with"
            " --insecure to serve anonymous requests anyway"
        )


# What a user can set right: said in one line, without a traceback.
USER_ERRORS = (
    ClientError,
    SchemaOutOfDate,
    StorageUnavailable,
    UnsupportedDatabaseUrl,
    ProtectedMode,
    InvalidTokenName,
    UnknownScope,
    TokenNameTaken,
    cli_tokens.NoTokensInMemory,
)


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        sys.exit(args.run(args))
    except ValidationError as error:  # of Settings: say where each value came from
        for line in setting_errors(error, args):
            print(f"roomtemp {args.command}: {line}", file=sys.stderr)
        sys.exit(1)
    except USER_ERRORS as error:
        print(f"roomtemp {args.command}: {error}", file=sys.stderr)
        sys.exit(1)


# Values not to repeat in an error message: a database URL may hold a password.
SECRETS = frozenset({"database_url", "admin_token"})


def setting_errors(error: ValidationError, args: argparse.Namespace) -> list[str]:
    """Each invalid setting named as a user sets it (--log-level or ROOMTEMP_LOG_LEVEL), not
    as a pydantic field, with what is wrong with it."""
    lines = []
    for problem in error.errors():
        field = str(problem["loc"][0]) if problem["loc"] else ""
        alias = Settings.model_fields[field].validation_alias if field else None
        names = [str(alias) if alias else f"ROOMTEMP_{field.upper()}"]
        if field and hasattr(args, field):  # the command has a flag for it
            names.insert(0, "--" + field.replace("_", "-"))
        what = " or ".join(names) if field else "settings"
        message = str(problem["msg"]).removeprefix("Value error, ")
        shown = "" if field in SECRETS or not field else f" {problem['input']!r}"
        lines.append(f"{what}{shown}: {message}")
    return lines


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="roomtemp",
        description="Store room temperature measurements and answer questions about them.",
    )
    root.add_argument("--version", action="version", version=f"roomtemp {__version__}")
    commands = root.add_subparsers(required=True, metavar="COMMAND")

    serve_command = commands.add_parser("serve", help="run the HTTP service")
    serve_command.set_defaults(command="serve")
    serve_command.add_argument("--host", help="listen address (default 127.0.0.1)")
    serve_command.add_argument("--port", type=int, help="listen port (default 8000)")
    serve_command.add_argument("--workers", type=int, help="server processes (default 1)")
    serve_command.add_argument(
        "--reload", action="store_true", help="restart on code changes (development)"
    )
    serve_command.add_argument("--log-level", dest="log_level", help="debug, info, warning, error")
    serve_command.add_argument(
        "--log-format", dest="log_format", help="console (default) or json: one object per line"
    )
    serve_command.add_argument(
        "--access-log",
        dest="access_log",
        action=argparse.BooleanOptionalAction,
        help="one log line per request (default on)",
    )
    serve_command.add_argument(
        "--migrate", action="store_true", help="apply pending migrations first"
    )
    serve_command.add_argument(
        "--insecure",
        action="store_const",
        const=True,
        help="on a non-loopback address with no token, serve anonymous requests (not advised)",
    )
    database_option(serve_command)
    serve_command.set_defaults(run=serve)

    migrate_command = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate_command.set_defaults(command="migrate")
    database_option(migrate_command)
    migrate_command.set_defaults(run=migrate_database)
    # Clients of a running server, over HTTP, as any other client would be.
    add_simulate(commands)
    add_import(commands)
    add_export(commands)
    add_reads(commands)
    cli_tokens.add_commands(commands)
    return root


def database_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--database-url",
        dest="database_url",
        help="sqlite:///path, postgresql://user:password@host/db or memory:// "
        "(default: ROOMTEMP_DATABASE_URL, else sqlite:///./var/roomtemp.sqlite3)",
    )


def settings_from(args: argparse.Namespace) -> tuple[Settings, dict[str, Any]]:
    """Settings from the environment, overridden by the flags given; and those flags."""
    flags = {
        name: value for name in SERVE_FLAGS if (value := getattr(args, name, None)) is not None
    }
    # A flag overrides its variable, and the file that ROOMTEMP_*_FILE may name instead.
    files = {f"{name}_file": None for name in flags if f"{name}_file" in Settings.model_fields}
    return Settings(**flags, **files), flags


def serve(args: argparse.Namespace) -> int:
    import uvicorn  # the server's stack, for this command only

    settings, flags = settings_from(args)
    # SQLite is the zero-set-up default: it migrates itself. PostgreSQL is shared, and its
    # schema changes only when someone says so.
    migrate_first = args.migrate or backend_of(settings.database_url) == "sqlite"
    has_tokens = asyncio.run(prepare(settings, migrate_first))
    if not (settings.loopback_only or settings.insecure or settings.admin_token or has_tokens):
        raise ProtectedMode(settings.host)
    # Worker processes build their own Settings from the environment: pass the flags on.
    os.environ.update({f"ROOMTEMP_{name.upper()}": str(value) for name, value in flags.items()})
    for name in flags:
        os.environ.pop(f"ROOMTEMP_{name.upper()}_FILE", None)
    workers = 1 if args.reload else settings.workers
    with shared_metrics_folder(workers, settings.metrics_dir):
        uvicorn.run(
            "roomtemp.http.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=None if args.reload else workers,
            reload=args.reload,
            log_level=settings.log_level,
            log_config=logging_config(settings.log_level, settings.log_format),
            access_log=False,  # roomtemp.access logs each request, with its route and id
            http="roomtemp.http.deadlines:DeadlineProtocol",  # slow clients are cut off
            # On SIGTERM uvicorn stops accepting, lets the requests in flight finish (and so
            # their commits) for at most this long, then runs the lifespan's shutdown, which
            # closes the store. Below Docker's 10 s between SIGTERM and SIGKILL by default.
            timeout_graceful_shutdown=settings.shutdown_timeout,
            # uvicorn kills a worker that has not answered its supervisor for 5 s by default;
            # on a loaded 2-core machine a worker's start-up alone (imports, pool) took 5.5 s,
            # and a replacement started during a database outage then took the server down.
            timeout_worker_healthcheck=30,
        )
    return 0


@contextmanager
def shared_metrics_folder(workers: int, given: str | None) -> Iterator[None]:
    """With several workers, a new folder for prometheus-client's multiprocess mode, which
    the workers (started after this) find in PROMETHEUS_MULTIPROC_DIR: a scrape answered by
    one worker then counts them all, and nothing of an earlier run is counted again.
    A folder given by the operator is used as it is."""
    if workers == 1 or given:
        yield
        return
    with tempfile.TemporaryDirectory(prefix="roomtemp-metrics-") as folder:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
        try:
            yield
        finally:
            del os.environ["PROMETHEUS_MULTIPROC_DIR"]


async def prepare(settings: Settings, migrate_first: bool) -> bool:
    """Migrate if asked, then check that the database answers with an up-to-date schema;
    whether it holds any access token."""
    if migrate_first:
        await migrate(settings.database_url, db_timeout=settings.db_timeout)
    store = await open_store(settings.database_url, pool_size=1, db_timeout=settings.db_timeout)
    try:
        return bool(await store.tokens())
    finally:
        await store.close()


def migrate_database(args: argparse.Namespace) -> int:
    settings, _ = settings_from(args)
    applied = asyncio.run(migrate(settings.database_url, db_timeout=settings.db_timeout))
    print(f"applied: {', '.join(applied)}" if applied else "the schema is up to date")
    return 0
