"""Bytes on disk per measurement on PostgreSQL (docs/scaling.md's capacity arithmetic):
ROOMS rooms, one measurement a minute each for DAYS days, written through the store in
batches as a gateway sends them (rollups included), then pg_total_relation_size of each
table (heap, indexes, TOAST) after a VACUUM. `python -m bench.disk_size`; about a minute.
"""

import asyncio
import sys
from datetime import UTC, datetime, timedelta

import asyncpg

from roomtemp.domain.measurements import Measurement
from roomtemp.storage import migrate, open_store
from tests.throwaway_postgres import start_throwaway_postgres

ROOMS = 50
DAYS = 7
EVERY = timedelta(minutes=1)
BATCH = 5000
START = datetime(2026, 1, 5, tzinfo=UTC)
SIZES = """
SELECT relname::text, pg_total_relation_size(oid), pg_relation_size(oid)
FROM pg_class WHERE relname IN ('measurements', 'rollups', 'rooms') ORDER BY 1
"""


def sample() -> list[Measurement]:
    steps = int(timedelta(days=DAYS) / EVERY)
    return [
        Measurement(f"Room {room:03}", START + step * EVERY, 290.0 + (step % 97) / 10)
        for step in range(steps)
        for room in range(ROOMS)
    ]


async def measure(url: str) -> dict[str, tuple[int, int]]:
    await migrate(url)
    store = await open_store(url)
    try:
        measurements = sample()
        for first in range(0, len(measurements), BATCH):
            await store.add(measurements[first : first + BATCH])
    finally:
        await store.close()
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("VACUUM ANALYZE")
        return {row[0]: (row[1], row[2]) for row in await connection.fetch(SIZES)}
    finally:
        await connection.close()


def main() -> None:
    server = start_throwaway_postgres()
    try:
        sizes = asyncio.run(measure(server.url))
    finally:
        server.remove()
    count = ROOMS * int(timedelta(days=DAYS) / EVERY)
    total = sum(whole for whole, _ in sizes.values())
    lines = [f"{count:,} measurements ({ROOMS} rooms, 1/min, {DAYS} days):"]
    for table, (whole, heap) in sizes.items():
        lines.append(
            f"  {table:<13}{whole / 1e6:8.1f} MB  ({heap / 1e6:.1f} MB heap),"
            f" {whole / count:6.1f} bytes per measurement"
        )
    lines.append(f"  {'all':<13}{total / 1e6:8.1f} MB, {total / count:6.1f} bytes per measurement")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
