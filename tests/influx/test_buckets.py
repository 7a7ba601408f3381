"""InfluxQL's buckets against a brute-force count of the points written: any interval, offset
and window, through the rollups and the raw edges alike."""

from collections import defaultdict
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roomtemp.http.app import create_app
from roomtemp.settings import Settings
from roomtemp.storage.memory import InMemoryStore

NOW = datetime(2023, 11, 20, tzinfo=UTC)
START = 1_700_000_000  # s
SPAN = 3 * 86_400  # the points lie in three days from START
INTERVALS = [1, 7, 60, 90, 900, 3600, 5400, 86_400]  # s: hours and days, and cuts of them


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    times=st.sets(st.integers(0, SPAN), min_size=1, max_size=60),
    interval=st.sampled_from(INTERVALS),
    offset=st.integers(0, 86_400),
    window=st.tuples(st.integers(-3600, SPAN), st.integers(0, SPAN + 3600)),
)
async def buckets_should_hold_exactly_the_points_in_them(
    times: set[int], interval: int, offset: int, window: tuple[int, int]
) -> None:
    since, until = START + min(window), START + max(window)
    if (until - since) // interval > 5000:
        return  # more buckets than a test needs to look at
    app = create_app(Settings(database_url="memory://"), store=InMemoryStore(), clock=lambda: NOW)
    lines = [f"K,room=r value={280 + t % 17} {START + t}" for t in sorted(times)]
    expected: dict[int, list[float]] = defaultdict(list)
    for t in times:
        if since <= START + t <= until:
            shifted = START + t - offset % interval
            expected[shifted // interval * interval + offset % interval].append(280 + t % 17)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost"
        ) as client,
    ):
        written = await client.post("/write?precision=s", content="\n".join(lines))
        assert written.status_code == 204
        q = (
            "SELECT mean(value), count(value), min(value), max(value) FROM K WHERE room = 'r'"
            f" AND time >= {since}s AND time <= {until}s"
            f" GROUP BY time({interval}s, {offset}s) fill(none)"
        )
        response = await client.get("/query", params={"q": q, "epoch": "s"})
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    rows = result["series"][0]["values"] if "series" in result else []
    assert [row[0] for row in rows] == sorted(expected)
    for ts, mean, count, low, high in rows:
        values = expected[ts]
        assert (count, low, high) == (len(values), min(values), max(values))
        assert mean == pytest.approx(sum(values) / len(values))
