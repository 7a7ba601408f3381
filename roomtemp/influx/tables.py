"""Rows of a SELECT made into InfluxDB's series: columns, units, fill() of empty buckets."""

import itertools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from roomtemp.domain.rollups import Summary
from roomtemp.domain.units import Unit, from_kelvin
from roomtemp.influx.answers import SeriesAnswer
from roomtemp.influx.context import page
from roomtemp.influx.influxql import Select

# Rows of a room before they are answered: (ts, summary or raw value, room).
Row = tuple[datetime, Summary | float | None, str]


def series(
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
    return SeriesAnswer(select.measurement, columns, page(table, select.limit, select.skip), tags)


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
