"""Room ids that hold `/`, `%`, `?`, `#`, dots, spaces or other scripts, through the real
server (which decodes paths before the app sees them) and the real CLI: imported, read by
every endpoint, and exported back."""

import csv
import http.client
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from roomtemp.cli.connection import room_path
from tests.blackbox.server import Server, roomtemp
from tests.http.test_room_paths import AWKWARD

EXPORTED = [
    "Floor 2/Room 5",
    "Kitchen/average/P1D",
    "100%",
    "a#b?c",
    ".",
    "..",
    "a/../b",
    " spaced ",
    "Кухня/Спальня",
]


def every_room_id_should_round_trip_through_the_real_server_and_the_cli(
    server: Server, tmp_path: Path
) -> None:
    end = datetime.now(UTC).replace(microsecond=0)
    rows = [(room, end - timedelta(minutes=minute)) for room in AWKWARD for minute in (1, 2)]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerows(
        [("room_id", "ts", "v", "u"), *((r, ts.isoformat(), 290.0, "K") for r, ts in rows)]
    )
    source = tmp_path / "awkward.csv"
    source.write_text(text.getvalue())
    imported = roomtemp("import", str(source), "--url", server.url)
    assert imported.returncode == 0, imported.stdout
    with httpx.Client(base_url=server.url) as client:
        listed = {room["room_id"] for room in client.get("/rooms").json()}
        assert listed == set(AWKWARD)
        for room in AWKWARD:
            params = {"end": end.isoformat()}
            average = client.get(room_path(room, "average", "PT1H"), params=params)
            assert (average.status_code, average.json()["count"]) == (200, 2), room
            series = client.get(
                room_path(room, "series", "PT1H"), params={**params, "bucket": "PT1H"}
            )
            assert series.json()["room_id"] == room
            raw = client.get(room_path(room), params=params)
            assert len(raw.json()["items"]) == 2, room
            posted = client.post(room_path(room), json={"v": 291.0, "ts": end.isoformat()})
            assert (posted.status_code, posted.json()["room_id"]) == (201, room)
    for room in EXPORTED:
        exported = roomtemp("export", room, "--url", server.url)
        assert exported.returncode == 0, exported.stderr
        back = list(csv.DictReader(io.StringIO(exported.stdout)))
        assert [row["room_id"] for row in back] == [room] * 3


def an_encoded_slash_should_not_reach_another_room_over_real_http(server: Server) -> None:
    kitchen = [{"room_id": "Kitchen", "v": 290.0}]
    assert httpx.post(f"{server.url}/measurements", json=kitchen).status_code == 200
    # Sent byte for byte, as a client that encodes nothing more than it must would send it.
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    for path in ["/measurements/Kitchen%2Faverage%2FP1D", "/measurements/Kitchen%2F"]:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        assert response.status == 404, body
        assert b"room_not_found" in body
    connection.close()
