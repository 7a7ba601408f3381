"""Measurement files: CSV with a header (`room_id,ts,v,u`) or NDJSON (one object a line),
read a line at a time, each with its number. Only what cannot be sent at all is refused here;
every rule about values is the server's to apply, so that import and API never disagree."""

import csv
import itertools
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from roomtemp.cli.connection import ClientError

Format = Literal["csv", "ndjson"]
CSV_HEADER = ("room_id", "ts", "v", "u")
REQUIRED = {"room_id", "ts", "v"}
SUFFIXES: dict[str, Format] = {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson"}
# An import without times would store every line at the moment it arrives, and a second
# import of the same file would store it all again: each measurement needs its own.
NO_TS = "ts: missing; an import needs the time of each measurement"


class UnreadableFile(ClientError):
    """The file as a whole cannot be imported (a CSV header without the columns needed)."""


@dataclass(frozen=True, slots=True)
class Line:
    number: int  # where the measurement starts in the file, from 1
    item: dict[str, Any] | None  # what to send, or None when it cannot be sent
    problem: str | None = None


def format_of(path: Path | None, first_line: str) -> Format:
    """By the file's suffix, else by its first line: NDJSON lines are objects."""
    if path is not None and path.suffix.lower() in SUFFIXES:
        return SUFFIXES[path.suffix.lower()]
    return "ndjson" if first_line.lstrip().startswith("{") else "csv"


def read_measurements(text: Iterable[str], path: Path | None = None) -> Iterator[Line]:
    """The measurements of a file's lines (as iterating a text file gives them)."""
    lines = iter(text)
    skipped, first = 0, ""
    for first in lines:
        if first.strip():
            break
        skipped += 1
    rest = itertools.chain([first], lines)
    if format_of(path, first) == "ndjson":
        return _ndjson(rest, skipped)
    return _csv(rest, skipped)


def _ndjson(lines: Iterable[str], skipped: int) -> Iterator[Line]:
    for number, line in enumerate(lines, skipped + 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as error:
            yield Line(number, None, f"not JSON: {error}")
            continue
        if not isinstance(item, dict):
            yield Line(number, None, "not a JSON object")
        elif item.get("ts") in (None, ""):
            yield Line(number, None, NO_TS)
        else:
            yield Line(number, item)


def _csv(lines: Iterable[str], skipped: int) -> Iterator[Line]:
    reader = csv.reader(lines)
    header = [name.strip() for name in next(reader, [])]
    _check_header(header)
    ended = reader.line_num
    for row in reader:
        number, ended = skipped + ended + 1, reader.line_num
        if not row:
            continue
        if len(row) != len(header):
            yield Line(number, None, f"{len(row)} fields where the header has {len(header)}")
            continue
        yield _csv_line(number, dict(zip(header, row, strict=True)))


def _check_header(header: list[str]) -> None:
    names = set(header)
    if REQUIRED <= names <= set(CSV_HEADER) and len(names) == len(header):
        return
    raise UnreadableFile(
        f"a CSV file needs the header {','.join(CSV_HEADER)} (in any order; u may be left out,"
        f" which means K); this one has {','.join(header) or 'none'}"
    )


def _csv_line(number: int, fields: dict[str, str]) -> Line:
    if not fields["ts"].strip():
        return Line(number, None, NO_TS)
    try:
        value = float(fields["v"])
    except ValueError:
        return Line(number, None, f"v: {fields['v']!r} is not a number")
    if not math.isfinite(value):
        return Line(number, None, f"v: {fields['v']!r} is not a finite number")
    return Line(number, {**fields, "v": value})
