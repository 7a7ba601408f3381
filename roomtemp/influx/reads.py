"""InfluxQL statements answered through roomtemp's read path: aggregates from the rollups
(queries.window, queries.series: raw rows only at the edges that cut an hour), raw points
through queries.measurements. Times are bucketed as InfluxDB buckets them, on multiples of
the interval since the epoch (shifted by an offset), and reported at each bucket's start.

The data as InfluxDB clients see it: one database, `roomtemp`; measurements named by a unit
(°C, °F, K) or `temperature` (the default unit), each holding every room in its unit; the
room as a tag under each name of ROOMTEMP_INFLUX_ROOM_TAGS; one float field, `value`.
"""

import asyncio
import heapq
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from roomtemp import queries
from roomtemp.domain.measurements import EARLIEST, LATEST, EmptyWindow, UnknownRoom
from roomtemp.domain.rollups import EPOCH, MICROSECOND, Summary
from roomtemp.domain.series import InvalidBuckets, bucket_edges
from roomtemp.domain.units import Unit, from_kelvin, parse_unit
from roomtemp.influx.answers import SeriesAnswer, StatementAnswer
from roomtemp.influx.influxql import (
    CreateDatabase,
    InvalidQuery,
    Rooms,
    Select,
    Show,
    Statement,
)
from roomtemp.influx.points import Rules
from roomtemp.storage.base import MeasurementStore

DATABASE = "roomtemp"
MEASUREMENTS = ("K", "temperature", "°C", "°F")  # in InfluxDB's order: by their bytes
MAX_RAW_POINTS = 100_000
RETENTION_POLICY = ["autogen", "0s", "168h0m0s", 1, True]


@dataclass(frozen=True, slots=True)
class Context:
    store: MeasurementStore
    rules: Rules
    now: datetime
    raw_from: datetime | None  # the raw retention horizon


async def answer(statement: Statement, context: Context) -> StatementAnswer:
    """The answer to one statement; an InvalidQuery found while answering is its error."""
    try:
        if isinstance(statement, CreateDatabase):
            return StatementAnswer()  # roomtemp has one database: nothing to create
        if isinstance(statement, Show):
            return await _show(statement, context)
        return await _select(statement, context)
    except (InvalidQuery, InvalidBuckets) as error:
        return StatementAnswer(error=str(error))


async def _show(show: Show, context: Context) -> StatementAnswer:
    if show.what == "databases":
        return _listed("databases", ["name"], [[DATABASE]], show)
    if show.what == "retention policies":
        columns = ["name", "duration", "shardGroupDuration", "replicaN", "default"]
        return StatementAnswer([SeriesAnswer("", columns, [RETENTION_POLICY])])
    if show.what == "measurements":
        names = [name for name in MEASUREMENTS if _chosen(name, show)]
        return _listed("measurements", ["name"], [[name] for name in names], show)
    measurements = [show.measurement] if show.measurement else list(MEASUREMENTS)
    measurements = [name for name in measurements if context.rules.unit_of(name) is not None]
    series = []
    for name in measurements:
        if show.what == "field keys":
            rows: list[list[Any]] = [[context.rules.value_fields[0], "float"]]
            series.append(SeriesAnswer(name, ["fieldKey", "fieldType"], rows))
        elif show.what == "tag keys":
            rows = [[tag] for tag in sorted(context.rules.room_tags)]
            series.append(SeriesAnswer(name, ["tagKey"], _page(rows, show.limit, show.skip)))
        else:  # tag values
            keys = [tag for tag in sorted(context.rules.room_tags) if _chosen(tag, show)]
            rooms = await _rooms(show.rooms, context)
            rows = [[key, room] for key in keys for room in rooms]
            if rows:
                series.append(
                    SeriesAnswer(name, ["key", "value"], _page(rows, show.limit, show.skip))
                )
    return StatementAnswer(series)


def _chosen(name: str, show: Show) -> bool:
    if show.names:
        return name in show.names
    return show.pattern is None or show.pattern.search(name) is not None


def _listed(name: str, columns: list[str], rows: list[list[Any]], show: Show) -> StatementAnswer:
    rows = _page(rows, show.limit, show.skip)
    return StatementAnswer([SeriesAnswer(name, columns, rows)] if rows else [])


def _page(rows: list[Any], limit: int | None, skip: int) -> list[Any]:
    return rows[skip : None if limit is None else skip + limit]


async def _rooms(rooms: Rooms, context: Context) -> list[str]:
    if rooms.exact is not None:
        return [rooms.exact]
    return [room for room in await queries.room_ids(context.store) if rooms.test(room)]


