"""Reads of a room holding a year at one measurement a second: every average and every series
the dashboard asks for, in time zones a whole, a half and a quarter hour from UTC, plus a
bucket shorter than a quarter hour (PT5M). Measured right after the bulk load, then again
after continuous single writes into the hours being read (each write updates its quarter's,
hour's, day's and the room's total rollup rows). Each kind is reported as p50 / p99 over HTTP,
as a ratio to the PT15M average of the same phase, and with roomtemp's CPU per request."""

import asyncio
import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from bench.load import read_response
from bench.postgres_state import rollup_state
from bench.queries import _latencies, _percentiles

ROOM = "year-1hz"
ZONES = (
    "UTC",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "Australia/Adelaide",
    "America/St_Johns",
)
AVERAGES = ("PT15M", "P1D", "P30D", "P365D")
# The dashboard's five ranges (chart.js), and a bucket shorter than the finest rollup (a
# quarter hour), which is read from every raw row in the window: 86,400 of them here.
SUB_QUARTER = ("P1D", "PT5M")
SERIES = (
    ("PT1H", "PT15S"),
    ("P1D", "PT15M"),
    ("P7D", "PT30M"),
    ("P30D", "PT2H"),
    ("P365D", "P1D"),
    SUB_QUARTER,
)
TARGET_P99_MS = 50.0


def read_kinds(end: datetime, requests: int) -> dict[str, list[str]]:
    """Each kind of read, as `requests` paths whose windows end at different times over the
    last two days of data (fractions of a second included, so that edges cut the rollups)."""
    ends = [
        quote((end - timedelta(seconds=(index * 7919.373) % (2 * 86400))).isoformat())
        for index in range(requests)
    ]
    room = quote(ROOM)
    kinds = {
        f"average {duration}": [f"/measurements/{room}/average/{duration}?end={at}" for at in ends]
        for duration in AVERAGES
    }
    for duration, bucket in SERIES:
        for zone in ZONES:
            kinds[f"series {duration} by {bucket}, {zone}"] = [
                f"/measurements/{room}/series/{duration}"
                f"?bucket={bucket}&tz={quote(zone, safe='')}&end={at}"
                for at in ends
            ]
    return kinds


def measure_phase(server_url: str, server_pid: int, requests: int, end: datetime) -> dict[str, Any]:
    """p50, p99, ratio to the PT15M average, and roomtemp's CPU per request, of each kind."""
    found: dict[str, Any] = {}
    for kind, paths in read_kinds(end, requests).items():
        asyncio.run(_latencies(server_url, paths[:3]))  # warm the connection and the caches
        cpu = tree_cpu_seconds(server_pid)
        latencies = asyncio.run(_latencies(server_url, paths))
        found[kind] = {
            **_percentiles(latencies),
            "cpu_ms_per_request": (tree_cpu_seconds(server_pid) - cpu) * 1000 / len(paths),
        }
        print(f"    {kind:<46}{_cells(found[kind])}", flush=True)
    reference = found["average PT15M"]["p99_ms"]
    for measured in found.values():
        measured["p99_vs_average_pt15m"] = measured["p99_ms"] / reference
    worst = max(found, key=lambda kind: found[kind]["p99_ms"])
    return {
        "kinds": found,
        "worst": {"kind": worst, "p99_ms": found[worst]["p99_ms"]},
        "worst_dashboard": _worst(found, exclude=f"{SUB_QUARTER[0]} by {SUB_QUARTER[1]}"),
    }


def _worst(found: dict[str, Any], exclude: str) -> dict[str, Any]:
    kinds = [kind for kind in found if exclude not in kind]
    worst = max(kinds, key=lambda kind: found[kind]["p99_ms"])
    return {"kind": worst, "p99_ms": found[worst]["p99_ms"]}


def churn(server_url: str, end: datetime, seconds: float, connections: int = 8) -> dict[str, Any]:
    """Single writes into the room for `seconds`, from `connections` at once, half a second
    after each of its measurements going back from `end`: into the hours, days and quarters
    that the reads take in, each write updating their rollup rows, while the raw rows there
    only double. How many were acknowledged."""
    return asyncio.run(_churn(server_url, end, seconds, connections))


