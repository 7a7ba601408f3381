"""`roomtemp import` and `roomtemp export`: their arguments and files, then one call each."""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TextIO

from roomtemp.cli.arguments import server_of, server_options
from roomtemp.cli.connection import ClientError
from roomtemp.cli.measurement_files import read_measurements
from roomtemp.cli.progress import Progress
from roomtemp.cli.transfer import export_room, import_lines, summary_lines

if TYPE_CHECKING:
    from roomtemp.cli.arguments import Commands


def add_import(commands: Commands) -> None:
    command = commands.add_parser(
        "import",
        help="store a file of measurements (CSV or NDJSON) through a server's batch endpoint",
        description="Store every measurement of FILE that the server accepts, and name each line"
        " it refuses. CSV needs the header room_id,ts,v,u; NDJSON has one object a line. The"
        " format is told by the suffix (.csv, .ndjson, .jsonl), else by the first line. Exits"
        " with 1 when any line was rejected.",
    )
    command.set_defaults(command="import", run=run_import)
    command.add_argument("file", metavar="FILE", help="the file, or - for standard input")
    command.add_argument(
        "--batch-size", type=int, default=5000, help="measurements per batch (default 5000)"
    )
    server_options(command)


def run_import(args: argparse.Namespace) -> int:
    path = None if args.file == "-" else Path(args.file)
    label = args.file if path else "standard input"
    started = time.monotonic()
    try:
        with opened(path) as (raw, text), server_of(args).client() as client:
            progress = Progress(f"importing {label}", size_of(raw))
            summary = import_lines(
                client,
                read_measurements(text, path),
                args.batch_size,
                on_batch=lambda summary: progress.update(position_in(raw), summary.read),
            )
            progress.close()
    except UnicodeDecodeError as error:
        raise ClientError(f"{label} is not UTF-8 text ({error.reason})") from None
    print("\n".join(summary_lines(label, summary, time.monotonic() - started)))
    return 1 if summary.rejected else 0


@contextmanager
def opened(path: Path | None) -> Iterator[tuple[BinaryIO, TextIO]]:
    """The file (or standard input) as bytes, for progress, and as text, for reading."""
    try:
        raw: BinaryIO = sys.stdin.buffer if path is None else path.open("rb")
    except OSError as error:
        raise ClientError(f"cannot read {path}: {error.strerror}") from None
    with raw:
        # utf-8-sig: spreadsheets start their CSV files with a byte order mark.
        yield raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def size_of(raw: BinaryIO) -> int | None:
    try:
        return os.fstat(raw.fileno()).st_size or None
    except OSError:
        return None


def position_in(raw: BinaryIO) -> int:
    try:
        return raw.tell()
    except OSError:  # a pipe
        return 0


def add_export(commands: Commands) -> None:
    command = commands.add_parser(
        "export",
        help="write a room's measurements as CSV on standard output",
        description="The room's measurements as CSV (room_id,ts,v,u), oldest first, as"
        " `roomtemp import` reads them.",
    )
    command.set_defaults(command="export", run=run_export)
    command.add_argument("room", metavar="ROOM", help="the room's id")
    command.add_argument("--start", help="the earliest ts, RFC 3339 (default: the first)")
    command.add_argument("--end", help="the latest ts, RFC 3339 (default: now)")
    command.add_argument(
        "--unit", type=str.upper, choices=["K", "C", "F"], default="K", help="default K"
    )
    server_options(command)


def run_export(args: argparse.Namespace) -> int:
    params = {name: value for name in ("start", "end", "unit") if (value := getattr(args, name))}
    with server_of(args).client() as client:
        try:
            export_room(client, args.room, params, sys.stdout)
            sys.stdout.flush()
        except BrokenPipeError:
            # The reader had enough (| head): not an error. Python would complain again when
            # it flushes standard output on the way out, so that goes nowhere now.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
