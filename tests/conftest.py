"""Shared fixtures: a real PostgreSQL for the whole run, one fresh schema per test."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import pytest

from roomtemp.storage import MeasurementStore, migrate, open_store
from tests.throwaway_postgres import start_throwaway_postgres


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """TEST_DATABASE_URL when set, otherwise a throwaway server started for this run."""
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield url
        return
    server = start_throwaway_postgres()
    try:
        yield server.url
    finally:
        server.remove()


@contextmanager
def fresh_schema(server_url: str) -> Iterator[str]:
    """A URL whose tables live in a new schema of their own, dropped afterwards."""
    schema = f"test_{uuid.uuid4().hex[:12]}"

    async def execute(sql: str) -> None:
        connection = await asyncpg.connect(server_url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(execute(f"CREATE SCHEMA {schema}"))
    try:
        separator = "&" if "?" in server_url else "?"
        yield f"{server_url}{separator}search_path={schema}"
    finally:
        asyncio.run(execute(f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    with fresh_schema(postgres_server_url) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'roomtemp.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgres"])
def persistent_url(request: pytest.FixtureRequest) -> str:
    """An empty database of each backend that keeps what it stores, not yet migrated."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database of each backend in turn, not yet migrated."""
    if request.param == "memory":
        return "memory://"
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[MeasurementStore]:
    """A store of each backend in turn, migrated and empty."""
    await migrate(database_url)
    opened = await open_store(database_url)
    yield opened
    await opened.close()


# What the fault and load tests measured (sent, acknowledged, stored, seconds to 503, ...),
# shown together at the end of the run, whether the tests passed or not.
_FIGURES: list[tuple[str, str]] = []


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Call with a line of figures to have it shown in the run's summary."""

    def add(line: str) -> None:
        _FIGURES.append((request.node.nodeid, line))

    return add


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _FIGURES:
        terminalreporter.section("figures")
        for test, line in _FIGURES:
            terminalreporter.write_line(f"{test}: {line}")
