"""Options that the client commands share: where the server is, the token, durations, zones."""

from __future__ import annotations

import argparse
import os
from datetime import timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from roomtemp.cli.connection import DEFAULT_URL, ClientError, Server
from roomtemp.domain.durations import InvalidDuration, parse_duration

if TYPE_CHECKING:  # only typeshed's argparse is generic
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


def server_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--url",
        default=os.environ.get("ROOMTEMP_URL", DEFAULT_URL),
        help=f"the server (default: ROOMTEMP_URL, else {DEFAULT_URL})",
    )
    # A token on the command line is shown by `ps` to every user of the machine: the
    # variable or a file is the way; --token stays for a quick try.
    command.add_argument(
        "--token-file",
        default=os.environ.get("ROOMTEMP_TOKEN_FILE"),
        metavar="FILE",
        help="a file holding the access token (default: ROOMTEMP_TOKEN_FILE)",
    )
    command.add_argument(
        "--token",
        default=os.environ.get("ROOMTEMP_TOKEN"),
        help="the access token, sent as 'Authorization: Bearer' (default: ROOMTEMP_TOKEN;"
        " prefer it, or --token-file: a command line is visible to others)",
    )


def server_of(args: argparse.Namespace) -> Server:
    return Server(args.url.rstrip("/"), args.token or token_in(args.token_file))


def token_in(path: str | None) -> str | None:
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8").strip() or None
    except OSError as error:
        raise ClientError(f"cannot read the token file {path}: {error.strerror}") from None


def duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except InvalidDuration as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"{name!r} is not an IANA time zone") from None
