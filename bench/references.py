"""The physical limits, without HTTP: what PostgreSQL and SQLite themselves take from a client
on this machine, and what the server stack answers with no application behind it."""

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from bench.load import server_cpu_seconds
from tests.network import free_port

# roomtemp's measurements table without its foreign key (which alone halves COPY's rate): what
# storing these rows durably can cost, not what today's schema costs (issue 14).
COPY_TABLE = """
CREATE TABLE bench_copy (
    room integer NOT NULL,
    ts timestamptz NOT NULL,
    kelvin double precision NOT NULL,
    PRIMARY KEY (room, ts)
)
"""


async def _rooms(connection: asyncpg.Connection, count: int) -> list[int]:
    names = [f"reference-{index}" for index in range(count)]
    await connection.executemany(
        "INSERT INTO rooms (name) VALUES ($1) ON CONFLICT DO NOTHING", [(n,) for n in names]
    )
    rows = await connection.fetch("SELECT id FROM rooms WHERE name = ANY($1::text[])", names)
    return [row["id"] for row in rows]


def _cpu_seconds(postmaster: int | None) -> tuple[float, float | None]:
    """CPU seconds used so far by this process, whose asyncio loop is the references' client,
    and by PostgreSQL's processes (None when its server is not on this machine)."""
    return time.process_time(), None if postmaster is None else server_cpu_seconds(postmaster)


def _per_item(
    name: str, before: tuple[float, float | None], items: int, postmaster: int | None
) -> dict[str, float | None]:
    """CPU per item (us) of the client and of PostgreSQL since `before`, named after `name`."""
    client, postgres = _cpu_seconds(postmaster)
    return {
        f"{name}_client_cpu_us": (client - before[0]) / items * 1e6,
        f"{name}_postgres_cpu_us": None
        if postgres is None or before[1] is None
        else (postgres - before[1]) / items * 1e6,
    }


async def raw_copy(
    url: str, total: int, *, connections: int, chunk: int, postmaster: int | None
) -> dict[str, float | None]:
    """Rows/s of binary COPY of `total` rows like the HTTP batches', from `connections` at once,
    and the CPU per row of the client and of PostgreSQL (the `postmaster`'s processes)."""
    setup = await asyncpg.connect(url)
    await setup.execute("DROP TABLE IF EXISTS bench_copy")
    await setup.execute(COPY_TABLE)
    rooms = await _rooms(setup, 100)
    start = datetime.now(UTC).replace(microsecond=0)
    rows = [
        (rooms[index % 100], start - timedelta(seconds=index // 100), 290 + index % 100 / 10)
        for index in range(total)
    ]
    chunks = [rows[first : first + chunk] for first in range(0, total, chunk)]
    pool = [await asyncpg.connect(url) for _ in range(connections)]

    async def copier(connection: asyncpg.Connection) -> None:
        while chunks:
            await connection.copy_records_to_table("bench_copy", records=chunks.pop())

    began, cpu = time.perf_counter(), _cpu_seconds(postmaster)
    await asyncio.gather(*(copier(connection) for connection in pool))
    elapsed = time.perf_counter() - began
    spent = _per_item("copy", cpu, total, postmaster)
    assert await setup.fetchval("SELECT count(*) FROM bench_copy") == total
    await setup.execute("DROP TABLE bench_copy")  # not to weigh on what is measured next
    for connection in [*pool, setup]:
        await connection.close()
    return {"copy_rows_per_s": total / elapsed, **spent}


async def raw_single_commits(
    url: str, *, connections: int, seconds: float, postmaster: int | None
) -> dict[str, float | None]:
    """Commits/s of one-row INSERTs (autocommit), from `connections` at once, and the CPU per
    commit of the client and of PostgreSQL (the `postmaster`'s processes)."""
    setup = await asyncpg.connect(url)
    await setup.execute("DROP TABLE IF EXISTS bench_single")
    await setup.execute(COPY_TABLE.replace("bench_copy", "bench_single"))
    room = (await _rooms(setup, 1))[0]
    pool = [await asyncpg.connect(url) for _ in range(connections)]
    start = datetime.now(UTC)
    deadline = time.perf_counter() + seconds
    counts = [0] * connections

    async def writer(number: int, connection: asyncpg.Connection) -> None:
        insert = await connection.prepare("INSERT INTO bench_single VALUES ($1, $2, $3)")
        step = 0
        while time.perf_counter() < deadline:
            step += 1
            await insert.fetch(
                room, start - timedelta(microseconds=step * connections + number), 291.5
            )
        counts[number] = step

    began, cpu = time.perf_counter(), _cpu_seconds(postmaster)
    await asyncio.gather(*(writer(number, connection) for number, connection in enumerate(pool)))
    elapsed = time.perf_counter() - began
    spent = _per_item("single_commits", cpu, sum(counts), postmaster)
    assert await setup.fetchval("SELECT count(*) FROM bench_single") == sum(counts)
    await setup.execute("DROP TABLE bench_single")
    for connection in [*pool, setup]:
        await connection.close()
    return {"single_commits_per_s": sum(counts) / elapsed, **spent}


def raw_executemany(path: str, total: int) -> float:
    """Rows/s of one executemany() of `total` rows like the HTTP batches', in one transaction,
    into a copy of roomtemp's measurements table, with roomtemp's connection settings."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA foreign_keys = ON")
    definition: str = connection.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'measurements'"
    ).fetchone()[0]
    connection.execute(definition.replace("measurements", "bench_executemany", 1))
    names = [(f"reference-{index}",) for index in range(100)]
    connection.executemany("INSERT INTO rooms (name) VALUES (?) ON CONFLICT DO NOTHING", names)
    rooms = [
        row[0] for row in connection.execute("SELECT id FROM rooms WHERE name LIKE 'reference-%'")
    ]
    start = int(time.time()) * 1_000_000
    rows = [
        (rooms[index % 100], start - index // 100 * 1_000_000, 290 + index % 100 / 10)
        for index in range(total)
    ]
    began = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany("INSERT INTO bench_executemany VALUES (?, ?, ?)", rows)
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - began
    connection.execute("DROP TABLE bench_executemany")
    # Gives the dropped table's pages back: left on the free list, they made roomtemp's first
    # batches (JSON) take pages from it, scattered, and NDJSON's after them append.
    connection.execute("VACUUM")
    connection.close()
    return total / elapsed


@contextmanager
def bare_server(workers: int) -> Iterator[tuple[str, int]]:
    """bench/bare_app.py served by uvicorn as `roomtemp serve` runs it (httptools, uvloop,
    `workers` processes): its URL, and the pid of the process whose children the workers are."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--port", str(port)]
    flags = ["--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    process = subprocess.Popen([*command, *flags], env={**os.environ, "PYTHONPATH": os.getcwd()})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)
