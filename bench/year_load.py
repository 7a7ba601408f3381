"""A room holding a year at one measurement a second (31,536,000 rows), written straight into
the database with its rollups: through the API it would take longer than the rest of the bench.
The values follow the day, so that every bucket differs from the next."""

import asyncio
import sqlite3
import time
from datetime import datetime, timedelta

import asyncpg

from roomtemp.domain.rollups import EPOCH, MICROSECOND
from roomtemp.storage import backend_of

# kelvin at second s since the epoch: a daily curve, and a 7 s ripple so that min != max
_VALUE = "290 + ({s} % 86400) / 8640.0 + ({s} % 7) / 10.0"

# Each level summed from the one below, as the writes would have: quarters from the raw rows.
# last_kelvin matters only for a room's total (GET /rooms), set afterwards.
_POSTGRES_LEVELS = [
    f"""INSERT INTO rollups
    SELECT room, {width}, date_bin('{interval}', start, 'epoch'), sum(count), sum(total),
           min(minimum), max(maximum), min(first_ts), max(last_ts), 0
    FROM rollups WHERE room = $1 AND width = 900 GROUP BY 1, 2, 3"""
    for width, interval in ((3600, "1 hour"), (86400, "1 day"))
]
_SQLITE_LEVELS = [
    f"""INSERT INTO rollups
    SELECT room, {width}, start - ((start % {width * 10**6}) + {width * 10**6}) % {width * 10**6},
           sum(count), sum(total), min(minimum), max(maximum), min(first_ts), max(last_ts), 0
    FROM rollups WHERE room = ?1 AND width = 900 GROUP BY 1, 2, 3"""
    for width in (3600, 86400)
]


def load_year(database_url: str, room: str, end: datetime, days: int) -> float:
    """Write `days` of one measurement a second before `end` (a whole second) into `room` of
    the migrated database, rollups included; the seconds it took."""
    began = time.perf_counter()
    start = end - timedelta(days=days)
    if backend_of(database_url) == "sqlite":
        _load_sqlite(database_url.removeprefix("sqlite:///"), room, start, end)
    else:
        asyncio.run(_load_postgres(database_url, room, start, end))
    return time.perf_counter() - began


async def _load_postgres(url: str, room: str, start: datetime, end: datetime) -> None:
    connection = await asyncpg.connect(url, command_timeout=3600)
    try:
        key = await connection.fetchval("INSERT INTO rooms (name) VALUES ($1) RETURNING id", room)
        # A primary key built once from sorted rows: faster than inserting into the table as
        # it stands.
        await connection.execute("ALTER TABLE measurements DROP CONSTRAINT measurements_pkey")
        await connection.execute(
            "INSERT INTO measurements (room, ts, kelvin)"
            f" SELECT $1, ts, {_VALUE.format(s='extract(epoch FROM ts)::bigint')}"
            " FROM generate_series($2::timestamptz, $3::timestamptz - interval '1 second',"
            " interval '1 second') AS ts",
            key,
            start,
            end,
        )
        await connection.execute("ALTER TABLE measurements ADD PRIMARY KEY (room, ts)")
        await connection.execute(
            "INSERT INTO rollups SELECT room, 900, date_bin('15 minutes', ts, 'epoch'), count(*),"
            " sum(kelvin), min(kelvin), max(kelvin), min(ts), max(ts), 0"
            " FROM measurements WHERE room = $1 GROUP BY 1, 2, 3",
            key,
        )
        for level in _POSTGRES_LEVELS:
            await connection.execute(level, key)
        await connection.execute(
            "INSERT INTO rollups SELECT room, 0, 'epoch', sum(count), sum(total), min(minimum),"
            " max(maximum), min(first_ts), max(last_ts),"
            " (SELECT kelvin FROM measurements WHERE room = $1 ORDER BY ts DESC LIMIT 1)"
            " FROM rollups WHERE room = $1 AND width = 86400 GROUP BY room",
            key,
        )
    finally:
        await connection.close()


def _load_sqlite(path: str, room: str, start: datetime, end: datetime) -> None:
    first, last = ((ts - EPOCH) // MICROSECOND for ts in (start, end))
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA synchronous = OFF")  # a bench's data: no need to survive
        key = connection.execute(
            "INSERT INTO rooms (name) VALUES (?) RETURNING id", (room,)
        ).fetchone()[0]
        connection.execute(
            "WITH RECURSIVE seconds (ts) AS"
            " (SELECT ?2 UNION ALL SELECT ts + 1000000 FROM seconds WHERE ts + 1000000 < ?3)"
            f" INSERT INTO measurements SELECT ?1, ts, {_VALUE.format(s='(ts / 1000000)')}"
            " FROM seconds",
            (key, first, last),
        )
        connection.execute(
            "INSERT INTO rollups SELECT room, 900, ts - ((ts % 900000000) + 900000000) % 900000000,"
            " count(*), sum(kelvin), min(kelvin), max(kelvin), min(ts), max(ts), 0"
            " FROM measurements WHERE room = ?1 GROUP BY 1, 2, 3",
            (key,),
        )
        for level in _SQLITE_LEVELS:
            connection.execute(level, (key,))
        connection.execute(
            "INSERT INTO rollups SELECT room, 0, 0, sum(count), sum(total), min(minimum),"
            " max(maximum), min(first_ts), max(last_ts),"
            " (SELECT kelvin FROM measurements WHERE room = ?1 ORDER BY ts DESC LIMIT 1)"
            " FROM rollups WHERE room = ?1 AND width = 86400 GROUP BY room",
            (key,),
        )
    connection.close()
