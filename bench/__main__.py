"""python -m bench (make bench): ingest throughput of the real server on every backend, beside
the limits of PostgreSQL itself on this machine, as a table and as bench/results/*.json."""

import argparse
import asyncio
import json
import os
import platform
import sqlite3
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench.load import make_batches, run_wrk, send_batches, worker_peak_rss_mb
from bench.mqtt import measure_mqtt, print_mqtt
from bench.parsers import compare
from bench.queries import measure_queries
from bench.references import raw_copy, raw_single_commits
from bench.report import print_report
from roomtemp.storage import backend_of
from tests.blackbox.server import running_server
from tests.throwaway_postgres import start_throwaway_postgres

RESULTS = Path(__file__).with_name("results")
COUNT = (
    "SELECT count(*) FROM measurements JOIN rooms ON rooms.id = measurements.room"
    " WHERE rooms.name LIKE "
)


def stored(url: str, prefix: str) -> int | None:
    """Measurements stored in rooms whose names start with `prefix` (None for memory://,
    whose workers each keep their own)."""
    backend = backend_of(url)
    if backend == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            count: int = connection.execute(COUNT + "?", (prefix + "%",)).fetchone()[0]
            return count
    if backend == "postgres":

        async def count_rows() -> int:
            connection = await asyncpg.connect(url)
            try:
                result: int = await connection.fetchval(COUNT + "$1", prefix + "%")
                return result
            finally:
                await connection.close()

        return asyncio.run(count_rows())
    return None


def settle(url: str) -> None:
    """Flush PostgreSQL's dirty pages now, so that a checkpoint does not land in the middle of
    the next measurement (and land on some but not others)."""
    if backend_of(url) == "postgres":
        asyncio.run(_execute(url, "CHECKPOINT"))


async def _execute(url: str, sql: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def measure_backend(url: str, options: argparse.Namespace) -> dict[str, Any]:
    """Single writes with and without shared commits, then batches, on one backend; on
    PostgreSQL, each beside its reference without HTTP, measured just before it."""
    workers = str(os.cpu_count() or 1)
    flags = ("--workers", workers, "--log-level", "warning", "--migrate")
    results: dict[str, Any] = {}
    references = results["references"] = {} if backend_of(url) == "postgres" else None
    for shared in (True, False):
        environment = {
            "ROOMTEMP_SHARED_COMMITS": str(shared).lower(),
            "ROOMTEMP_ACCESS_LOG": "false",
        }
        with running_server(url, *flags, env=environment) as server:
            if references is not None and shared:
                settle(url)
                references["single_commits_per_s"] = asyncio.run(
                    raw_single_commits(url, connections=32, seconds=options.seconds)
                )
            settle(url)
            label = "shared" if shared else "direct"
            single = run_wrk(server.url, label, connections=32, seconds=options.seconds)
            time.sleep(1)  # requests cut off by wrk's deadline may still be committing
            single["stored"] = stored(url, f"bench-{label}-")
            results[f"single_{label}"] = single
            if not shared:
                continue
            if references is not None:
                settle(url)
                references["copy_rows_per_s"] = asyncio.run(
                    raw_copy(url, options.batches.items, connections=4, chunk=5_000)
                )
            settle(url)
            batches = send_batches(server.url, options.batches, senders=4)
            batches["stored"] = stored(url, f"{options.batches.label}-")
            results["batch"] = batches
            largest = send_batches(server.url, options.largest, senders=4)
            largest["stored"] = stored(url, f"{options.largest.label}-")
            results["batch_100k"] = largest
            results["peak_rss_mb_per_worker"] = worker_peak_rss_mb(server.process.pid)
            if backend_of(url) != "memory":  # whose workers each keep their own, apart
                settle(url)
                results["queries"] = measure_queries(
                    server.url, url, rooms=options.rooms, requests=options.requests
                )
    if references is None:
        del results["references"]
    return results


@contextmanager
def postgres_database() -> Iterator[tuple[str, str]]:
    """(URL of a fresh database, server version): on BENCH_DATABASE_URL's server, or on a
    throwaway server with PostgreSQL's durable defaults (fsync on)."""
    server = (
        None if os.environ.get("BENCH_DATABASE_URL") else start_throwaway_postgres(durable=True)
    )
    admin_url = os.environ.get("BENCH_DATABASE_URL") or (server.url if server else "")
    name = f"roomtemp_bench_{uuid.uuid4().hex[:8]}"

    async def admin(sql: str) -> str:
        connection = await asyncpg.connect(admin_url)
        try:
            await connection.execute(sql)
            version: str = await connection.fetchval("SHOW server_version")
            return version
        finally:
            await connection.close()

    version = asyncio.run(admin(f"CREATE DATABASE {name}"))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}", version
    finally:
        asyncio.run(admin(f"DROP DATABASE {name} WITH (FORCE)"))
        if server:
            server.remove()


def machine(postgres_version: str) -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split()[1]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024**2, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": postgres_version,
        "wrk": wrk,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs, to try the bench out")
    parser.add_argument("--backends", default="memory,sqlite,postgres")
    parser.add_argument(
        "--parts",
        default="http,mqtt",
        help="http: writes, batches, queries; mqtt: MQTT ingestion beside single HTTP writes",
    )
    options = parser.parse_args()
    options.seconds = 3 if options.quick else 10
    options.rooms, options.requests = (1, 50) if options.quick else (10, 200)
    total = 100_000 if options.quick else 1_000_000
    options.batches = make_batches("batch", total, 5_000)
    options.largest = make_batches(
        "largest", 4 * 100_000 if not options.quick else 200_000, 100_000
    )
    backends = options.backends.split(",")
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "backends": {},
    }
    print("reading 100,000 batch items ...", flush=True)
    results["parsers_us_per_item"] = compare()
    with postgres_database() as (postgres_url, version), tempfile.TemporaryDirectory() as folder:
        results["machine"] = machine(version)
        urls = {
            "memory": "memory://",
            "sqlite": f"sqlite:///{folder}/bench.sqlite3",
            "postgres": postgres_url,
        }
        parts = options.parts.split(",")
        for backend in backends:
            print(f"measuring {backend} ...", flush=True)
            run = measure_backend(urls[backend], options) if "http" in parts else {}
            if "mqtt" in parts and backend != "memory":  # stored means durable: not memory://
                run["mqtt"] = measure_mqtt(
                    urls[backend],
                    workers=os.cpu_count() or 1,
                    seconds=options.seconds,
                    total=10_000 if options.quick else 50_000,
                )
            results["backends"][backend] = run
    if "http" in parts:
        print_report(results)
    print_mqtt(results)
    if not options.quick:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"{results['when'][:10]}-{platform.node()}.json"
        path.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
