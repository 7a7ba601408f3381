"""Write load for the fault tests: concurrent writers of single measurements and of batches,
each remembering what was acknowledged, and a check of what the database holds afterwards."""

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from roomtemp.domain.measurements import EARLIEST, LATEST
from roomtemp.storage import open_store

START = datetime(2026, 1, 1, tzinfo=UTC)
Headers = dict[str, str] | None
BATCH_SIZE = 50


def ts(number: int) -> datetime:
    return START + timedelta(seconds=number)


@dataclass
class Answer:
    started: float  # time.monotonic()
    finished: float
    status: int | None  # None: no answer (connection refused or reset)
    retry_after: str | None
    room: str
    numbers: range  # the measurements sent: ts(number) for each

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Load:
    answers: list[Answer] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def acknowledged(self) -> dict[str, set[int]]:
        """room -> the numbers of its measurements answered with a 2xx."""
        found: dict[str, set[int]] = {}
        for answer in self.answers:
            if answer.ok:
                found.setdefault(answer.room, set()).update(answer.numbers)
        return found

    answered: asyncio.Event = field(default_factory=asyncio.Event)  # set at each answer

    def record(self, answer: Answer) -> None:
        self.answers.append(answer)
        self.answered.set()

    async def _next_answer(self) -> None:
        self.answered.clear()
        await self.answered.wait()

    async def wait_for_acknowledged(self, count: int) -> None:
        while sum(map(len, self.acknowledged().values())) < count:
            await self._next_answer()

    async def first_acknowledged_after(self, moment: float) -> float:
        """When the first request sent after `moment` was acknowledged."""
        while not (done := [a.finished for a in self.answers if a.ok and a.started >= moment]):
            await self._next_answer()
        return min(done)

    @staticmethod
    def lost(acknowledged: dict[str, set[int]], found: dict[str, set[int]]) -> dict[str, set[int]]:
        """room -> acknowledged measurements not found stored"""
        return {
            room: gone for room, numbers in acknowledged.items() if (gone := numbers - found[room])
        }

    def figures(self, acknowledged: dict[str, set[int]], found: dict[str, set[int]]) -> str:
        statuses = Counter(answer.status for answer in self.answers)
        sent = sum(len(answer.numbers) for answer in self.answers)
        acked = sum(map(len, acknowledged.values()))
        kept = sum(len(numbers & found[room]) for room, numbers in acknowledged.items())
        return (
            f"sent {len(self.answers)} requests ({sent} measurements, statuses"
            f" {dict(sorted(statuses.items(), key=str))}), acknowledged {acked} measurements,"
            f" found stored {kept} of them"
        )


async def single_writer(url: str, writer: int, load: Load, headers: Headers = None) -> None:
    """Measurement after measurement of room single-N until told to stop; a measurement that
    was not acknowledged is sent again, as a sensor would, until it is."""
    room = f"single-{writer}"
    number = 0
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=headers) as client:
        while not load.stop.is_set():
            body = {"v": 290.0, "ts": ts(number).isoformat()}
            answer = await _send(
                client, f"/measurements/{room}", body, room, range(number, number + 1)
            )
            load.record(answer)
            if answer.status == 201:
                number += 1
            else:
                await asyncio.sleep(0.05)


async def batch_writer(url: str, writer: int, load: Load, headers: Headers = None) -> None:
    """Batches of BATCH_SIZE measurements of room batch-N until told to stop."""
    room = f"batch-{writer}"
    first = 0
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=headers) as client:
        while not load.stop.is_set():
            numbers = range(first, first + BATCH_SIZE)
            body = [{"room_id": room, "v": 291.0, "ts": ts(n).isoformat()} for n in numbers]
            answer = await _send(client, "/measurements", body, room, numbers)
            load.record(answer)
            if answer.status == 200:
                first += BATCH_SIZE
            else:
                await asyncio.sleep(0.05)


async def _send(
    client: httpx.AsyncClient, path: str, body: object, room: str, numbers: range
) -> Answer:
    started = time.monotonic()
    try:
        response = await client.post(path, json=body)
    except httpx.TransportError:
        return Answer(started, time.monotonic(), None, None, room, numbers)
    return Answer(
        started,
        time.monotonic(),
        response.status_code,
        response.headers.get("retry-after"),
        room,
        numbers,
    )


async def stored(database_url: str, rooms: set[str]) -> dict[str, set[int]]:
    """room -> the numbers of its measurements found in the database."""
    store = await open_store(database_url, pool_size=1)
    try:
        found = {}
        for room in rooms:
            rows = await store.raw(room, EARLIEST, LATEST, 10_000_000)
            found[room] = {(at - START) // timedelta(seconds=1) for at, _ in rows}
        return found
    finally:
        await store.close()
