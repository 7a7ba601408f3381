"""SIGTERM under write load: every measurement acknowledged (201) is stored, on both backends."""

import asyncio
import itertools
import signal
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.blackbox.server import Server, running_server

WRITERS = 16
SIGNAL_AFTER = 200  # acknowledged measurements
START = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Load:
    acknowledged: list[tuple[int, int]] = field(default_factory=list)  # (writer, number)
    acknowledged_after_signal: int = 0
    signalled: bool = False
    under_load: asyncio.Event = field(default_factory=asyncio.Event)  # SIGNAL_AFTER reached


def ts(number: int) -> str:
    return (START + timedelta(seconds=number)).isoformat()


async def write_until_refused(server: Server, writer: int, load: Load) -> None:
    """Post measurements of room writer-N one after another until the server goes away."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        for number in itertools.count():
            try:
                response = await client.post(
                    f"/measurements/writer-{writer}", json={"v": 290.0, "ts": ts(number)}
                )
            except httpx.TransportError:
                return  # refused or closed: not acknowledged, so nothing is owed
            assert response.status_code == 201, response.text
            load.acknowledged.append((writer, number))
            load.acknowledged_after_signal += load.signalled
            if len(load.acknowledged) >= SIGNAL_AFTER:
                load.under_load.set()


async def load_then_sigterm(server: Server) -> Load:
    load = Load()
    writers = [asyncio.create_task(write_until_refused(server, n, load)) for n in range(WRITERS)]
    await load.under_load.wait()
    server.process.send_signal(signal.SIGTERM)
    load.signalled = True
    await asyncio.gather(*writers)
    return load


@pytest.mark.parametrize("workers", ["1", "2"])
def sigterm_under_write_load_should_lose_no_acknowledged_measurement(
    persistent_url: str, workers: str, tmp_path: Path
) -> None:
    log = tmp_path / "stderr.log"
    with (
        log.open("wb") as stderr,
        running_server(
            persistent_url, "--migrate", "--workers", workers, "--no-access-log", stderr=stderr
        ) as server,
    ):
        load = asyncio.run(load_then_sigterm(server))
        # One process re-raises SIGTERM on itself once its graceful shutdown is done, so that
        # its parent sees the signal obeyed (uvicorn's choice); a supervisor of workers exits 0.
        assert server.process.wait(timeout=30) in (0, -signal.SIGTERM)
    # Requests in flight when the signal came were answered, not dropped ...
    assert load.acknowledged_after_signal > 0
    # ... and each worker ran its shutdown, which closes the store.
    assert log.read_text().count("Application shutdown complete") == int(workers)
    with (
        running_server(persistent_url) as restarted,
        httpx.Client(base_url=restarted.url) as client,
    ):
        for writer, number in load.acknowledged:
            # Another value at the same room and ts is a conflict only if the first is stored.
            response = client.post(
                f"/measurements/writer-{writer}", json={"v": 291.0, "ts": ts(number)}
            )
            assert response.status_code == 409, (writer, number, response.text)
