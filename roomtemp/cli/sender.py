"""`roomtemp simulate`: simulated rooms sent to a server, a past period at once (backfill,
through the batch endpoint), then or else live, every interval, as sensors would."""

import asyncio
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, TextIO

import httpx

from roomtemp.cli.connection import (
    ClientError,
    Server,
    error_of,
    post_batch_async,
    room_path,
    unreachable,
)
from roomtemp.cli.progress import Progress
from roomtemp.cli.room_model import Reading, Simulation

# Generated a day at a time, so that a year of backfill never sits in memory at once.
GENERATED_AT_ONCE = timedelta(days=1)
CONCURRENT_AT_MOST = 32


@dataclass(frozen=True, slots=True)
class Plan:
    rooms: list[str]
    seed: int
    interval: timedelta
    backfill: timedelta | None
    live: bool
    batch_size: int
    zone: tzinfo

    def simulation(self, now: datetime) -> Simulation:
        """The rooms of the plan, from the start of its backfill (or now) on."""
        return Simulation(
            self.rooms,
            seed=self.seed,
            start=now - (self.backfill or timedelta()),
            interval=self.interval,
            zone=self.zone,
        )


def as_item(reading: Reading) -> dict[str, Any]:
    return {
        "room_id": reading.room_id,
        "v": reading.celsius,
        "u": "C",
        "ts": reading.ts.isoformat(),
    }


async def simulate(server: Server, plan: Plan, out: TextIO = sys.stdout) -> None:
    now = datetime.now(UTC)
    simulation = plan.simulation(now)
    async with server.async_client() as client:
        if plan.backfill:
            await backfill(client, simulation, now, plan.batch_size, out)
        if plan.live:
            await live(client, simulation, out)


async def last_seen(client: httpx.AsyncClient) -> dict[str, datetime]:
    """Each room's latest measurement on the server (GET /rooms, page after page)."""
    found: dict[str, datetime] = {}
    page: str | None = "/rooms?limit=10000"
    while page is not None:
        try:
            response = await client.get(page)
        except httpx.TransportError as error:
            raise unreachable(client.base_url, error) from None
        if response.status_code != 200:
            raise error_of(response)
        found.update(
            (room["room_id"], datetime.fromisoformat(room["last_ts"])) for room in response.json()
        )
        page = response.links.get("next", {}).get("url")
    return found


async def backfill(
    client: httpx.AsyncClient, simulation: Simulation, until: datetime, batch_size: int, out: TextIO
) -> None:
    """Every reading up to `until` in batches; a room's readings up to its latest on the server
    are left out, so that a second run fills the time since the first instead of conflicting
    with it. One batch is in flight while the next is made."""
    seen = await last_seen(client)
    started = simulation.ts
    progress = Progress("backfill", (until - started).total_seconds())
    sent, stored, pending = 0, 0, None
    begun = asyncio.get_running_loop().time()
    for batch in batches(new_readings(simulation, until, seen), batch_size):
        if pending is not None:
            stored += await pending
        pending = asyncio.create_task(store(client, batch))
        sent += len(batch)
        progress.update((simulation.ts - started).total_seconds(), sent)
    if pending is not None:
        stored += await pending
    progress.close()
    seconds = asyncio.get_running_loop().time() - begun
    rooms = len(simulation.rooms)
    print(
        f"backfilled {stored:,} new measurements of {rooms} rooms since "
        f"{started:%Y-%m-%d %H:%M} UTC in {seconds:.1f} s ({stored / max(seconds, 1e-9):,.0f}/s)",
        file=out,
    )


def new_readings(
    simulation: Simulation, until: datetime, seen: dict[str, datetime]
) -> Iterable[Reading]:
    while simulation.ts + simulation.interval <= until:
        for reading in simulation.advance(min(simulation.ts + GENERATED_AT_ONCE, until)):
            last = seen.get(reading.room_id)
            if last is None or reading.ts > last:
                yield reading


def batches(readings: Iterable[Reading], size: int) -> Iterable[list[dict[str, Any]]]:
    batch = []
    for reading in readings:
        batch.append(as_item(reading))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def store(client: httpx.AsyncClient, batch: list[dict[str, Any]]) -> int:
    answer = await post_batch_async(client, batch)
    if answer.status != 200:
        index, problem = answer.failures[0]
        raise ClientError(f"the server refused a simulated measurement ({batch[index]}): {problem}")
    return answer.stored


async def live(client: httpx.AsyncClient, simulation: Simulation, out: TextIO) -> None:
    """Post each room's reading every interval, each on its own like a sensor, until stopped."""
    print(
        f"posting {len(simulation.rooms)} rooms every {simulation.interval.total_seconds():g} s"
        f" to {client.base_url}"
        " (Ctrl-C stops)",
        file=out,
        flush=True,
    )
    trouble: str | None = None
    while True:
        wait = simulation.ts + simulation.interval - datetime.now(UTC)
        await asyncio.sleep(max(wait.total_seconds(), 0.0))
        readings = simulation.advance(datetime.now(UTC))
        problem = await post_each(client, readings)
        if problem != trouble:  # said once, not at every interval
            print(problem or "posting again", file=out, flush=True)
            trouble = problem


async def post_each(client: httpx.AsyncClient, readings: list[Reading]) -> str | None:
    """Post readings concurrently (the server gathers concurrent writes into one commit);
    the first problem, if any, as a sentence. After a long sleep of the machine, the readings
    missed go in one batch instead."""
    if len(readings) > CONCURRENT_AT_MOST:
        try:
            await store(client, [as_item(reading) for reading in readings])
        except ClientError as error:
            return str(error)
        return None
    answers = await asyncio.gather(
        *(post_one(client, reading) for reading in readings), return_exceptions=True
    )
    for answer in answers:
        if isinstance(answer, httpx.TransportError):
            return str(unreachable(client.base_url, answer))
        if isinstance(answer, BaseException):
            raise answer
        if answer.status_code != 201:
            return str(error_of(answer))
    return None


async def post_one(client: httpx.AsyncClient, reading: Reading) -> httpx.Response:
    body = {"v": reading.celsius, "u": "C", "ts": reading.ts.isoformat()}
    return await client.post(room_path(reading.room_id), json=body)
