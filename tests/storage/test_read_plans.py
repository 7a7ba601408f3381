"""The shape of the plans that read a window: each piece one range search of the primary key,
however many pieces and however much history the room holds (issue 10, item 3: edge ranges
joined against every raw row made a year's series by Kolkata days take 17 s)."""

import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from roomtemp.domain.measurements import Measurement
from roomtemp.storage import migrate, open_store
from roomtemp.storage.postgres import statements as postgres_sql
from roomtemp.storage.sqlite import statements as sqlite_sql

T0 = datetime(2026, 11, 27, tzinfo=UTC)


async def _fill(url: str) -> None:
    """Two rooms, a month at one measurement a minute: enough for a planner to see a history."""
    await migrate(url)
    store = await open_store(url)
    try:
        for room in ("hall", "kitchen"):
            await store.add(
                [
                    Measurement(room, T0 - timedelta(minutes=minute), 290.0 + minute % 60 / 10)
                    for minute in range(30 * 24 * 60)
                ]
            )
    finally:
        await store.close()


async def sqlite_should_search_the_primary_key_for_each_piece(sqlite_url: str) -> None:
    await _fill(sqlite_url)
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as connection:
        connection.execute("ANALYZE")
        plans = [
            [row[3] for row in connection.execute("EXPLAIN QUERY PLAN " + statement, arguments)]
            for statement, arguments in (
                (sqlite_sql.SUMMARY_OF_RAW, (1, 0, 10**15)),
                (sqlite_sql.SUMMARY_OF_BUCKETS, (1, 900, 0, 10**15)),
            )
        ]
    connection.close()
    assert plans == [
        ["SEARCH measurements USING PRIMARY KEY (room=? AND ts>? AND ts<?)"],
        ["SEARCH rollups USING PRIMARY KEY (room=? AND width=? AND start>? AND start<?)"],
    ]


async def postgres_should_scan_an_index_range_once_per_piece(postgres_url: str) -> None:
    await _fill(postgres_url)
    connection = await asyncpg.connect(postgres_url)
    try:
        await connection.execute("ANALYZE")
        starts = [T0 - timedelta(days=day, hours=5, minutes=30) for day in range(20)]
        widths = [None if day % 2 else 900 for day in range(20)]
        stops = [start + timedelta(hours=1) for start in starts]
        explained = await connection.fetchval(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + postgres_sql.SUMMARISE,
            "hall",
            widths,
            starts,
            stops,
        )
    finally:
        await connection.close()
    scans = list(_scans(json.loads(explained)[0]["Plan"]))
    tables = {node["Relation Name"] for node in scans}
    assert tables == {"measurements", "rollups", "rooms"}
    for node in scans:
        if node["Relation Name"] == "rooms":
            continue
        assert node["Node Type"] in {"Index Scan", "Index Only Scan"}, node["Node Type"]
        condition = node["Index Cond"]
        assert re.search(r">= pieces(_\d+)?\.start\).* < pieces(_\d+)?\.stop\)", condition), (
            condition
        )
        assert node["Actual Loops"] == 10  # once per piece of its kind, not once per row


def _scans(node: dict[str, Any]) -> Any:
    if "Relation Name" in node:
        yield node
    for child in node.get("Plans", []):
        yield from _scans(child)


async def a_page_of_rooms_should_start_at_its_cursor_in_the_index(persistent_url: str) -> None:
    await migrate(persistent_url)
    store = await open_store(persistent_url)
    try:
        await store.add([Measurement(f"room {n:05}", T0, 290.0) for n in range(2000)])
    finally:
        await store.close()
    if persistent_url.startswith("sqlite"):
        with sqlite3.connect(persistent_url.removeprefix("sqlite:///")) as database:
            database.execute("ANALYZE")
            plan = " ".join(
                row[3]
                for row in database.execute(
                    "EXPLAIN QUERY PLAN " + sqlite_sql.ROOMS, ("room 01500", 50)
                )
            )
        database.close()
        assert "SEARCH rooms USING COVERING INDEX sqlite_autoindex_rooms_1 (name>?)" in plan
        return
    connection = await asyncpg.connect(persistent_url)
    try:
        await connection.execute("ANALYZE")
        explained = await connection.fetchval(
            "EXPLAIN (FORMAT JSON) " + postgres_sql.ROOMS, "room 01500", 50
        )
    finally:
        await connection.close()
    scans = [n for n in _scans(json.loads(explained)[0]["Plan"]) if n["Relation Name"] == "rooms"]
    assert [node["Index Name"] for node in scans] == ["rooms_by_code_point"]
    assert re.search(r"name.* > ('room 01500'|\$1)", scans[0]["Index Cond"])
