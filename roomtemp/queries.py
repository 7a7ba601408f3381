"""The read path: a room's measurements over a window, as one summary or as a series of
buckets, from rollups wherever whole buckets fit and raw measurements only where they don't."""

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from roomtemp.domain.measurements import EmptyWindow, UnknownRoom
from roomtemp.domain.rollups import (
    HOUR,
    MICROSECOND,
    WIDTHS,
    Summary,
    ceil_to,
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
    edges[i] <= ts < edges[i + 1]. Buckets are built from rollups of the coarsest width that
    every edge falls on (hours if none does); raw measurements are read only inside the rollup
    buckets that an edge cuts, and before `raw_from` not even there: such a rollup bucket then
    counts whole, in the bucket where it starts."""
    end = until + MICROSECOND
    inner = [edge for edge in edges if since < edge < end]
    width = next((w for w in WIDTHS if all(floor_to(e, w) == e for e in inner)), HOUR)
    cut = _cut(since, end, inner, width)
    widened = [(start, stop) for start, stop in cut if raw_from is not None and start < raw_from]
    exact_cut = [stretch for stretch in cut if stretch not in widened]
    rows = await store.buckets(room_id, width, floor_to(since, width), ceil_to(end, width))
    summaries = [
        (start, summary)
        for start, summary in rows
        if _within(start, widened)
        or (since <= start and start + width <= end and not _within(start, exact_cut))
    ]
    raw = await store.raw_in(room_id, [(max(a, since), min(b, end)) for a, b in exact_cut])
    summaries += [(ts, Summary(1, kelvin, kelvin, kelvin, ts, ts)) for ts, kelvin in raw]
    points: dict[int, Summary] = {}
    for ts, summary in summaries:
        index = max(bisect_right(edges, ts) - 1, 0)
        known = points.get(index)
        points[index] = summary if known is None else known.merge(summary)
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
    """The room's measurements (ts, kelvin) at these times (sorted), where there are any."""
    return await store.raw_in(room_id, [(ts, ts + MICROSECOND) for ts in times])


async def room_ids(store: MeasurementStore) -> list[str]:
    """Every room that ever had a measurement, sorted."""
    return sorted(room.room_id for room in await store.rooms())


def _cut(
    since: datetime, end: datetime, inner: list[datetime], width: timedelta
) -> list[tuple[datetime, datetime]]:
    """The rollup buckets [start, stop) that a series edge, or the window's own start or end,
    falls inside rather than on; touching ones joined."""
    cut: list[tuple[datetime, datetime]] = []
    for edge in (since, *inner, end):
        start = floor_to(edge, width)
        if start == edge:
            continue
        if cut and start <= cut[-1][1]:
            cut[-1] = (cut[-1][0], start + width)
        else:
            cut.append((start, start + width))
    return cut


def _within(ts: datetime, stretches: list[tuple[datetime, datetime]]) -> bool:
    """Whether ts lies in one of the stretches (sorted, apart)."""
    index = bisect_right(stretches, (ts, _LATEST)) - 1
    return index >= 0 and ts < stretches[index][1]


_LATEST = datetime.max.replace(tzinfo=UTC)


async def _not_found(
    store: MeasurementStore, room_id: str, since: datetime, until: datetime
) -> LookupError:
    if await store.has_room(room_id):
        return EmptyWindow(room_id, since, until)
    return UnknownRoom(room_id)