async def _select(select: Select, context: Context) -> StatementAnswer:
    unit_name = context.rules.unit_of(select.measurement)
    fields = {column.field for column in select.columns} - {"*"}
    if unit_name is None or not fields <= set(context.rules.value_fields):
        return StatementAnswer()  # another unit's measurement, or a field it does not have
    unit = parse_unit(unit_name)
    rooms = await _rooms(select.rooms, context)
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
            _series(select, unit, room_tag, room, rows, values)
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


# Rows of a room before they are answered: (ts, summary or raw value, room).
Row = tuple[datetime, Summary | float | None, str]


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
    since, until = _bounds(select)
    cap = MAX_RAW_POINTS + 1
    if select.limit is not None and not select.descending:
        cap = min(cap, select.skip + select.limit)
    found = await asyncio.gather(
        *(queries.measurements(context.store, room, since, until, cap) for room in rooms)
    )
    if sum(map(len, found)) > MAX_RAW_POINTS:
        raise InvalidQuery(
            f"more than {MAX_RAW_POINTS} points: add a LIMIT, or a narrower time range"
        )
    return {
        room: [(ts, kelvin, room) for ts, kelvin in rows]
        for room, rows in zip(rooms, found, strict=True)
    }


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


def _series(
    select: Select,
    unit: Unit,
    room_tag: str,
    room: str | None,
    rows: list[Row],
    values: dict[datetime, float],
) -> SeriesAnswer:
    tags = {room_tag: room} if room is not None else None
    if select.columns[0].function is None:
        columns, table = _raw_table(select, unit, room_tag, room is None, rows)
    else:
        columns = ["time", *_names(column.name for column in select.columns)]
        functions = [column.function or "" for column in select.columns]
        table = [
            [ts, *(_aggregate(name, summary, unit, values) for name in functions)]
            for ts, summary, _ in rows
        ]
        if select.interval is not None:
            table = _fill(table, select.fill, functions)
        elif len(functions) == 1 and functions[0] in ("first", "last") and rows:
            summary = rows[0][1]  # a lone selector reports the time of its point
            if isinstance(summary, Summary):
                table[0][0] = summary.first_ts if functions[0] == "first" else summary.last_ts
    if select.descending:
        table.reverse()
    return SeriesAnswer(select.measurement, columns, _page(table, select.limit, select.skip), tags)


def _raw_table(
    select: Select, unit: Unit, room_tag: str, with_room: bool, rows: list[Row]
) -> tuple[list[str], list[list[Any]]]:
    names: list[str] = []
    for column in select.columns:
        if column.field == "*":
            names += [room_tag, "value"] if with_room else ["value"]
        else:
            names.append(column.name)
    table = []
    for ts, kelvin, room in rows:
        value = from_kelvin(kelvin, unit) if isinstance(kelvin, float) else None
        row: list[Any] = [ts]
        for column in select.columns:
            row += [room, value] if column.field == "*" and with_room else [value]
        table.append(row)
    return ["time", *_names(names)], table


def _names(names: Iterable[str]) -> list[str]:
    """InfluxDB's column names: a repeated one gets _1, _2..."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        unique.append(name if count == 0 else f"{name}_{count}")
    return unique


def _aggregate(
    function: str, summary: Summary | float | None, unit: Unit, values: dict[datetime, float]
) -> float | int | None:
    if not isinstance(summary, Summary):
        return None
    if function == "count":
        return summary.count
    if function == "mean":
        return from_kelvin(summary.mean, unit)
    if function == "sum":
        return from_kelvin(summary.mean, unit) * summary.count  # the sum of converted values
    if function == "min":
        return from_kelvin(summary.minimum, unit)
    if function == "max":
        return from_kelvin(summary.maximum, unit)
    kelvin = values.get(summary.first_ts if function == "first" else summary.last_ts)
    return None if kelvin is None else from_kelvin(kelvin, unit)


def _fill(table: list[list[Any]], fill: str | float, functions: Sequence[str]) -> list[list[Any]]:
    """InfluxDB's fill() of empty buckets; count() reports 0 for them, which a number replaces."""
    if fill == "none":
        return [row for row in table if any(value is not None for value in row[1:])]
    for index, function in enumerate(functions, 1):
        if isinstance(fill, float):
            for row in table:
                if row[index] is None or (function == "count" and row[index] == 0):
                    row[index] = fill
        elif function == "count":
            for row in table:
                row[index] = 0 if row[index] is None else row[index]
        elif fill == "previous":
            last = None
            for row in table:
                last = row[index] = last if row[index] is None else row[index]
        elif fill == "linear":
            known = [(at, row[index]) for at, row in enumerate(table) if row[index] is not None]
            for (start, low), (end, high) in itertools.pairwise(known):
                for position in range(start + 1, end):
                    table[position][index] = low + (high - low) * (position - start) / (end - start)
    return table
