"""Options that the client commands share: where the server is, the token, durations, zones."""

from __future__ import annotations

import argparse
import os
from datetime import timedelta, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from roomtemp.cli.connection import DEFAULT_URL, Server
from roomtemp.domain.durations import InvalidDuration, parse_duration

if TYPE_CHECKING:  # only typeshed's argparse is generic
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


def server_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--url",
        default=os.environ.get("ROOMTEMP_URL", DEFAULT_URL),
        help=f"the server (default: ROOMTEMP_URL, else {DEFAULT_URL})",
    )
    command.add_argument(
        "--token",
        default=os.environ.get("ROOMTEMP_TOKEN"),
        help="an access token, sent as 'Authorization: Bearer' (default: ROOMTEMP_TOKEN)",
    )


def server_of(args: argparse.Namespace) -> Server:
    return Server(args.url.rstrip("/"), args.token or None)


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
