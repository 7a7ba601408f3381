"""Slow clients against one worker: ordinary requests alone, then beside 500 connections that
send their headers a byte a second (reconnecting when cut off, so that 500 stay open).
`python -m bench.slow_clients [--quick]`; not part of `make bench`.

Reports the ordinary requests' p50/p99 in each phase and their ratio, the server's CPU per
ordinary request, and how the slow connections ended (cut off by the header deadline).
"""

import argparse
import asyncio
import multiprocessing
import os
import statistics
import time
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

import httpx

from tests.blackbox.server import Server, running_server

SLOW_CONNECTIONS = 500
TARGET_P99_MS = 100.0
ORDINARY_PAUSE = 0.02  # seconds between two ordinary requests of the one client


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def ordinary(url: str, seconds: float) -> list[float]:
    """One client writing and reading a room in turn: each request's latency, in seconds."""
    latencies = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        deadline, number = time.monotonic() + seconds, 0
        while time.monotonic() < deadline:
            started = time.perf_counter()
            if number % 2:
                response = await client.get("/measurements/hall/average/P1D")
            else:
                response = await client.post("/measurements/hall", json={"v": 290.0})
            latencies.append(time.perf_counter() - started)
            assert response.status_code in (200, 201), response.text
            number += 1
            await asyncio.sleep(ORDINARY_PAUSE)
    return latencies


def phase(server: Server, seconds: float) -> dict[str, float]:
    before = cpu_seconds(server.process.pid)
    latencies = sorted(asyncio.run(ordinary(server.url, seconds)))
    cpu = cpu_seconds(server.process.pid) - before
    return {
        "requests": len(latencies),
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "server_cpu_ms_per_request": 1000 * cpu / len(latencies),
        "server_cpu_share": cpu / seconds,
    }


def trickle(port: int, connections: int, seconds: float, results: "Queue[list[float]]") -> None:
    """In a process of its own (its CPU is not the measured client's): keep `connections`
    connections sending a header a byte a second for `seconds`; put how long each one that
    the server closed had lasted."""

    async def one(cut_off: list[float], deadline: float) -> None:
        while time.monotonic() < deadline:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: roomtemp\r\nX-Slow: ")
            opened = time.monotonic()
            try:
                while time.monotonic() < deadline:
                    writer.write(b"a")
                    await writer.drain()
                    try:
                        async with asyncio.timeout(1.0):
                            if not await reader.read(1024):
                                break
                    except TimeoutError:
                        continue
            except ConnectionError:
                pass
            writer.close()
            if time.monotonic() < deadline:
                cut_off.append(time.monotonic() - opened)

    async def all_of_them() -> list[float]:
        cut_off: list[float] = []
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(one(cut_off, deadline) for _ in range(connections)))
        return cut_off

    results.put(asyncio.run(all_of_them()))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.slow_clients", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter phases")
    seconds = 8.0 if parser.parse_args().quick else 20.0
    results: dict[str, Any] = {}
    with running_server("memory://", "--no-access-log") as server:
        asyncio.run(ordinary(server.url, 2))  # warm up
        results["alone"] = phase(server, seconds)
        cut_offs: Queue[list[float]] = multiprocessing.Queue()
        slow = multiprocessing.Process(
            target=trickle, args=(server.port, SLOW_CONNECTIONS, seconds + 4, cut_offs)
        )
        slow.start()
        time.sleep(2)  # all connected
        results["beside_slow_clients"] = phase(server, seconds)
        cut_off = cut_offs.get()
        slow.join()
    alone, beside = results["alone"], results["beside_slow_clients"]
    for name, figures in results.items():
        print(
            f"{name:>20}: {figures['requests']:5d} requests, p50 {figures['p50_ms']:6.1f} ms,"
            f" p99 {figures['p99_ms']:6.1f} ms, server CPU"
            f" {figures['server_cpu_ms_per_request']:.2f} ms/request"
            f" ({100 * figures['server_cpu_share']:.0f}% of a core)"
        )
    print(
        f"p99 beside {SLOW_CONNECTIONS} slow clients: {beside['p99_ms'] / alone['p99_ms']:.2f}x"
        f" alone, target <= {TARGET_P99_MS:.0f} ms:"
        f" {'met' if beside['p99_ms'] <= TARGET_P99_MS else 'NOT met'}"
    )
    lasted = f", each after {min(cut_off):.1f}-{max(cut_off):.1f} s" if cut_off else ""
    print(f"slow connections cut off by the server: {len(cut_off)}{lasted}")


if __name__ == "__main__":
    main()
