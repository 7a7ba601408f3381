"""Rollups: each room's measurements summarised per quarter hour, per hour, per day and in
total, kept with every write, so that a window of any length is answered from raw
measurements only at its two ragged edges and from whole buckets in between.

Hour and day buckets were chosen by measurement (see bench/README.md): a year is ~365 day
buckets and at most ~46 hour buckets and ~120 raw rows at the edges, whatever the rate of
measurements; a minute level would cost a write per measurement and save little. Quarter
hours were added because every time zone in use is a whole number of quarter hours from UTC
(Kolkata +5:30, Kathmandu +5:45, Chatham +12:45): a series by local days, or by PT15M or PT30M,
then cuts no bucket, where hours alone left a year by Kolkata days to read half a million raw
rows (issue 10, item 3).
"""

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
QUARTER = timedelta(minutes=15)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WIDTHS = (DAY, HOUR, QUARTER)  # coarsest first
TOTAL = timedelta(0)  # "width" of the one bucket per room that holds everything


@dataclass(frozen=True, slots=True)
class Summary:
    """Measurements summarised: enough to merge with another summary and stay exact."""

    count: int
    total: float  # kelvin
    minimum: float
    maximum: float
    first_ts: datetime
    last_ts: datetime

    def merge(self, other: "Summary") -> "Summary":
        return Summary(
            self.count + other.count,
            self.total + other.total,
            min(self.minimum, other.minimum),
            max(self.maximum, other.maximum),
            min(self.first_ts, other.first_ts),
            max(self.last_ts, other.last_ts),
        )

    @property
    def mean(self) -> float:
        return self.total / self.count


def merge_all(summaries: Iterable[Summary | None]) -> Summary | None:
    merged = None
    for summary in summaries:
        if summary is not None:
            merged = summary if merged is None else merged.merge(summary)
    return merged


@dataclass(frozen=True, slots=True)
class Delta:
    """What a write adds to one rollup bucket: its summary, and the value at its last_ts (so
    that a room's latest value is known without its raw measurements)."""

    summary: Summary
    last_kelvin: float


def floor_to(ts: datetime, width: timedelta) -> datetime:
    """The start of the bucket of `width` (aligned on the Unix epoch) that holds ts."""
    return EPOCH + (ts - EPOCH) // width * width


def ceil_to(ts: datetime, width: timedelta) -> datetime:
    floor = floor_to(ts, width)
    return floor if floor == ts else floor + width


K = TypeVar("K", bound=Hashable)


def deltas(rows: Iterable[tuple[K, datetime, float]]) -> dict[tuple[K, timedelta, datetime], Delta]:
    """What newly stored rows (room, ts, kelvin) add to each rollup bucket they fall in: their
    quarter hour, hour, day and their room's total. A batch passes 100,000 rows through here,
    so each row is summed once, into its quarter, in plain lists; quarters are then summed into
    hours, days and totals (0.45 us a row instead of 1.15, measured)."""
    quarters: dict[tuple[K, int], list[Any]] = {}
    for room, ts, kelvin in rows:
        key = (room, (ts - EPOCH) // QUARTER)  # exact, unlike float seconds far from 1970
        known = quarters.get(key)
        if known is None:
            quarters[key] = [1, kelvin, kelvin, kelvin, ts, ts, kelvin]
            continue
        known[0] += 1
        known[1] += kelvin
        if kelvin < known[2]:
            known[2] = kelvin
        elif kelvin > known[3]:
            known[3] = kelvin
        if ts < known[4]:
            known[4] = ts
        elif ts > known[5]:
            known[5], known[6] = ts, kelvin
    found: dict[tuple[K, timedelta, datetime], Delta] = {}
    for (room, quarter), values in quarters.items():
        one = Delta(Summary(*values[:6]), values[6])
        start = EPOCH + quarter * QUARTER
        for bucket in (
            (room, QUARTER, start),
            (room, HOUR, floor_to(start, HOUR)),
            (room, DAY, floor_to(start, DAY)),
            (room, TOTAL, EPOCH),
        ):
            known_delta = found.get(bucket)
            found[bucket] = one if known_delta is None else later(known_delta, one)
    return found


def later(known: Delta, new: Delta) -> Delta:
    """Both merged, with the value at the later of their last timestamps."""
    last = new if new.summary.last_ts > known.summary.last_ts else known
    return Delta(known.summary.merge(new.summary), last.last_kelvin)


@dataclass(frozen=True, slots=True)
class Piece:
    """Part of a window, half-open [start, end): raw measurements (width None), or whole
    rollup buckets of `width` whose starts lie in [start, end)."""

    start: datetime
    end: datetime
    width: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    pieces: list[Piece]
    start: datetime  # the window covered: start <= ts <= end
    end: datetime
    exact: bool  # False when edges before the retention horizon were widened to whole hours


def plan(since: datetime, until: datetime, *, raw_from: datetime | None = None) -> Plan:
    """Pieces covering since <= ts <= until exactly: whole buckets wherever they fit, raw
    measurements only at the ragged edges. Before `raw_from` (the retention horizon) raw
    measurements are gone: an edge there is widened to its whole hours, and the plan says so."""
    pieces = cover(since, until + MICROSECOND)
    if raw_from is None or not any(finer_than_hours(p, raw_from) for p in pieces):
        return Plan(pieces, since, until, exact=True)
    widened: list[Piece] = []
    for piece in pieces:
        if finer_than_hours(piece, raw_from):
            piece = Piece(floor_to(piece.start, HOUR), ceil_to(piece.end, HOUR), HOUR)
            if widened and piece.start < widened[-1].end:  # the hour of the piece before
                piece = Piece(widened.pop().start, piece.end, HOUR)
        widened.append(piece)
    start = min(since, widened[0].start)
    end = max(until, widened[-1].end - MICROSECOND)
    return Plan(widened, start, end, exact=False)


def finer_than_hours(piece: Piece, raw_from: datetime) -> bool:
    """Whether the piece reads raw rows, or quarter hours, before the retention horizon: raw
    rows there are gone, and so are quarters of what was pruned before quarters existed
    (migration 0005), so such a piece can only be answered by whole hours."""
    return piece.start < raw_from and (piece.width is None or piece.width < HOUR)


def cover(start: datetime, end: datetime) -> list[Piece]:
    """Pieces covering [start, end): whole buckets wherever they fit, coarsest first. A piece
    finer than hours never crosses an hour, so that one widened to its hour before the
    retention horizon (`finer_than_hours`) never overlaps a piece after it."""
    pieces = []
    for piece in _cover(start, end, WIDTHS):
        if piece.width is not None and piece.width >= HOUR:
            pieces.append(piece)
            continue
        while (boundary := floor_to(piece.start, HOUR) + HOUR) < piece.end:
            pieces.append(Piece(piece.start, boundary, piece.width))
            piece = Piece(boundary, piece.end, piece.width)
        pieces.append(piece)
    return pieces


def _cover(start: datetime, end: datetime, widths: tuple[timedelta, ...]) -> list[Piece]:
    if start >= end:
        return []
    if not widths:
        return [Piece(start, end)]
    width, finer = widths[0], widths[1:]
    first, last = ceil_to(start, width), floor_to(end, width)
    if first >= last:
        return _cover(start, end, finer)
    return [*_cover(start, first, finer), Piece(first, last, width), *_cover(last, end, finer)]
