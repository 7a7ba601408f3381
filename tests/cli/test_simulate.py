"""`roomtemp simulate` against the real server: backfill, resuming, live, and no server."""

import signal
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx

from tests.blackbox.server import ROOMTEMP, Server, running_server
from tests.blackbox.server import roomtemp as run
from tests.network import free_port


def rooms_of(server: Server) -> dict[str, dict[str, object]]:
    return {room["room_id"]: room for room in httpx.get(f"{server.url}/rooms").json()}


def count_of(room: dict[str, object]) -> int:
    return int(str(room["count"]))


def posted_twice(rooms: dict[str, dict[str, object]], expected: int) -> bool:
    return len(rooms) == expected and all(count_of(room) >= 2 for room in rooms.values())


def wait_for(condition: Callable[[], bool], within: float = 60) -> None:
    """Until `condition` holds: a deadline for a hung command, not a pace to keep."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.1)


def backfill_should_store_each_rooms_readings_and_resume_where_it_stopped(
    tmp_path: Path,
) -> None:
    with running_server(f"sqlite:///{tmp_path / 'demo.sqlite3'}") as server:
        args = ["simulate", "--url", server.url, "--backfill", "PT6H", "--rooms", "3"]
        first = run(*args, "--seed", "1", "--zone", "Europe/Berlin")
        assert first.returncode == 0, first.stderr
        rooms = rooms_of(server)
        assert sorted(rooms) == ["Bedroom", "Kitchen", "Living room"]
        counts = {name: int(str(room["count"])) for name, room in rooms.items()}
        # A reading a minute for six hours, less the minutes a sensor was silent.
        assert all(300 <= count <= 360 for count in counts.values()), counts
        assert f"backfilled {sum(counts.values()):,} new measurements of 3 rooms" in first.stdout

        again = run(*args, "--seed", "2")  # other values: a conflict, were anything sent again
        assert again.returncode == 0, again.stderr
        later = {name: int(str(room["count"])) for name, room in rooms_of(server).items()}
        # Only the minutes since the first run, if a minute has begun since.
        assert all(0 <= later[name] - counts[name] <= 1 for name in counts), (counts, later)


def live_should_post_every_interval_until_interrupted() -> None:
    with running_server("memory://") as server:
        started = datetime.now(UTC)
        command = [str(ROOMTEMP), "simulate", "--url", server.url, "--rooms", "2"]
        live = subprocess.Popen(
            [*command, "--interval", "PT1S", "--seed", "4"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Interrupted once every room has been posted twice: live posts, again and again.
        wait_for(lambda: posted_twice(rooms_of(server), 2))
        live.send_signal(signal.SIGINT)
        out, err = live.communicate(timeout=30)
        assert live.returncode == 0, err
        assert f"posting 2 rooms every 1 s to {server.url}" in out
        assert "stopped" in err
        rooms = rooms_of(server)
        assert sorted(rooms) == ["Kitchen", "Living room"]
        for room in rooms.values():
            assert count_of(room) >= 2
            last = datetime.fromisoformat(str(room["last_ts"]))
            assert started < last < datetime.now(UTC)


def simulate_should_say_so_when_no_server_answers() -> None:
    result = run("simulate", "--url", f"http://127.0.0.1:{free_port()}", "--wait", "0.5")
    assert result.returncode == 1
    assert result.stderr.startswith("roomtemp simulate: cannot reach http://127.0.0.1:")
    assert "Traceback" not in result.stderr


def a_bad_duration_should_be_refused_with_the_reason() -> None:
    result = run("simulate", "--backfill", "P1M")
    assert result.returncode == 2
    assert "months or years" in result.stderr
