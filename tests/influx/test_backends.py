"""Line protocol and InfluxQL on each persistent backend, through the real server: partial
writes both through shared commits (a few points) and through one transaction (thousands,
COPY on PostgreSQL), then read back through the rollups."""

from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from tests.blackbox.server import Server, running_server

START = 1_700_000_000  # s


@pytest.fixture
def server(persistent_url: str) -> Iterator[Server]:
    with running_server(persistent_url, "--migrate", "--no-access-log") as running:
        yield running


def a_partial_write_should_keep_every_valid_point_on_each_backend(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        few = ["t,room=few value=20 1700000000", "t,room=few value=21 1700000060"]
        assert client.post("/write?precision=s", content="\n".join(few)).status_code == 204
        again = [few[0], "t,room=few value=25 1700000060", "t,room=few value=22"]
        response = client.post("/write?precision=s", content="\n".join(again))
        assert response.status_code == 400
        assert response.json()["error"].endswith("dropped=1")  # the conflict at 1700000060
        lines = [f"t,room=many value={20 + i % 50 / 10} {START + i}" for i in range(3000)]
        assert client.post("/write?precision=s", content="\n".join(lines[:1000])).status_code == 204
        lines[10] = f"t,room=many value=99 {START + 10}"  # conflicts with what is stored
        lines[2500] = "t,room=many value=x"  # not line protocol
        response = client.post("/write?precision=s", content="\n".join(lines))
        assert response.status_code == 400
        error = response.json()["error"]
        assert "line 11: another value" in error
        assert "line 2501: invalid" in error
        assert error.endswith("dropped=2")
        answer = client.get(
            "/query",
            params={
                "q": f"SELECT count(value), sum(value) FROM K WHERE room = 'many'"
                f" AND time >= {START}s AND time < {START + 3000}s",
                "epoch": "s",
            },
        ).json()
        (row,) = answer["results"][0]["series"][0]["values"]
        assert row[1] == 2999  # all but the malformed line; the conflicting one kept its first
        expected = sum(20 + i % 50 / 10 for i in range(3000) if i != 2500) + 273.15 * 2999
        assert row[2] == pytest.approx(expected)
        since = {"unit": "C", "start": "2023-01-01T00:00:00Z"}
        native = client.get("/measurements/few", params=since)
        assert [item["v"] for item in native.json()["items"][:2]] == [20.0, 21.0]


def grafanas_panel_should_match_the_native_series_on_each_backend(server: Server) -> None:
    lines = [f"°C,entity_id=den value={20 + i % 7} {START + i * 25}" for i in range(3456)]
    with httpx.Client(base_url=server.url, timeout=60) as client:
        written = client.post("/write", params={"precision": "s"}, content="\n".join(lines))
        assert written.status_code == 204, written.text
        start_ms, end_ms = START * 1000, (START + 86400) * 1000
        q = (
            'SELECT mean("value") FROM "°C" WHERE ("entity_id" = \'den\') AND '
            f"time >= {start_ms}ms and time <= {end_ms}ms GROUP BY time(1m) fill(none)"
        )
        panel = client.get("/query", params={"q": q, "epoch": "ms", "db": "x"}).json()
        native = client.get(
            "/measurements/den/series/P1D",
            params={"bucket": "PT1M", "unit": "C", "end": "2023-11-15T22:13:20Z"},
        ).json()
    rows = panel["results"][0]["series"][0]["values"]
    assert len(rows) == len(native["points"]) > 1000
    for (ts, mean), point in zip(rows, native["points"], strict=True):
        assert mean == pytest.approx(point["v"])
        assert ts == _ms(point["ts"])


def _ms(rfc3339: str) -> int:
    return int(datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp() * 1000)
