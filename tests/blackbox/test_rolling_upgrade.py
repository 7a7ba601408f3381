"""A rolling upgrade, as docs/scaling.md describes it: while instances of this release keep
writing, the next release's expand migration is applied; this release's instances keep
serving, and one more starts on the expanded schema (a restart, a scale-out or a rollback)."""

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path

import asyncpg

from roomtemp.storage import migrate
from roomtemp.storage.migrations import migrations_for
from tests.blackbox.load import Load, batch_writer, single_writer, stored
from tests.blackbox.server import running_server

THIS_RELEASE = migrations_for("postgres")[-1].version
# The next release adds a column old code never names, and a table old code never reads; its
# first line says so, which leaves the schema open to this release's code (issue 10, item 13).
EXPAND = """-- older code may use this schema
ALTER TABLE measurements ADD COLUMN source text;
CREATE TABLE sensors (
    room integer NOT NULL REFERENCES rooms (id),
    name text NOT NULL,
    PRIMARY KEY (room, name)
);
"""


async def apply_as_next_release(url: str, version: int, sql: str) -> None:
    """What `roomtemp migrate` of a later release does with an expand migration: applies it
    and records it, leaving the oldest code the schema serves as it was."""
    connection = await asyncpg.connect(url)
    try:
        async with connection.transaction():
            # Waiting for a table lock behind a long query would hold every write behind it.
            await connection.execute("SET LOCAL lock_timeout = '5s'")
            await connection.execute(sql)
            await connection.execute(
                "INSERT INTO schema_migrations VALUES ($1, $2, now())", version, f"{version}_next"
            )
    finally:
        await connection.close()


async def write(urls: list[str], first_writer: int, meanwhile: Awaitable[None]) -> Load:
    """Single and batch writers spread over `urls`, with `meanwhile` done once some of their
    writes are acknowledged, and as many again after it."""
    load = Load()
    writers = [
        *(
            asyncio.create_task(single_writer(urls[n % len(urls)], first_writer + n, load))
            for n in range(6)
        ),
        *(
            asyncio.create_task(batch_writer(urls[n % len(urls)], first_writer + n, load))
            for n in range(2)
        ),
    ]
    await load.wait_for_acknowledged(300)
    await meanwhile
    await load.wait_for_acknowledged(600)
    load.stop.set()
    await asyncio.gather(*writers)
    return load


def this_release_should_keep_writing_through_the_next_releases_expand_migration(
    postgres_url: str, tmp_path: Path, report: Callable[[str], None]
) -> None:
    asyncio.run(migrate(postgres_url))
    with ExitStack() as stack:
        log = stack.enter_context((tmp_path / "servers.log").open("wb"))
        first = stack.enter_context(running_server(postgres_url, stderr=log))
        expand = apply_as_next_release(postgres_url, THIS_RELEASE + 1, EXPAND)
        load = asyncio.run(write([first.url], 0, expand))
        # Started on the expanded schema, beside the first: both take writes.
        second = stack.enter_context(running_server(postgres_url, stderr=log))
        load.answers += asyncio.run(write([first.url, second.url], 10, asyncio.sleep(0))).answers

    acknowledged = load.acknowledged()
    found = asyncio.run(stored(postgres_url, set(acknowledged)))
    report(load.figures(acknowledged, found))
    assert {answer.status for answer in load.answers} <= {200, 201}
    assert load.lost(acknowledged, found) == {}
