"""Sustained mixed load at 64 connections: no 5xx, and the workers' memory flat.

A few seconds per backend in `make test`; `make soak` runs 60 s (ROOMTEMP_SOAK_SECONDS).
"""

import asyncio
import itertools
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx

from roomtemp.storage import migrate
from tests.blackbox.memory import MIB, sample, trend_of, workers_of
from tests.blackbox.server import create_token, running_server

CONNECTIONS = 64
SECONDS = float(os.environ.get("ROOMTEMP_SOAK_SECONDS", "6"))
ROOMS = [f"soak room {n}" for n in range(16)]


@dataclass
class Tally:
    statuses: Counter[str] = field(default_factory=Counter)  # "kind status" -> count
    stamps: "itertools.count[int]" = field(default_factory=itertools.count)
    # Half an hour ago: the hour's averages find what was written, and a soak writes less
    # than half an hour of milliseconds (one stamp per measurement).
    start: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(minutes=30))

    def next_ts(self) -> str:
        """A new timestamp each call, a millisecond after the one before."""
        return (self.start + timedelta(milliseconds=next(self.stamps))).isoformat()


async def one_request(client: httpx.AsyncClient, tally: Tally, chooser: random.Random) -> None:
    room = chooser.choice(ROOMS)
    path = f"/measurements/{quote(room)}"
    kind = chooser.choices(
        ["single", "batch", "average", "series", "raw", "rooms"], [45, 5, 20, 10, 15, 5]
    )[0]
    if kind == "single":
        response = await client.post(path, json={"v": 21.0, "u": "C", "ts": tally.next_ts()})
    elif kind == "batch":
        body = [{"room_id": room, "v": 294.0, "ts": tally.next_ts()} for _ in range(100)]
        response = await client.post("/measurements", json=body)
    elif kind == "average":
        response = await client.get(f"{path}/average/PT1H", params={"unit": "C"})
    elif kind == "series":
        response = await client.get(f"{path}/series/P1D", params={"bucket": "PT1H"})
    elif kind == "raw":
        response = await client.get(path, params={"limit": 100})
    else:
        response = await client.get("/rooms")
    tally.statuses[f"{kind} {response.status_code}"] += 1


async def connection(url: str, token: str, tally: Tally, until: float, seed: int) -> None:
    chooser = random.Random(seed)
    limits = httpx.Limits(max_connections=1)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=30
    ) as client:
        while time.monotonic() < until:
            await one_request(client, tally, chooser)


async def sustain(url: str, token: str, pids: list[int], every: float) -> tuple[Tally, list[int]]:
    tally = Tally()
    done = asyncio.Event()
    sampling = asyncio.create_task(sample(pids, every, done))
    until = time.monotonic() + SECONDS
    await asyncio.gather(*(connection(url, token, tally, until, n) for n in range(CONNECTIONS)))
    done.set()
    return tally, await sampling


def sustained_mixed_load_should_answer_no_5xx_with_flat_memory(
    persistent_url: str, tmp_path: Path, report: Callable[[str], None]
) -> None:
    every = SECONDS / 30  # 30 samples whatever the length
    asyncio.run(migrate(persistent_url))
    token = create_token(persistent_url, "soak", "read,write")  # access enforced, as deployed
    flags = ("--workers", "2", "--no-access-log")
    with (
        (tmp_path / "server.log").open("wb") as log,
        running_server(persistent_url, *flags, stderr=log) as server,
    ):
        pids = workers_of(server.process.pid)
        tally, samples = asyncio.run(sustain(server.url, token, pids, every))
    trend = trend_of(samples)
    total = sum(tally.statuses.values())
    errors = {kind: n for kind, n in tally.statuses.items() if kind.split()[1].startswith("5")}
    report(
        f"{SECONDS:.0f} s at {CONNECTIONS} connections: {total} requests"
        f" ({total / SECONDS:.0f}/s), {dict(sorted(tally.statuses.items()))};"
        f" {trend.describe(every)}"
    )
    assert errors == {}
    assert {kind.split()[1] for kind in tally.statuses} <= {"200", "201", "404"}
    assert trend.flat, " ".join(f"{rss / MIB:.0f}" for rss in samples)
