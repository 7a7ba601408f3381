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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg

from bench import line_protocol
from bench.influx import measure_influx, print_influx
from bench.load import (
    make_batches,
    postmaster_pid,
    run_wrk,
    send_batches,
    server_cpu_seconds,
    singles_beside_batches,
    worker_peak_rss_mb,
)
from bench.mqtt import measure_mqtt, print_mqtt
from bench.parsers import compare
from bench.queries import measure_queries
from bench.reads import ROOM, measure_reads, print_long_reads
from bench.references import bare_server, raw_copy, raw_executemany, raw_single_commits
from bench.report import print_report
from bench.rooms import measure_rooms, print_rooms
from bench.year_load import load_year
from roomtemp.storage import backend_of, migrate
from tests.blackbox.server import Server, running_server
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


def until_started(parent: int, timeout: float = 60.0) -> None:
    """Until every worker of the server `parent` has started (its CPU at rest): the server
    answers as soon as one has, and wrk's connections, all opened at once, then went to that
    one alone (one commit each on memory://: 0.9 of 2 cores busy, 6,762/s, where the same
    server gave 9-12k/s once both workers were up)."""
    deadline = time.monotonic() + timeout
    used = server_cpu_seconds(parent)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        used, before = server_cpu_seconds(parent), used
        if used - before < 0.05:  # under a tenth of a core: nothing is still importing
            return


def with_cpu(run: Callable[[], dict[str, Any]], **processes: int | None) -> dict[str, Any]:
    """What `run` measured, and the CPU time of each named process with its children while it
    ran (server: all workers; postgres: the postmaster and every backend), per measurement
    acknowledged (us): `<name>_cpu_us_per_item`, None where the process is not on this
    machine."""
    before = {name: server_cpu_seconds(pid) for name, pid in processes.items() if pid}
    result = run()
    for name, pid in processes.items():
        used = server_cpu_seconds(pid) - before[name] if pid else None
        acknowledged = max(result["acknowledged"], 1)
        result[f"{name}_cpu_us_per_item"] = None if used is None else used / acknowledged * 1e6
    return result


def measure_backend(url: str, options: argparse.Namespace) -> dict[str, Any]:
    """Single writes with and without shared commits, then batches, on one backend; each
    beside its reference (without roomtemp), measured just before it in the same run."""
    backend = backend_of(url)
    workers = os.cpu_count() or 1
    flags = ("--workers", str(workers), "--log-level", "warning", "--migrate")
    results: dict[str, Any] = {}
    references = results["references"] = {}
    # PostgreSQL's CPU beside roomtemp's: on 2 cores, what one saves the other can use.
    postmaster = postmaster_pid(url) if backend == "postgres" else None
    for shared in (True, False):
        if not shared and "single" not in options.parts:
            continue
        environment = {
            "ROOMTEMP_SHARED_COMMITS": str(shared).lower(),
            "ROOMTEMP_ACCESS_LOG": "false",
        }
        with running_server(url, *flags, env=environment) as server:
            processes: dict[str, int | None] = {"server": server.process.pid}
            if backend == "postgres":
                processes["postgres"] = postmaster
            if "single" in options.parts:
                label = "shared" if shared else "direct"
                if shared:
                    measure_single_references(url, references, workers, postmaster, options)
                settle(url)
                until_started(server.process.pid)
                wrk = partial(run_wrk, server.url, label, connections=32, seconds=options.seconds)
                single = with_cpu(wrk, **processes)
                time.sleep(1)  # requests cut off by wrk's deadline may still be committing
                single["stored"] = stored(url, f"bench-{label}-")
                results[f"single_{label}"] = single
            if not shared:
                continue
            if "batch" in options.parts:
                measure_batches(server, url, processes, references, results, options)
            if "queries" in options.parts and backend != "memory":  # memory: each worker its own
                settle(url)
                results["queries"] = measure_queries(
                    server.url, url, rooms=options.rooms, requests=options.requests
                )
    return results


