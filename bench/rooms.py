"""Many rooms: the first page of GET /rooms with 100,000 rooms, beside the same page read
straight from the database (the reference), and the dashboard in Chromium with 10,000 rooms,
beside the same dashboard with one room, both measured in this run."""

import asyncio
import sqlite3
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from playwright.sync_api import sync_playwright

from bench.queries import _latencies, _percentiles
from bench.reads import tree_cpu_seconds
from roomtemp.domain.rollups import EPOCH, MICROSECOND, floor_to
from roomtemp.storage import backend_of, migrate
from roomtemp.storage.postgres import statements as postgres_statements
from roomtemp.storage.sqlite import statements as sqlite_statements
from tests.blackbox.server import running_server
from tests.browser.chromium import launch_options

TARGET_FIRST_PAGE_MS = 50.0
TARGET_DASHBOARD_READY_MS = 1000.0
WIDTHS = (900, 3600, 86400, 0)


def load_rooms(database_url: str, rooms: int, ts: datetime) -> None:
    """`rooms` rooms with one measurement each at `ts`, and its rollups, straight into the
    migrated database."""
    asyncio.run(migrate(database_url))
    names = [f"room {index:06}" for index in range(rooms)]
    if backend_of(database_url) == "sqlite":
        _load_sqlite(database_url.removeprefix("sqlite:///"), names, ts)
    else:
        asyncio.run(_load_postgres(database_url, names, ts))


def _load_sqlite(path: str, names: list[str], ts: datetime) -> None:
    micros = (ts - EPOCH) // MICROSECOND
    with sqlite3.connect(path) as connection:
        connection.executemany("INSERT INTO rooms (name) VALUES (?)", [(n,) for n in names])
        keys = [row[0] for row in connection.execute("SELECT id FROM rooms")]
        connection.executemany(
            "INSERT INTO measurements VALUES (?, ?, 293.15)", [(key, micros) for key in keys]
        )
        connection.executemany(
            "INSERT INTO rollups VALUES (?, ?, ?, 1, 293.15, 293.15, 293.15, ?, ?, 293.15)",
            [(key, width, _start(ts, width), micros, micros) for key in keys for width in WIDTHS],
        )
    connection.close()


def _start(ts: datetime, width: int) -> int:
    start = floor_to(ts, timedelta(seconds=width)) if width else EPOCH
    return (start - EPOCH) // MICROSECOND


async def _load_postgres(url: str, names: list[str], ts: datetime) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("INSERT INTO rooms (name) SELECT unnest($1::text[])", names)
        await connection.execute("INSERT INTO measurements SELECT id, $1, 293.15 FROM rooms", ts)
        for width in WIDTHS:
            start = floor_to(ts, timedelta(seconds=width)) if width else EPOCH
            await connection.execute(
                "INSERT INTO rollups SELECT id, $1, $2, 1, 293.15, 293.15, 293.15, $3, $3, 293.15"
                " FROM rooms",
                width,
                start,
                ts,
            )
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


def database_first_page_ms(database_url: str, limit: int, runs: int) -> dict[str, float]:
    """The first page read straight from the database, as the store reads it: the reference."""
    if backend_of(database_url) == "sqlite":
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
            times = []
            for _ in range(runs):
                began = time.perf_counter()
                connection.execute(sqlite_statements.ROOMS, ("", limit)).fetchall()
                times.append((time.perf_counter() - began) * 1000)
        connection.close()
        return _percentiles(times)

    async def query() -> list[float]:
        connection = await asyncpg.connect(database_url)
        try:
            statement = await connection.prepare(postgres_statements.ROOMS)
            found = []
            for _ in range(runs):
                began = time.perf_counter()
                await statement.fetch("", limit)
                found.append((time.perf_counter() - began) * 1000)
            return found
        finally:
            await connection.close()

    return _percentiles(asyncio.run(query()))


