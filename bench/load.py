"""Load generators and what is read off the server: wrk for single writes, a lean asyncio
client for batches (bodies made before the clock starts), peak memory of each worker."""

import asyncio
import json
import os
import resource
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import msgspec

WRK_SCRIPT = Path(__file__).with_name("single.lua")


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(url: str, label: str, *, connections: int, seconds: int) -> dict[str, Any]:
    """Single-measurement POSTs for `seconds`: requests/s, latency, errors, and wrk's own CPU."""
    before = children_cpu_seconds()
    threads = min(2, connections)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_SCRIPT),
        url,
        "--",
        label,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    summary = json.loads(output.strip().splitlines()[-1])
    wall = summary["duration_us"] / 1e6
    return {
        "requests_per_s": summary["acknowledged"] / wall,
        "acknowledged": summary["acknowledged"],
        "errors": summary["non_2xx"] + summary["socket_errors"],
        "p50_ms": summary["p50_us"] / 1000,
        "p99_ms": summary["p99_us"] / 1000,
        "generator_cpu": (children_cpu_seconds() - before) / wall,
    }


@dataclass(frozen=True)
class Batches:
    label: str
    bodies: list[bytes]
    items: int
    content_type: str = "application/json"


def make_batches(
    label: str, total: int, size: int, rooms: int = 100, *, ndjson: bool = False
) -> Batches:
    """`total` distinct measurements of `rooms` rooms, as JSON arrays (or NDJSON lines) of
    `size` items."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    stamps: dict[int, str] = {}
    bodies = []
    for first in range(0, total, size):
        items = []
        for index in range(first, min(first + size, total)):
            step = index // rooms
            if step not in stamps:
                stamps[step] = (start - timedelta(seconds=step)).isoformat()
            items.append(
                {
                    "room_id": f"{label}-{index % rooms}",
                    "v": 290 + index % 100 / 10,
                    "ts": stamps[step],
                }
            )
        if ndjson:
            bodies.append(b"\n".join(msgspec.json.encode(item) for item in items) + b"\n")
        else:
            bodies.append(msgspec.json.encode(items))
    content_type = "application/x-ndjson" if ndjson else "application/json"
    return Batches(label, bodies, total, content_type)


async def _post(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    path: str,
    body: bytes,
    content_type: str = "application/json",
) -> tuple[int, bytes]:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    writer.write(head.encode() + body)
    await writer.drain()
    return await read_response(reader)


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """(status, body) of the next answer on a kept-alive connection (Content-Length only)."""
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def _send_all(url: str, batches: Batches, senders: int, path: str) -> tuple[int, int]:
    address = urlsplit(url)
    queue = list(reversed(batches.bodies))
    stored = errors = 0

    async def sender() -> None:
        nonlocal stored, errors
        reader, writer = await asyncio.open_connection(address.hostname, address.port)
        try:
            while queue:
                body = queue.pop()
                status, answer = await _post(reader, writer, path, body, batches.content_type)
                if status == 200:
                    stored += json.loads(answer)["stored"]
                elif status == 204:  # line protocol: every line stored, nothing said
                    stored += body.count(b"\n") + 1
                else:
                    errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(sender() for _ in range(senders)))
    return stored, errors


def send_batches(
    url: str, batches: Batches, *, senders: int, path: str = "/measurements"
) -> dict[str, Any]:
    """Every batch, from `senders` connections at once, to `path` (InfluxDB's /write too):
    measurements/s and our own CPU."""
    cpu, wall = time.process_time(), time.perf_counter()
    stored, errors = asyncio.run(_send_all(url, batches, senders, path))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "measurements_per_s": stored / wall,
        "acknowledged": stored,
        "errors": errors,
        "seconds": wall,
        "generator_cpu": cpu / wall,
    }


def singles_beside_batches(url: str, batches: Batches, *, seconds: int) -> dict[str, Any]:
    """Single writes from 8 connections (wrk) for `seconds` while `batches` stream in from 4
    senders: whether a worker busy with a 100,000-item batch keeps the others waiting."""
    with ThreadPoolExecutor(1) as pool:
        sending = pool.submit(send_batches, url, batches, senders=4)
        single = run_wrk(url, "beside", connections=8, seconds=seconds)
        sent = sending.result()
        single["batches_per_s"] = sent["measurements_per_s"]
        single["batch_errors"] = sent["errors"]
    return single


def worker_peak_rss_mb(parent: int) -> list[float]:
    """VmHWM (peak resident memory) of each server worker under `parent` (not counting
    multiprocessing's resource tracker, a child too)."""
    peaks = []
    for process in Path("/proc").glob("[0-9]*"):
        try:
            status = (process / "status").read_text()
            command = (process / "cmdline").read_bytes()
        except OSError:  # the process ended while we looked
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines())
        if int(fields["PPid"]) == parent and b"spawn_main" in command:
            peaks.append(int(fields["VmHWM"].split()[0]) / 1024)
    return sorted(peaks)


def _stat(pid: int | str) -> list[str]:
    """/proc/<pid>/stat's fields after the command name (fields[1]: the parent's pid)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _used(fields: list[str]) -> int:
    """Clock ticks used by a process and by its children it has reaped (utime, stime, cutime,
    cstime): what it has cost so far, including the part of its children's that left /proc."""
    return sum(int(field) for field in fields[11:15])


def server_cpu_seconds(parent: int) -> float:
    """CPU seconds (user + system) used so far by the process `parent` and its children, live
    or ended: roomtemp's server and its workers, or PostgreSQL's postmaster and its backends
    (which come and go with connections). A child that has ended counts once it is reaped, in
    its parent's cutime/cstime, so a difference of two calls counts each child's CPU in
    between, whether it lived through, started or ended there."""
    while True:
        own = _stat(parent)
        ticks = _used(own)
        for process in Path("/proc").glob("[0-9]*"):
            try:
                fields = _stat(process.name)
            except OSError:  # the process ended while we looked
                continue
            if int(fields[1]) == parent:
                ticks += _used(fields)
        # A child reaped during the scan was counted twice or not at all: look again.
        if _stat(parent)[13:15] == own[13:15]:
            return ticks / os.sysconf("SC_CLK_TCK")


def postmaster_pid(url: str) -> int | None:
    """The pid of the PostgreSQL server at `url` when it runs on this machine and its data
    directory is readable here (the bench's throwaway one is), from its postmaster.pid; None
    otherwise (another machine, a container, or a role that may not read `data_directory`)."""
    address = urlsplit(url)
    if address.hostname not in (None, "localhost", "127.0.0.1", "::1"):
        return None
    folder = asyncio.run(_data_directory(url))
    try:
        lines = (Path(folder) / "postmaster.pid").read_text().splitlines() if folder else []
    except OSError:
        return None
    # Its 4th line is the port: the same folder on this machine may belong to another server.
    if len(lines) < 4 or lines[3] != str(address.port or 5432):
        return None
    if not Path(f"/proc/{lines[0]}").exists():  # a file left by a server that crashed
        return None
    return int(lines[0])


async def _data_directory(url: str) -> str | None:
    connection = await asyncpg.connect(url)
    try:
        folder: str = await connection.fetchval("SHOW data_directory")
        return folder
    except asyncpg.PostgresError:  # not a superuser, nor in pg_read_all_settings
        return None
    finally:
        await connection.close()
