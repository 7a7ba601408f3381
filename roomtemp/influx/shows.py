"""SHOW statements: the schema as InfluxDB clients see it. One database, `roomtemp`;
measurements named by a unit (°C, °F, K) or `temperature` (the default unit), each holding
every room in its unit; the room as a tag under each name of ROOMTEMP_INFLUX_ROOM_TAGS; one
float field, `value`."""

from typing import Any

from roomtemp.influx.answers import SeriesAnswer, StatementAnswer
from roomtemp.influx.context import Context, page, rooms_of
from roomtemp.influx.influxql import Show

DATABASE = "roomtemp"
MEASUREMENTS = ("K", "temperature", "°C", "°F")  # in InfluxDB's order: by their bytes
RETENTION_POLICY = ["autogen", "0s", "168h0m0s", 1, True]


async def show(show: Show, context: Context) -> StatementAnswer:
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
            series.append(SeriesAnswer(name, ["tagKey"], page(rows, show.limit, show.skip)))
        else:  # tag values
            keys = [tag for tag in sorted(context.rules.room_tags) if _chosen(tag, show)]
            rooms = await rooms_of(show.rooms, context)
            rows = [[key, room] for key in keys for room in rooms]
            if rows:
                series.append(
                    SeriesAnswer(name, ["key", "value"], page(rows, show.limit, show.skip))
                )
    return StatementAnswer(series)


def _chosen(name: str, show: Show) -> bool:
    if show.names:
        return name in show.names
    return show.pattern is None or show.pattern.search(name) is not None


def _listed(name: str, columns: list[str], rows: list[list[Any]], show: Show) -> StatementAnswer:
    rows = page(rows, show.limit, show.skip)
    return StatementAnswer([SeriesAnswer(name, columns, rows)] if rows else [])
