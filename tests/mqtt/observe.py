"""Watching a roomtemp server from outside: its /metrics, and waiting for them."""

import asyncio
import re
import time
from collections.abc import Callable, Iterable

import httpx
import msgspec

from roomtemp.domain.measurements import EARLIEST, LATEST
from roomtemp.storage import open_store


def metric(server_url: str, name: str, labels: str = "") -> float:
    """A sample of roomtemp's /metrics (0 when it is absent)."""
    text = httpx.get(f"{server_url}/metrics", timeout=10).text
    pattern = rf"^{re.escape(name)}{re.escape(labels)} (\S+)$"
    return sum(float(value) for value in re.findall(pattern, text, re.MULTILINE))


def wait_for(condition: Callable[[], bool], timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout} s: {what}")
        time.sleep(0.5)


def wait_until_subscribed(server_url: str, processes: int = 1) -> None:
    wait_for(
        lambda: metric(server_url, "roomtemp_mqtt_connected") == processes,
        what=f"{processes} processes subscribed",
    )


def stored_readings(database_url: str, rooms: Iterable[str]) -> dict[tuple[str, str], float]:
    """(room, ts as published) -> the value in °C, for every measurement the rooms hold."""

    async def read() -> dict[tuple[str, str], float]:
        store = await open_store(database_url, pool_size=1)
        try:
            found = {}
            for room in rooms:
                for ts, kelvin in await store.raw(room, EARLIEST, LATEST, 10_000_000):
                    found[room, ts.isoformat()] = round(kelvin - 273.15, 6)
            return found
        finally:
            await store.close()

    return asyncio.run(read())


def expected_readings(published: Iterable[tuple[str, bytes]]) -> dict[tuple[str, str], float]:
    """What storing `published` (roomtemp's JSON in °C, on sensors/{room}) should leave."""
    readings = {}
    for topic, payload in published:
        body = msgspec.json.decode(payload)
        readings[topic.removeprefix("sensors/"), body["ts"]] = round(body["v"], 6)
    return readings
