"""kill -9 under concurrent single and batch writes: every measurement acknowledged (2xx) is
found stored once the server is started again, on both persistent backends."""

import asyncio
import os
import signal
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.blackbox.load import Load, batch_writer, single_writer, stored
from tests.blackbox.server import Server, running_server

SINGLE_WRITERS = 12
BATCH_WRITERS = 2
KILL_AFTER = 1000  # acknowledged measurements, then a second and a half more of writing


async def load_then_kill(server: Server) -> Load:
    load = Load()
    writers = [
        *(asyncio.create_task(single_writer(server.url, n, load)) for n in range(SINGLE_WRITERS)),
        *(asyncio.create_task(batch_writer(server.url, n, load)) for n in range(BATCH_WRITERS)),
    ]
    await load.wait_for_acknowledged(KILL_AFTER)
    await asyncio.sleep(1.5)
    # The supervisor and its workers at once, as the kernel's OOM killer or a power cut would:
    # no shutdown runs, no commit in flight finishes.
    os.killpg(server.process.pid, signal.SIGKILL)
    load.stop.set()
    await asyncio.gather(*writers)
    return load


def kill_9_under_write_load_should_lose_no_acknowledged_measurement(
    persistent_url: str, tmp_path: Path, report: Callable[[str], None]
) -> None:
    flags = ("--migrate", "--workers", "2", "--no-access-log")
    with (
        (tmp_path / "server.log").open("wb") as log,
        running_server(persistent_url, *flags, stderr=log, own_group=True) as server,
    ):
        load = asyncio.run(load_then_kill(server))
        assert server.process.wait(timeout=10) == -signal.SIGKILL
    with running_server(persistent_url) as restarted:
        body = {"v": 290.0, "ts": "2026-11-27T14:00:00Z"}
        assert httpx.post(f"{restarted.url}/measurements/after", json=body).status_code == 201
    acknowledged = load.acknowledged()
    found = asyncio.run(stored(persistent_url, set(acknowledged)))
    cut_off = sum(answer.status is None for answer in load.answers)
    report(f"{load.figures(acknowledged, found)}; {cut_off} requests cut off by the kill")
    assert {answer.status for answer in load.answers} <= {200, 201, None}
    assert load.lost(acknowledged, found) == {}
