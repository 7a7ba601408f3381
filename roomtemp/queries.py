"""The read path: a room's measurements over a window, as one summary or as a series of
buckets, from rollups wherever whole buckets fit and raw measurements only where they don't."""

import asyncio
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from roomtemp.domain.measurements import EmptyWindow, UnknownRoom
from roomtemp.domain.rollups import (
    HOUR,
    MICROSECOND,
    Piece,
    Summary,
    cover,
    finer_than_hours,
    floor_to,
    merge_all,
    plan,
)
from roomtemp.storage.base import MeasurementStore


@dataclass(frozen=True, slots=True)
class Window:
    summary: Summary
    start: datetime  # the window covered: start <= ts <= end
    end: datetime
    exact: bool  # False when edges before the retention horizon were widened to whole hours


@dataclass(frozen=True, slots=True)
class Series:
    points: list[tuple[datetime, Summary]]  # bucket start, its measurements; empty ones left out
    exact: bool  # False when buckets before the retention horizon took in whole hours


async def window(
    store: MeasurementStore,
    room_id: str,
    since: datetime,
    until: datetime,
    *,
    raw_from: datetime | None = None,
) -> Window:
    """The room's measurements with since <= ts <= until, summarised exactly; before
    `raw_from` (the retention horizon) to the hour. UnknownRoom or EmptyWindow if none."""
    planned = plan(since, until, raw_from=raw_from)
    summary = merge_all(await store.summarise(room_id, planned.pieces))
    if summary is None:
        raise await _not_found(store, room_id, since, until)
    return Window(summary, planned.start, planned.end, planned.exact)


async def series(
    store: MeasurementStore,
    room_id: str,
    since: datetime,
    until: datetime,
    edges: list[datetime],
    *,
    raw_from: datetime | None = None,
) -> Series:
    """The room's measurements with since <= ts <= until, summarised per bucket: bucket i holds
    edges[i] <= ts < edges[i + 1]. Each bucket is covered as `plan` covers a window, whole
    rollup buckets wherever they fit and raw rows only where an edge cuts a quarter hour, and
    the database summarises every piece: nothing is aggregated here but a few summaries per
    bucket. Before `raw_from` a cut quarter hour counts its whole hour, in the bucket where
    that hour starts."""
    pieces, owners, widened = _pieces(since, until + MICROSECOND, edges, raw_from)
    points: dict[int, Summary] = {}
    for owner, summary in zip(owners, await store.summarise(room_id, pieces), strict=True):
        if summary is not None:
            known = points.get(owner)
            points[owner] = summary if known is None else known.merge(summary)
    if not points and not await store.has_room(room_id):
        raise UnknownRoom(room_id)
    return Series([(edges[index], points[index]) for index in sorted(points)], not widened)


async def measurements(
    store: MeasurementStore, room_id: str, since: datetime, until: datetime, limit: int
) -> list[tuple[datetime, float]]:
    """The room's first `limit` measurements (ts, kelvin) with since <= ts <= until, in order."""
    return await store.raw(room_id, since, until + MICROSECOND, limit)


async def values_at(
    store: MeasurementStore, room_id: str, times: list[datetime]
) -> list[tuple[datetime, float]]:
    """The room's measurements (ts, kelvin) at these times (sorted), where there are any:
    a read each, at once (first() and last() of InfluxQL, a few per answer)."""
    found = await asyncio.gather(*(store.raw(room_id, ts, ts + MICROSECOND, 1) for ts in times))
    return [row for rows in found for row in rows]


async def room_ids(store: MeasurementStore) -> list[str]:
    """Every room that ever had a measurement, sorted."""
    return sorted(room.room_id for room in await store.rooms())


def _pieces(
    since: datetime, end: datetime, edges: list[datetime], raw_from: datetime | None
) -> tuple[list[Piece], list[int], bool]:
    """(the pieces covering since <= ts < end, the bucket each belongs to, whether any was
    widened to whole hours before the retention horizon)."""
    pieces: list[Piece] = []
    owners: list[int] = []
    hours: dict[datetime, int] = {}  # widened: each hour once, in the bucket where it starts
    for index, (start, stop) in enumerate(pairwise(edges)):
        for piece in cover(max(start, since), min(stop, end)):
            if raw_from is None or not finer_than_hours(piece, raw_from):
                pieces.append(piece)
                owners.append(index)
                continue
            hour = floor_to(piece.start, HOUR)
            while hour < piece.end:
                hours.setdefault(hour, max(bisect_right(edges, hour) - 1, 0))
                hour += HOUR
    pieces += [Piece(hour, hour + HOUR, HOUR) for hour in hours]
    owners += hours.values()
    return pieces, owners, bool(hours)


async def _not_found(
    store: MeasurementStore, room_id: str, since: datetime, until: datetime
) -> LookupError:
    if await store.has_room(room_id):
        return EmptyWindow(room_id, since, until)
    return UnknownRoom(room_id)
