"""The physical limits, without HTTP: what PostgreSQL itself takes from a client on this machine."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import asyncpg

COPY_TABLE = """
CREATE TABLE bench_copy (
    room integer NOT NULL REFERENCES rooms (id),
    ts timestamptz NOT NULL,
    kelvin double precision NOT NULL,
    PRIMARY KEY (room, ts)
)
"""  # the same as roomtemp's measurements table, constraints included


async def _rooms(connection: asyncpg.Connection, count: int) -> list[int]:
    names = [f"reference-{index}" for index in range(count)]
    await connection.executemany(
        "INSERT INTO rooms (name) VALUES ($1) ON CONFLICT DO NOTHING", [(n,) for n in names]
    )
    rows = await connection.fetch("SELECT id FROM rooms WHERE name = ANY($1::text[])", names)
    return [row["id"] for row in rows]


async def raw_copy(url: str, total: int, *, connections: int, chunk: int) -> float:
    """Rows/s of binary COPY of `total` rows like the HTTP batches', from `connections` at once."""
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

    began = time.perf_counter()
    await asyncio.gather(*(copier(connection) for connection in pool))
    elapsed = time.perf_counter() - began
    assert await setup.fetchval("SELECT count(*) FROM bench_copy") == total
    await setup.execute("DROP TABLE bench_copy")  # not to weigh on what is measured next
    for connection in [*pool, setup]:
        await connection.close()
    return total / elapsed


async def raw_single_commits(url: str, *, connections: int, seconds: float) -> float:
    """Commits/s of one-row INSERTs (autocommit), from `connections` at once."""
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

    began = time.perf_counter()
    await asyncio.gather(*(writer(number, connection) for number, connection in enumerate(pool)))
    elapsed = time.perf_counter() - began
    assert await setup.fetchval("SELECT count(*) FROM bench_single") == sum(counts)
    await setup.execute("DROP TABLE bench_single")
    for connection in [*pool, setup]:
        await connection.close()
    return sum(counts) / elapsed
