"""The client commands' arguments: simulate, import, export. Each parses, then calls one thing."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from roomtemp.client.connection import DEFAULT_URL, Server, unreachable
from roomtemp.client.simulate import Plan, simulate
from roomtemp.client.simulation import room_names
from roomtemp.domain.durations import InvalidDuration, parse_duration

if TYPE_CHECKING:  # only typeshed's argparse is generic
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


def add_client_commands(commands: Commands) -> None:
    add_simulate(commands)


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


def add_simulate(commands: Commands) -> None:
    command = commands.add_parser(
        "simulate",
        help="send simulated rooms to a server: a past period at once, and/or live",
        description="Simulated rooms (day and night, heating cycles, noise, sensor gaps) sent "
        "to a running server. Without --backfill, runs live until stopped.",
    )
    command.set_defaults(command="simulate", run=run_simulate)
    command.add_argument("--rooms", type=int, default=4, help="how many rooms (default 4)")
    command.add_argument(
        "--backfill",
        type=duration,
        metavar="DURATION",
        help="first send this much of the past at once, through the batch endpoint (e.g. P7D)",
    )
    command.add_argument(
        "--live", action="store_true", help="after --backfill, go on posting every interval"
    )
    command.add_argument(
        "--interval",
        type=duration,
        default=timedelta(minutes=1),
        metavar="DURATION",
        help="between two readings of a room (default PT1M)",
    )
    command.add_argument("--seed", type=int, help="the same seed, the same rooms (default: new)")
    command.add_argument(
        "--zone", type=zone, help="the rooms' time zone, for day and night (default: local)"
    )
    command.add_argument(
        "--batch-size", type=int, default=5000, help="measurements per batch (default 5000)"
    )
    command.add_argument(
        "--wait", type=float, default=0.0, metavar="SECONDS", help="for the server to start"
    )
    server_options(command)


def run_simulate(args: argparse.Namespace) -> int:
    plan = Plan(
        rooms=room_names(args.rooms),
        seed=random.randrange(2**32) if args.seed is None else args.seed,
        interval=args.interval,
        backfill=args.backfill,
        live=args.live or args.backfill is None,
        batch_size=args.batch_size,
        zone=args.zone or datetime.now().astimezone().tzinfo or UTC,
    )
    server = server_of(args)
    wait_until_up(server, args.wait)
    try:
        asyncio.run(simulate(server, plan))
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    return 0


def wait_until_up(server: Server, seconds: float) -> None:
    """Until the server answers /healthz, for at most `seconds`: `make demo` starts the
    server and the simulator together."""
    if seconds <= 0:
        return
    deadline = time.monotonic() + seconds
    with server.client() as client:
        while True:
            try:
                client.get("/healthz", timeout=1.0)
                return
            except httpx.TransportError as error:
                if time.monotonic() >= deadline:
                    raise unreachable(server.url, error) from None
            time.sleep(0.2)