def measure_single_references(
    url: str,
    references: dict[str, float | None],
    workers: int,
    postmaster: int | None,
    options: argparse.Namespace,
) -> None:
    """Each reference's rate, and the CPU per item of each process it keeps busy."""
    backend = backend_of(url)
    if backend == "postgres":
        settle(url)
        references.update(
            asyncio.run(
                raw_single_commits(
                    url, connections=32, seconds=options.seconds, postmaster=postmaster
                )
            )
        )
    if backend == "memory":
        with bare_server(workers) as (bare, pid):
            until_started(pid)
            wrk = partial(run_wrk, bare, "bare", connections=32, seconds=options.seconds)
            found = with_cpu(wrk, server=pid)
        references["bare_asgi_per_s"] = found["requests_per_s"]
        references["bare_asgi_server_cpu_us"] = found["server_cpu_us_per_item"]
        references["bare_asgi_wrk_cpu_us"] = found["generator_cpu"] / found["requests_per_s"] * 1e6


def measure_batches(
    server: Server,
    url: str,
    processes: dict[str, int | None],
    references: dict[str, float | None],
    results: dict[str, Any],
    options: argparse.Namespace,
) -> None:
    backend = backend_of(url)
    if backend == "postgres":
        settle(url)
        copy = raw_copy(
            url,
            options.batches.items,
            connections=4,
            chunk=5_000,
            postmaster=processes["postgres"],
        )
        references.update(asyncio.run(copy))
    if backend == "sqlite":
        references["executemany_rows_per_s"] = raw_executemany(
            url.removeprefix("sqlite:///"), options.batches.items
        )
    for name, batches in (
        ("batch", options.batches),
        ("batch_ndjson", options.ndjson),
        ("batch_100k", options.largest),
    ):
        settle(url)
        result = with_cpu(partial(send_batches, server.url, batches, senders=4), **processes)
        result["stored"] = stored(url, f"{batches.label}-")
        results[name] = result
    settle(url)
    results["single_beside_100k"] = singles_beside_batches(
        server.url, options.beside, seconds=options.seconds
    )
    results["peak_rss_mb_per_worker"] = worker_peak_rss_mb(server.process.pid)


def measure_influx_backend(url: str, options: argparse.Namespace) -> dict[str, Any]:
    """The InfluxDB endpoints beside the native ones, on a server of their own (memory://: of
    one worker, or the panel's reads would ask workers that never saw its writes)."""
    workers = "1" if backend_of(url) == "memory" else str(os.cpu_count() or 1)
    flags = ("--workers", workers, "--log-level", "warning", "--migrate", "--no-access-log")
    with running_server(url, *flags) as server:
        settle(url)
        return measure_influx(
            server.url,
            server.process.pid,
            total=options.batches.items // 2,
            requests=options.requests,
        )


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


def results_path(folder: Path, when: str, host: str) -> Path:
    """`folder`/<date>-<host>.json, or with the run's start time added when that is taken: a
    second run on the same day once overwrote the day's committed results."""
    path = folder / f"{when[:10]}-{host}.json"
    if path.exists():
        path = folder / f"{when[:10]}-{host}-{when[11:19].replace(':', '')}.json"
    return path


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


def measure_long_reads(database_url: str, options: argparse.Namespace) -> dict[str, Any]:
    """A year at 1 Hz loaded straight into a fresh database, then read over HTTP (reads.py)."""
    asyncio.run(migrate(database_url))
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    print(f"  loading {options.year_days} days at 1 Hz ...", flush=True)
    loaded = load_year(database_url, ROOM, end, options.year_days)
    flags = ("--workers", "1", "--log-level", "warning")
    with running_server(database_url, *flags, env={"ROOMTEMP_ACCESS_LOG": "false"}) as server:
        results = measure_reads(server.url, server.process.pid, database_url, end, options)
    return {"days": options.year_days, "load_seconds": loaded, **results}


