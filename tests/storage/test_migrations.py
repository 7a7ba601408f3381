"""Migrations: applied once, recorded, and safe when two processes run them at once."""

import asyncio
import sys

import pytest

from roomtemp.storage import SchemaOutOfDate, migrate, open_store
from roomtemp.storage.migrations import migrations_for


@pytest.fixture(params=["sqlite", "postgres"])
def sql_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


def every_backend_should_ship_the_same_migration_versions() -> None:
    sqlite = [(m.version, m.name) for m in migrations_for("sqlite")]
    assert sqlite == [(m.version, m.name) for m in migrations_for("postgres")]
    assert [version for version, _ in sqlite] == list(range(1, len(sqlite) + 1))


async def migrate_should_apply_everything_once(sql_url: str) -> None:
    everything = [m.name for m in migrations_for("sqlite")]
    assert await migrate(sql_url) == everything
    assert await migrate(sql_url) == []


async def open_store_should_refuse_a_database_that_is_behind(sql_url: str) -> None:
    with pytest.raises(SchemaOutOfDate, match="roomtemp migrate"):
        await open_store(sql_url)


async def migrate_run_by_two_processes_at_once_should_apply_each_migration_once(
    sql_url: str,
) -> None:
    command = [sys.executable, "-m", "roomtemp", "migrate", "--database-url", sql_url]
    processes = [
        await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = sorted([(await process.communicate())[0].decode().strip() for process in processes])
    assert [process.returncode for process in processes] == [0, 0]
    names = ", ".join(m.name for m in migrations_for("sqlite"))
    assert outputs == sorted([f"applied: {names}", "the schema is up to date"])
    store = await open_store(sql_url)  # would raise SchemaOutOfDate if anything were missing
    await store.close()
