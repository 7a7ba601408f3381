"""Migrations: applied once, recorded, and safe when two processes run them at once."""

import asyncio
import sqlite3
import sys
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from roomtemp.domain.rollups import EPOCH, HOUR, MICROSECOND
from roomtemp.storage import SchemaOutOfDate, migrate, open_store
from roomtemp.storage.migrations import migrations_for


def every_backend_should_ship_the_same_migration_versions() -> None:
    sqlite = [(m.version, m.name) for m in migrations_for("sqlite")]
    assert sqlite == [(m.version, m.name) for m in migrations_for("postgres")]
    # Parallel branches take numbers apart, so there may be gaps; never a repeat.
    assert [version for version, _ in sqlite] == sorted({version for version, _ in sqlite})


async def migrate_should_apply_everything_once(persistent_url: str) -> None:
    everything = [m.name for m in migrations_for("sqlite")]
    assert await migrate(persistent_url) == everything
    assert await migrate(persistent_url) == []


async def open_store_should_refuse_a_database_that_is_behind(persistent_url: str) -> None:
    with pytest.raises(SchemaOutOfDate, match="roomtemp migrate"):
        await open_store(persistent_url)


async def migrate_run_by_two_processes_at_once_should_apply_each_migration_once(
    persistent_url: str,
) -> None:
    command = [sys.executable, "-m", "roomtemp", "migrate", "--database-url", persistent_url]
    processes = [
        await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = sorted([(await process.communicate())[0].decode().strip() for process in processes])
    assert [process.returncode for process in processes] == [0, 0]
    names = ", ".join(m.name for m in migrations_for("sqlite"))
    assert outputs == sorted([f"applied: {names}", "the schema is up to date"])
    store = await open_store(persistent_url)  # would raise SchemaOutOfDate if anything were missing
    await store.close()


async def the_rollups_migration_should_summarise_what_was_stored_before_it(
    persistent_url: str,
) -> None:
    await migrate(persistent_url, upto=1)
    t0 = datetime(1969, 12, 31, 23, 30, tzinfo=UTC)  # before the epoch: buckets still floor
    rows = [(t0 + timedelta(minutes=20 * index), 290.0 + index) for index in range(6)]
    await insert_raw(persistent_url, "hall", rows)
    assert await migrate(persistent_url) == [m.name for m in migrations_for("sqlite")][1:]
    store = await open_store(persistent_url)
    try:
        hours = await store.buckets("hall", HOUR, t0 - HOUR, t0 + 3 * HOUR)
        assert [(start, summary.count) for start, summary in hours] == [
            (datetime(1969, 12, 31, 23, tzinfo=UTC), 2),
            (datetime(1970, 1, 1, 0, tzinfo=UTC), 3),
            (datetime(1970, 1, 1, 1, tzinfo=UTC), 1),
        ]
        (room,) = await store.rooms()
        assert (room.summary.count, room.last_kelvin) == (6, 295.0)
        assert room.summary.total == sum(kelvin for _, kelvin in rows)
    finally:
        await store.close()


async def insert_raw(url: str, room: str, rows: list[tuple[datetime, float]]) -> None:
    """Rows written the way version 1 of the schema held them, without roomtemp's help."""
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as database:
            database.execute("INSERT INTO rooms (id, name) VALUES (1, ?)", (room,))
            database.executemany(
                "INSERT INTO measurements VALUES (1, ?, ?)",
                [((ts - EPOCH) // MICROSECOND, kelvin) for ts, kelvin in rows],
            )
        database.close()
        return
    connection = await asyncpg.connect(url)
    try:
        room_id = await connection.fetchval(
            "INSERT INTO rooms (name) VALUES ($1) RETURNING id", room
        )
        await connection.executemany(
            "INSERT INTO measurements VALUES ($1, $2, $3)", [(room_id, *row) for row in rows]
        )
    finally:
        await connection.close()


async def rollups_should_leave_half_of_each_page_for_updates_in_place(postgres_url: str) -> None:
    """Every write updates its quarter's, hour's, day's and room's rollup rows: room on the page
    lets PostgreSQL update them in place (HOT) and prune old versions as it goes, where full
    pages made reads of a churned hour 2.8 times slower (issue 10, item 15)."""
    await migrate(postgres_url)
    connection = await asyncpg.connect(postgres_url)
    try:
        options = await connection.fetchval(
            "SELECT reloptions FROM pg_class WHERE oid = 'rollups'::regclass"
        )
    finally:
        await connection.close()
    assert options == ["fillfactor=50"]
