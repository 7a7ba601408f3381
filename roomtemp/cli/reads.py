"""`roomtemp average`, `roomtemp series` and `roomtemp rooms`: the API's answers read from a
terminal, as a table, or as the server's JSON with --json for scripts."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from roomtemp.cli.arguments import duration, server_of, server_options
from roomtemp.cli.connection import get_json, get_ok, room_path

if TYPE_CHECKING:
    from roomtemp.cli.arguments import Commands


def add_reads(commands: Commands) -> None:
    average = commands.add_parser(
        "average",
        help="a room's average over a window: roomtemp average 'Living room' PT15M",
        description="The exact mean, min and max of a room's measurements over DURATION"
        " (ISO 8601: PT15M, P1D, P7D) before --end.",
    )
    average.set_defaults(command="average", run=run_average)
    average.add_argument("room", metavar="ROOM", help="the room's id")
    average.add_argument("duration", metavar="DURATION", type=checked_duration)
    average.add_argument("--end", help="the window's end, RFC 3339 (default: now)")
    read_options(average)

    series = commands.add_parser(
        "series",
        help="a room's averages bucket by bucket: roomtemp series Hall P1D --bucket PT1H",
        description="Mean, min, max and count of each non-empty bucket of the window.",
    )
    series.set_defaults(command="series", run=run_series)
    series.add_argument("room", metavar="ROOM", help="the room's id")
    series.add_argument("duration", metavar="DURATION", type=checked_duration)
    series.add_argument("--bucket", required=True, type=checked_duration, help="PT1H, P1D, ...")
    series.add_argument("--end", help="the window's end, RFC 3339 (default: now)")
    series.add_argument("--tz", help="IANA time zone: days start at its midnight (default UTC)")
    read_options(series)

    rooms = commands.add_parser("rooms", help="every room: its last value and how many there are")
    rooms.set_defaults(command="rooms", run=run_rooms)
    read_options(rooms)


def read_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--unit", type=str.upper, choices=["K", "C", "F"], default="C", help="default C"
    )
    command.add_argument(
        "--json", action="store_true", help="the server's JSON answer, as it came, for scripts"
    )
    server_options(command)


def checked_duration(text: str) -> str:
    """Checked here, so that a typo is said at once; sent as typed."""
    duration(text)
    return text


def run_average(args: argparse.Namespace) -> int:
    params = given(args, "unit", "end")
    answer = read(args, room_path(args.room, "average", args.duration), params)
    if not args.json:
        unit = answer["u"]
        print_table(
            ["room", "average", "min", "max", "count", "from", "to"],
            [
                [
                    args.room,
                    f"{answer['v']:.2f} {unit}",
                    f"{answer['min']:.2f} {unit}",
                    f"{answer['max']:.2f} {unit}",
                    str(answer["count"]),
                    answer["start"],
                    answer["end"] + ("" if answer["exact"] else " (to the hour)"),
                ]
            ],
        )
    return 0


def run_series(args: argparse.Namespace) -> int:
    params = given(args, "unit", "end", "bucket", "tz")
    answer = read(args, room_path(args.room, "series", args.duration), params)
    if not args.json:
        unit = answer["u"]
        print_table(
            ["bucket", f"average {unit}", "min", "max", "count"],
            [
                [
                    point["ts"],
                    f"{point['v']:.2f}",
                    f"{point['min']:.2f}",
                    f"{point['max']:.2f}",
                    str(point["count"]),
                ]
                for point in answer["points"]
            ],
        )
    return 0


def run_rooms(args: argparse.Namespace) -> int:
    params = {**given(args, "unit"), "limit": "10000"}
    rooms: list[dict[str, Any]] = []
    with server_of(args).client() as client:
        answer = get_ok(client, "/rooms", params)
        rooms += answer.json()
        # While more follow, a page names the next in its Link header (rel="next").
        while following := answer.links.get("next", {}).get("url"):
            cursor = parse_qs(urlsplit(following).query)["cursor"][0]
            answer = get_ok(client, "/rooms", {**params, "cursor": cursor})
            rooms += answer.json()
    if args.json:
        print(json.dumps(rooms, ensure_ascii=False, indent=2))
        return 0
    print_table(["room", "last", "at", "count"], [room_row(room) for room in rooms])
    return 0


def room_row(room: dict[str, Any]) -> list[str]:
    last = f"{room['last_v']:.2f} {room['u']}"
    return [room["room_id"], last, room["last_ts"], f"{room['count']:,}"]


def given(args: argparse.Namespace, *names: str) -> dict[str, str]:
    return {name: value for name in names if (value := getattr(args, name, None))}


def read(args: argparse.Namespace, path: str, params: dict[str, str]) -> Any:
    """The server's answer; printed as it came with --json."""
    with server_of(args).client() as client:
        answer = get_json(client, path, params)
    if args.json:
        json.dump(answer, sys.stdout, ensure_ascii=False, indent=2)
        print()
    return answer


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Columns as wide as their widest cell; numbers (and what ends like one) to the right."""
    widths = [max(len(row[index]) for row in [header, *rows]) for index in range(len(header))]
    numeric = [
        all(cell[:1].isdigit() or cell[:1] == "-" for cell in column) and index > 0
        for index, column in enumerate(zip(*rows, strict=True))
    ] or [False] * len(header)
    for row in [header, *rows]:
        cells = [
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(row, widths, numeric, strict=True)
        ]
        print("  ".join(cells).rstrip())