async def _churn(
    server_url: str, end: datetime, seconds: float, connections: int
) -> dict[str, Any]:
    address = urlsplit(server_url)
    deadline = time.perf_counter() + seconds
    counter = iter(range(10**9))
    acknowledged = errors = 0

    async def writer() -> None:
        nonlocal acknowledged, errors
        reader, stream = await asyncio.open_connection(address.hostname, address.port)
        try:
            while time.perf_counter() < deadline:
                ts = (end - timedelta(seconds=next(counter) + 0.5)).isoformat()
                body = f'{{"v": 293.15, "ts": "{ts}"}}'.encode()
                head = (
                    f"POST /measurements/{quote(ROOM)} HTTP/1.1\r\nHost: bench\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                )
                stream.write(head.encode() + body)
                status, _ = await read_response(reader)
                if status == 201:
                    acknowledged += 1
                else:
                    errors += 1
        finally:
            stream.close()

    began = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(connections)))
    wall = time.perf_counter() - began
    return {
        "acknowledged": acknowledged,
        "errors": errors,
        "writes_per_s": acknowledged / wall,
    }


def tree_cpu_seconds(root: int) -> float:
    """User and system CPU of `root` and every process under it (the server's workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended while we looked
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        cpu[pid] = (int(fields[11]) + int(fields[12])) / tick
    total, pending = 0.0, [root]
    while pending:
        pid = pending.pop()
        total += cpu.get(pid, 0.0)
        pending += [child for child, parent in parents.items() if parent == pid]
    return total


def measure_reads(
    server_url: str, server_pid: int, database_url: str, end: datetime, options: Any
) -> dict[str, Any]:
    """The reads right after the load, then after `options.churn_seconds` of writes."""
    results: dict[str, Any] = {
        "after_load": measure_phase(server_url, server_pid, options.read_requests, end)
    }
    results["after_load"]["postgres"] = rollup_state(database_url, ROOM, end)
    results["churn"] = churn(server_url, end, options.churn_seconds)
    results["after_churn"] = measure_phase(server_url, server_pid, options.read_requests, end)
    results["after_churn"]["postgres"] = rollup_state(database_url, ROOM, end)
    return results


def print_long_reads(measured: dict[str, Any]) -> None:
    """Per backend and phase: the worst p99 against the target, then every kind."""
    for backend, run in measured.items():
        print(
            f"\nreads of a year at 1 Hz on {backend} ({run['days']} days loaded in"
            f" {run['load_seconds']:.0f} s), one connection, one worker:"
        )
        churned = run["churn"]
        for phase, label in (
            ("after_load", "right after the bulk load"),
            (
                "after_churn",
                f"after {churned['acknowledged']:,} single writes into the same hours"
                f" ({churned['writes_per_s']:,.0f}/s, {churned['errors']} errors)",
            ),
        ):
            found = run[phase]
            print(f"  {label}:")
            for kind, numbers in found["kinds"].items():
                print(
                    f"    {kind:<46}{_cells(numbers)}"
                    f"  x{numbers['p99_vs_average_pt15m']:>6.2f} of average PT15M"
                )
            for name in ("worst_dashboard", "worst"):
                worst = found[name]
                met = "met" if worst["p99_ms"] <= TARGET_P99_MS else "NOT met"
                print(
                    f"    {name}: {worst['kind']}, p99 {worst['p99_ms']:.1f} ms"
                    f" (target <= {TARGET_P99_MS:.0f}: {met})"
                )
            if found.get("postgres"):
                state = found["postgres"]
                rollups = state["tables"].get("rollups", {})
                year = state["average_p365d"]
                print(
                    f"    rollups: {rollups.get('n_live_tup')} live,"
                    f" {rollups.get('n_dead_tup')} dead, {rollups.get('n_tup_hot_upd')}"
                    f" of {rollups.get('n_tup_upd')} updates HOT; autovacuum workers running:"
                    f" {state['autovacuum_workers_running']}; P365D average in the database"
                    f" {year['execution_ms']:.2f} ms, buffers {year['shared_hit_blocks']} hit"
                    f" + {year['shared_read_blocks']} read"
                )


def _cells(numbers: dict[str, float]) -> str:
    return (
        f"{numbers['p50_ms']:>8.2f} /{numbers['p99_ms']:>8.2f} ms p50 / p99,"
        f"  roomtemp CPU {numbers['cpu_ms_per_request']:>6.2f} ms a request"
    )