def dashboard_ready_ms(server_url: str, runs: int) -> list[float]:
    """From navigation to the table and the chart drawn, in Chromium, `runs` times."""
    found = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch_options())
        try:
            for _ in range(runs + 1):  # the first warms the browser's cache of the page's code
                page = browser.new_page()
                began = time.perf_counter()
                page.goto(server_url)
                page.wait_for_selector("#room-rows tr")
                page.wait_for_function("document.querySelector('#chart canvas') !== null")
                found.append((time.perf_counter() - began) * 1000)
                page.close()
        finally:
            browser.close()
    return found[1:]


def measure_rooms(database_url: str, make_url: Any, options: Any) -> dict[str, Any]:
    """The first page of /rooms among many rooms, and the dashboard in Chromium."""
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    results: dict[str, Any] = {}
    load_rooms(database_url, options.rooms_many, now)
    flags = ("--workers", "1", "--log-level", "warning")
    environment = {"ROOMTEMP_ACCESS_LOG": "false"}
    with running_server(database_url, *flags, env=environment) as server:
        for label, path in (
            ("first page, 1,000 rooms", "/rooms"),
            ("dashboard page, 50 rooms with their day", "/rooms?limit=50&window=P1D"),
        ):
            paths = [path] * options.read_requests
            asyncio.run(_latencies(server.url, paths[:3]))
            cpu = tree_cpu_seconds(server.process.pid)
            measured = _percentiles(asyncio.run(_latencies(server.url, paths)))
            measured["cpu_ms_per_request"] = (
                (tree_cpu_seconds(server.process.pid) - cpu) * 1000 / len(paths)
            )
            results[label] = measured
    results["database first page (reference)"] = database_first_page_ms(
        database_url, 1000, options.read_requests
    )
    results["first_page_vs_database"] = (
        results["first page, 1,000 rooms"]["p99_ms"]
        / results["database first page (reference)"]["p99_ms"]
    )
    results["dashboard"] = {}
    for rooms in (1, options.rooms_dashboard):
        url = make_url(f"dashboard-{rooms}")
        load_rooms(url, rooms, now)
        with running_server(url, *flags, env=environment) as server:
            times = dashboard_ready_ms(server.url, options.browser_runs)
        results["dashboard"][f"{rooms} rooms"] = {
            "median_ms": statistics.median(times),
            "max_ms": max(times),
        }
    many, one = (results["dashboard"][f"{n} rooms"] for n in (options.rooms_dashboard, 1))
    results["dashboard_many_vs_one"] = many["median_ms"] / one["median_ms"]
    return results


def print_rooms(measured: dict[str, Any], options: Any) -> None:
    for backend, run in measured.items():
        print(f"\nrooms on {backend}: {options.rooms_many:,} rooms, one connection, one worker:")
        for label in ("first page, 1,000 rooms", "dashboard page, 50 rooms with their day"):
            numbers = run[label]
            print(
                f"  GET /rooms, {label:<40}{numbers['p50_ms']:>8.2f} /{numbers['p99_ms']:>8.2f}"
                f" ms p50 / p99, roomtemp CPU {numbers['cpu_ms_per_request']:.2f} ms a request"
            )
        reference = run["database first page (reference)"]
        first = run["first page, 1,000 rooms"]["p99_ms"]
        print(
            f"  the same page in the database alone (reference): {reference['p50_ms']:.2f} /"
            f" {reference['p99_ms']:.2f} ms; HTTP p99 x{run['first_page_vs_database']:.1f};"
            f" target p99 <= {TARGET_FIRST_PAGE_MS:.0f} ms:"
            f" {'met' if first <= TARGET_FIRST_PAGE_MS else 'NOT met'}"
        )
        dashboard = run["dashboard"]
        many = dashboard[f"{options.rooms_dashboard} rooms"]
        print(
            f"  dashboard ready in Chromium: {options.rooms_dashboard:,} rooms median"
            f" {many['median_ms']:.0f} ms (max {many['max_ms']:.0f}), 1 room median"
            f" {dashboard['1 rooms']['median_ms']:.0f} ms: x{run['dashboard_many_vs_one']:.2f};"
            f" target <= {TARGET_DASHBOARD_READY_MS:.0f} ms:"
            f" {'met' if many['max_ms'] <= TARGET_DASHBOARD_READY_MS else 'NOT met'}"
        )
