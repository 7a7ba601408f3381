"""What PostgreSQL says about the rollups while they are read: dead row versions, HOT updates,
autovacuum's visits, and the buffers the year's average touches (EXPLAIN ANALYZE, BUFFERS)."""

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from roomtemp.domain.rollups import plan
from roomtemp.storage import backend_of
from roomtemp.storage.postgres.statements import SUMMARISE

TABLES = """
SELECT relname, n_live_tup, n_dead_tup, n_tup_upd, n_tup_hot_upd, autovacuum_count,
       autoanalyze_count
FROM pg_stat_user_tables WHERE relname IN ('rollups', 'measurements') ORDER BY relname
"""


def rollup_state(database_url: str, room: str, end: datetime) -> dict[str, Any] | None:
    """None on SQLite, which has neither dead versions nor a vacuum running beside it."""
    if backend_of(database_url) != "postgres":
        return None
    return asyncio.run(_state(database_url, room, end))


async def _state(url: str, room: str, end: datetime) -> dict[str, Any]:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("SELECT pg_stat_force_next_flush()")
        tables = {row[0]: dict(row) for row in await connection.fetch(TABLES)}
        pieces = plan(end - timedelta(days=365), end).pieces
        explained = await connection.fetchval(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + SUMMARISE,
            room,
            [None if p.width is None else p.width // timedelta(seconds=1) for p in pieces],
            [p.start for p in pieces],
            [p.end for p in pieces],
        )
        workers = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
        )
    finally:
        await connection.close()
    top = json.loads(explained)[0]
    return {
        "tables": tables,
        "autovacuum_workers_running": workers,
        "average_p365d": {
            "execution_ms": top["Execution Time"],
            "shared_hit_blocks": top["Plan"]["Shared Hit Blocks"],
            "shared_read_blocks": top["Plan"]["Shared Read Blocks"],
        },
    }
