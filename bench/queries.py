"""Query latency over a year of data: 10 rooms x 525,600 measurements (one a minute), loaded
through the batch endpoint; then averages and a series over HTTP, beside the naive AVG() over
the raw rows in the database itself."""

import asyncio
import sqlite3
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import asyncpg
import msgspec

from bench.load import Batches, read_response, send_batches
from roomtemp.domain.rollups import EPOCH, MICROSECOND
from roomtemp.storage import backend_of

ROOMS = 10  # bench --quick: 1
MINUTES_A_YEAR = 525_600
AVERAGES = ("PT15M", "P1D", "P30D", "P365D")
SERIES = ("P7D", "PT1H")
WINDOWS = {
    "PT15M": timedelta(minutes=15),
    "P1D": timedelta(days=1),
    "P30D": timedelta(days=30),
    "P365D": timedelta(days=365),
}
NAIVE = (
    "SELECT avg(kelvin), count(*) FROM measurements"
    " WHERE room = (SELECT id FROM rooms WHERE name = {0}) AND ts BETWEEN {1} AND {2}"
)


def year_of_batches(end: datetime, rooms: int) -> Batches:
    """One measurement a minute for a year before `end`, for each room, 5,000 to a batch."""
    bodies, batch = [], []
    encoder = msgspec.json.Encoder()
    for minute in range(MINUTES_A_YEAR):
        ts = (end - timedelta(minutes=minute)).isoformat()
        for room in range(rooms):
            value = 288 + (minute % 1440) / 240 + room / 10  # a daily curve, a room apart
            batch.append({"room_id": f"year-{room}", "v": value, "ts": ts})
            if len(batch) == 5_000:
                bodies.append(encoder.encode(batch))
                batch = []
    if batch:
        bodies.append(encoder.encode(batch))
    return Batches("year", bodies, rooms * MINUTES_A_YEAR)


async def _latencies(url: str, paths: list[str]) -> list[float]:
    """Each GET in turn over one kept-alive connection: its latency, in milliseconds."""
    address = urlsplit(url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    found = []
    try:
        for path in paths:
            began = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
            status, _ = await read_response(reader)
            found.append((time.perf_counter() - began) * 1000)
            assert status == 200, (path, status)
    finally:
        writer.close()
    return found


def _percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[min(len(ordered) - 1, round(len(ordered) * 0.99))],
    }


def query_latencies(url: str, end: datetime, rooms: int, requests: int) -> dict[str, Any]:
    """p50 and p99 of each kind of query, over HTTP, cycling through the rooms."""
    at = quote(end.isoformat())
    kinds = {
        **{f"average {d}": f"/measurements/{{room}}/average/{d}?end={at}" for d in AVERAGES},
        f"series {SERIES[0]} by {SERIES[1]}": (
            f"/measurements/{{room}}/series/{SERIES[0]}?bucket={SERIES[1]}&end={at}"
        ),
    }
    found = {}
    for kind, template in kinds.items():
        paths = [template.format(room=f"year-{i % rooms}") for i in range(requests + 20)]
        found[kind] = _percentiles(asyncio.run(_latencies(url, paths))[20:])  # after warming
    return found


def naive_latencies(database_url: str, end: datetime, rooms: int, runs: int) -> dict[str, Any]:
    """The same averages by a plain AVG() over the raw rows, in the database, no HTTP."""
    found = {}
    for duration, window in WINDOWS.items():
        times = [
            _naive_once(database_url, f"year-{run % rooms}", end - window, end)
            for run in range(runs + 2)
        ]
        found[f"average {duration}"] = _percentiles(times[2:])
    return found


def _naive_once(url: str, room: str, since: datetime, until: datetime) -> float:
    if backend_of(url) == "sqlite":
        micros = [(ts - EPOCH) // MICROSECOND for ts in (since, until)]
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            began = time.perf_counter()
            connection.execute(NAIVE.format("?", "?", "?"), (room, *micros)).fetchone()
            elapsed = time.perf_counter() - began
        connection.close()
        return elapsed * 1000

    async def query() -> float:
        connection = await asyncpg.connect(url)
        try:
            statement = await connection.prepare(NAIVE.format("$1", "$2", "$3"))
            began = time.perf_counter()
            await statement.fetchrow(room, since, until)
            return (time.perf_counter() - began) * 1000
        finally:
            await connection.close()

    return asyncio.run(query())


def measure_queries(
    server_url: str, database_url: str, *, rooms: int, requests: int
) -> dict[str, Any]:
    """Load a year, then time the queries, over HTTP and naively."""
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    load = send_batches(server_url, year_of_batches(end, rooms), senders=4)
    return {
        "loaded": load,
        "http": query_latencies(server_url, end, rooms, requests),
        "naive": naive_latencies(database_url, end, rooms, runs=max(10, requests // 20)),
    }
