"""`roomtemp simulate`: its arguments, then one call."""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx

from roomtemp.cli.arguments import duration, server_of, server_options, zone
from roomtemp.cli.connection import Server, unreachable
from roomtemp.cli.room_model import room_names
from roomtemp.cli.sender import Plan, simulate

if TYPE_CHECKING:
    from roomtemp.cli.arguments import Commands


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
    command.add_argument(
        "--mqtt",
        metavar="URL",
        help="publish to this MQTT broker instead (mqtt://[user:password@]host[:port]),"
        " for a roomtemp subscribed to it",
    )
    command.add_argument(
        "--topic",
        default="roomtemp/{room}",
        help="with --mqtt: the topic of each room's readings (default roomtemp/{room})",
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
    try:
        if args.mqtt:
            # Imported here: paho is for this option alone, not for every command.
            from roomtemp.cli.mqtt_sender import publish_simulation

            publish_simulation(args.mqtt, args.topic, plan)
        else:
            server = server_of(args)
            wait_until_up(server, args.wait)
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
