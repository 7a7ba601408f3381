"""SELECT statements through roomtemp's read path: aggregates from the rollups
(queries.window, queries.series: raw rows only at the edges that cut an hour), raw points
through queries.measurements. Times are bucketed as InfluxDB buckets them, on multiples of
the interval since the epoch (shifted by an offset), and reported at each bucket's start."""

import asyncio
import heapq
from datetime import datetime

from roomtemp import queries
from roomtemp.domain.measurements import EARLIEST, LATEST, EmptyWindow, UnknownRoom
from roomtemp.domain.rollups import EPOCH, MICROSECOND, Summary
from roomtemp.domain.series import bucket_edges
from roomtemp.domain.units import parse_unit
from roomtemp.influx import tables
from roomtemp.influx.answers import StatementAnswer
from roomtemp.influx.context import Context, rooms_of
from roomtemp.influx.influxql import InvalidQuery, Select
from roomtemp.influx.tables import Row

MAX_RAW_POINTS = 100_000


async def select(select: Select, context: Context) -> StatementAnswer:
    unit_name = context.rules.unit_of(select.measurement)
    fields = {column.field for column in select.columns} - {"*"}
    if unit_name is None or not fields <= set(context.rules.value_fields):
        return StatementAnswer()  # another unit's measurement, or a field it does not have
    unit = parse_unit(unit_name)
    rooms = await rooms_of(select.rooms, context)
    room_tag = select.rooms.tag or context.rules.room_tags[0]
    if select.group_by_room not in (None, "*"):
        room_tag = select.group_by_room
    if select.columns[0].function is None:
        groups = await _raw(select, rooms, context)
    elif select.interval is None:
        groups = await _totals(select, rooms, context)
    else:
        groups = await _buckets(select, rooms, context)
    values = await _first_and_last_values(select, groups, context)
    return StatementAnswer(
        [
            tables.series(select, unit, room_tag, room, rows, values)
            for room, rows in _grouped(groups, select.group_by_room is not None)
        ]
    )


async def _first_and_last_values(
    select: Select, groups: dict[str, list["Row"]], context: Context
) -> dict[datetime, float]:
    """The values (kelvin) at the first and last times of each summary, for first() and
    last(): a summary knows when, not what."""
    functions = {column.function for column in select.columns}
    if not functions & {"first", "last"}:
        return {}
    wanted = {
        room: sorted(
            {ts for _, summary, _ in rows if isinstance(summary, Summary)
             for ts in (summary.first_ts, summary.last_ts)}
        )
        for room, rows in groups.items()
    }  # fmt: skip
    found = await asyncio.gather(
        *(queries.values_at(context.store, room, times) for room, times in wanted.items())
    )
    return {ts: kelvin for values in found for ts, kelvin in values}


def _grouped(groups: dict[str, list[Row]], by_room: bool) -> list[tuple[str | None, list[Row]]]:
    """One series per room, or one for all: raw rows interleaved by time, summaries of the
    same bucket merged."""
    if by_room:
        return [(room, rows) for room, rows in sorted(groups.items()) if rows]
    if len(groups) <= 1:
        return [(None, rows) for rows in groups.values() if rows]
    merged = list(heapq.merge(*groups.values(), key=lambda row: row[0]))
    if not merged or not isinstance(merged[0][1], Summary | None):
        return [(None, merged)] if merged else []
    by_time: dict[datetime, Row] = {}
    for ts, summary, room in merged:
        known = by_time.get(ts)
        if known is None or known[1] is None:
            by_time[ts] = (ts, summary, room)
        elif isinstance(summary, Summary) and isinstance(known[1], Summary):
            by_time[ts] = (ts, known[1].merge(summary), known[2])
    return [(None, list(by_time.values()))]


def _bounds(select: Select) -> tuple[datetime, datetime]:
    """The window asked for, within the years anything can be stored."""
    since = EARLIEST if select.since is None else max(select.since, EARLIEST)
    until = LATEST - MICROSECOND if select.until is None else min(select.until, LATEST)
    return since, until


async def _raw(select: Select, rooms: list[str], context: Context) -> dict[str, list[Row]]:
    """Room after room, never reading more than MAX_RAW_POINTS in all, however many rooms."""
    since, until = _bounds(select)
    wanted = MAX_RAW_POINTS + 1
    if select.limit is not None and not select.descending:
        wanted = min(wanted, select.skip + select.limit)
    left = MAX_RAW_POINTS + 1
    found: dict[str, list[Row]] = {}
    for room in rooms:
        rows = await queries.measurements(context.store, room, since, until, min(wanted, left))
        left -= len(rows)
        if left <= 0:
            raise InvalidQuery(
                f"more than {MAX_RAW_POINTS} points: add a LIMIT, or a narrower time range"
            )
        found[room] = [(ts, kelvin, room) for ts, kelvin in rows]
    return found


async def _totals(select: Select, rooms: list[str], context: Context) -> dict[str, list[Row]]:
    since, until = _bounds(select)
    reported = select.since or EPOCH  # InfluxDB's time of a total: the window's start

    async def total(room: str) -> list[Row]:
        try:
            found = await queries.window(
                context.store, room, since, until, raw_from=context.raw_from
            )
        except (UnknownRoom, EmptyWindow):
            return []
        return [(reported, found.summary, room)]

    return dict(zip(rooms, await asyncio.gather(*map(total, rooms)), strict=True))


async def _buckets(select: Select, rooms: list[str], context: Context) -> dict[str, list[Row]]:
    interval, since = select.interval, select.since
    assert interval is not None  # the parser makes sure of both
    assert since is not None
    since = max(since, EARLIEST)  # nothing is stored outside these years
    until, offset = min(select.until or context.now, LATEST - MICROSECOND), select.offset
    edges = [edge + offset for edge in bucket_edges(since - offset, until - offset, interval)]

    async def buckets(room: str) -> list[Row]:
        try:
            found = await queries.series(
                context.store, room, since, until, edges, raw_from=context.raw_from
            )
        except UnknownRoom:
            found = None
        if found is None or not found.points:
            return []  # InfluxDB answers no series, rather than one of nothing but nulls
        summaries = dict(found.points)
        return [(start, summaries.get(start), room) for start in edges[:-1]]

    return dict(zip(rooms, await asyncio.gather(*map(buckets, rooms)), strict=True))
