"""`roomtemp average|series|rooms` against the real server: tables for people, JSON for
scripts, the token from a file; and an import that waits for a server to come back."""

import json
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from tests.blackbox.server import ROOMTEMP, running_server
from tests.blackbox.server import roomtemp as run
from tests.network import free_port

TOKEN = "an-admin-token-for-the-cli-tests"


def post_hall(url: str) -> None:
    """294.1 K and 295.1 K, five and two minutes ago: 20.95 and 21.95 °C."""
    now = datetime.now(UTC)
    body = [
        {"room_id": "Hall", "v": 294.1, "ts": (now - timedelta(minutes=5)).isoformat()},
        {"room_id": "Hall", "v": 295.1, "ts": (now - timedelta(minutes=2)).isoformat()},
    ]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.post(f"{url}/measurements", json=body, headers=headers).status_code == 200


def reads_should_print_tables_and_json_with_the_token_from_a_file(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    env = {"ROOMTEMP_TOKEN_FILE": str(token_file)}
    with running_server("memory://", env={"ROOMTEMP_ADMIN_TOKEN": TOKEN}) as server:
        post_hall(server.url)
        url = ["--url", server.url]

        average = run("average", "Hall", "PT15M", *url, env=env)
        assert average.returncode == 0, average.stderr
        header, row = average.stdout.splitlines()
        assert header.split()[:4] == ["room", "average", "min", "max"]
        assert row.split()[:7] == ["Hall", "21.45", "C", "20.95", "C", "21.95", "C"]

        as_json = run("average", "Hall", "PT15M", "--unit", "f", "--json", *url, env=env)
        answer = json.loads(as_json.stdout)
        assert (answer["u"], answer["count"], answer["min"]) == ("F", 2, 69.71)

        series = run("series", "Hall", "PT15M", "--bucket", "PT1M", *url, env=env)
        assert series.returncode == 0, series.stderr
        assert len(series.stdout.splitlines()) == 3  # a header and two buckets
        assert "20.95" in series.stdout

        rooms = run("rooms", "--unit", "K", *url, env=env)
        assert rooms.returncode == 0, rooms.stderr
        assert rooms.stdout.splitlines()[1].split()[:3] == ["Hall", "295.10", "K"]


def rooms_should_list_every_page(tmp_path: Path) -> None:
    """More rooms than a page holds (10,000): the command follows the Link to the next."""
    now = datetime.now(UTC).isoformat()
    body = [{"room_id": f"room {n:05}", "v": 290.0, "ts": now} for n in range(10_003)]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with running_server("memory://", env={"ROOMTEMP_ADMIN_TOKEN": TOKEN}) as server:
        response = httpx.post(f"{server.url}/measurements", json=body, headers=headers)
        assert response.status_code == 200
        listed = run("rooms", "--json", "--url", server.url, env={"ROOMTEMP_TOKEN": TOKEN})
    assert listed.returncode == 0, listed.stderr
    rooms = [room["room_id"] for room in json.loads(listed.stdout)]
    assert rooms == [f"room {n:05}" for n in range(10_003)]


def a_read_should_say_what_the_server_refused() -> None:
    with running_server("memory://", env={"ROOMTEMP_ADMIN_TOKEN": TOKEN}) as server:
        no_token = run("rooms", "--url", server.url)
        assert no_token.returncode == 1
        assert "set ROOMTEMP_TOKEN, or ROOMTEMP_TOKEN_FILE" in no_token.stderr
        unknown = run(
            "average", "Nowhere", "PT1H", "--url", server.url, env={"ROOMTEMP_TOKEN": TOKEN}
        )
        assert unknown.returncode == 1
        assert "the server answered 404" in unknown.stderr
        assert "Traceback" not in unknown.stderr


def a_bad_duration_should_be_refused_before_asking() -> None:
    result = run("average", "Hall", "P1M")
    assert result.returncode == 2
    assert "months or years" in result.stderr


def import_should_wait_for_a_server_that_is_restarting(tmp_path: Path) -> None:
    measurements = tmp_path / "hall.csv"
    measurements.write_text("room_id,ts,v,u\nHall,2026-11-27T10:00:00Z,20.5,C\n")
    port = free_port()
    importing = subprocess.Popen(
        [str(ROOMTEMP), "import", str(measurements), "--url", f"http://127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert importing.stderr is not None
    # The server comes up once the import has found it down, and is waiting for it.
    assert "trying again" in importing.stderr.readline()
    with running_server(f"sqlite:///{tmp_path / 'db.sqlite3'}", port=port) as server:
        out, err = importing.communicate(timeout=60)
        assert importing.returncode == 0, err
        assert re.search(r"stored\s+1\n", out), out
        rooms = httpx.get(f"{server.url}/rooms").json()
        assert [room["room_id"] for room in rooms] == ["Hall"]