def measure_many_rooms(backend: str, options: argparse.Namespace) -> dict[str, Any]:
    """/rooms among 100,000 rooms and the dashboard with 10,000 (rooms.py), on a fresh
    database; the dashboard's databases are schemas of it (PostgreSQL) or files beside it."""
    with postgres_database() as (postgres_url, _), tempfile.TemporaryDirectory() as folder:

        def make_url(label: str) -> str:
            if backend == "sqlite":
                return f"sqlite:///{folder}/{label}.sqlite3"
            schema = label.replace("-", "_")
            asyncio.run(_execute(postgres_url, f"CREATE SCHEMA {schema}"))
            return f"{postgres_url}?search_path={schema}"

        return measure_rooms(make_url("rooms"), make_url, options)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs, to try the bench out")
    parser.add_argument("--backends", default="memory,sqlite,postgres")
    parser.add_argument(
        "--parts",
        default="single,batch,queries,rooms,reads,influx,mqtt",
        help="comma-separated: single, batch and queries (on each backend), rooms (100,000 of"
        " them, and the dashboard), reads (a year at 1 Hz, before and after churn), influx"
        " (InfluxDB's endpoints beside the native ones), mqtt (MQTT ingestion beside single HTTP"
        " writes)",
    )
    parser.add_argument("--churn-seconds", type=float, help="writes between the two read phases")
    parser.add_argument("--year-days", type=int, help="days at 1 Hz in the read bench's room")
    options = parser.parse_args()
    options.parts = options.parts.split(",")
    options.churn_seconds = options.churn_seconds or (10 if options.quick else 60)
    options.year_days = options.year_days or (30 if options.quick else 365)
    options.read_requests = 20 if options.quick else 100
    options.rooms_many, options.rooms_dashboard = (
        (10_000, 1_000) if options.quick else (100_000, 10_000)
    )
    options.browser_runs = 3 if options.quick else 10
    options.seconds = 3 if options.quick else 10
    options.rooms, options.requests = (1, 50) if options.quick else (10, 200)
    total = 100_000 if options.quick else 1_000_000
    options.batches = make_batches("batch", total, 5_000)
    options.ndjson = make_batches("ndjson", total, 5_000, ndjson=True)
    options.largest = make_batches(
        "largest", 4 * 100_000 if not options.quick else 200_000, 100_000
    )
    # Enough 100,000-item batches to last the single writes beside them, at ~100,000/s.
    options.beside = make_batches("beside", options.seconds * 100_000, 100_000)
    backends = options.backends.split(",")
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "backends": {},
    }
    per_backend = {"single", "batch", "queries"} & set(options.parts)
    if "batch" in options.parts:
        print("reading 100,000 batch items ...", flush=True)
        results["parsers_us_per_item"] = compare()
    if "influx" in options.parts:
        results["line_protocol_parsers_us_per_line"] = line_protocol.compare()
    with postgres_database() as (postgres_url, version), tempfile.TemporaryDirectory() as folder:
        results["machine"] = machine(version)
        urls = {
            "memory": "memory://",
            "sqlite": f"sqlite:///{folder}/bench.sqlite3",
            "postgres": postgres_url,
        }
        for backend in backends if per_backend else []:
            print(f"measuring {backend} ...", flush=True)
            results["backends"][backend] = measure_backend(urls[backend], options)
        results["influx"] = {}
        for backend in backends if "influx" in options.parts else []:
            print(f"InfluxDB endpoints on {backend} ...", flush=True)
            results["influx"][backend] = measure_influx_backend(urls[backend], options)
        results["mqtt"] = {}
        # Stored means durable: not on memory://.
        for backend in [b for b in backends if b != "memory"] if "mqtt" in options.parts else []:
            print(f"MQTT ingestion on {backend} ...", flush=True)
            results["mqtt"][backend] = measure_mqtt(
                urls[backend],
                workers=os.cpu_count() or 1,
                seconds=options.seconds,
                total=10_000 if options.quick else 50_000,
            )
    results["rooms"] = {}
    for backend in [b for b in backends if b != "memory"] if "rooms" in options.parts else []:
        print(f"many rooms on {backend} ...", flush=True)
        results["rooms"][backend] = measure_many_rooms(backend, options)
    results["long_reads"] = {}
    for backend in [b for b in backends if b != "memory"] if "reads" in options.parts else []:
        print(f"reading a year at 1 Hz on {backend} ...", flush=True)
        with postgres_database() as (reads_url, _), tempfile.TemporaryDirectory() as folder:
            url = reads_url if backend == "postgres" else f"sqlite:///{folder}/reads.sqlite3"
            results["long_reads"][backend] = measure_long_reads(url, options)
    if results["backends"]:
        print_report(results)
    print_rooms(results["rooms"], options)
    print_long_reads(results["long_reads"])
    print_influx(results)
    print_mqtt(results["mqtt"])
    if not options.quick:
        RESULTS.mkdir(exist_ok=True)
        path = results_path(RESULTS, results["when"], platform.node())
        with path.open("x") as file:  # never over a committed run ("x": fails if it exists)
            file.write(json.dumps(results, indent=2) + "\n")
        print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
