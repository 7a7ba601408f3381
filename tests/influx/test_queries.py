"""GET|POST /query: InfluxQL as Grafana, Home Assistant and the influx CLI send it."""

from typing import Any

import httpx
import pytest

from roomtemp.influx import selects
from tests.influx.conftest import stored

MINUTE = 60
START = 1_700_000_000  # s; 2023-11-14T22:13:20Z, 20 s into a minute


@pytest.fixture
async def kitchen(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """A day of the kitchen every 20 s (20.0, 20.1 ... 20.9 °C, again and again), and the
    hall every 30 s at 18 °C."""
    lines = [
        f"°C,domain=sensor,entity_id=kitchen_temperature value={20 + index % 10 / 10}"
        f" {START + index * 20}"
        for index in range(24 * 180)
    ]
    lines += [f"°C,entity_id=hall value=18 {START + index * 30}" for index in range(24 * 120)]
    response = await client.post("/write", params={"precision": "s"}, content="\n".join(lines))
    assert response.status_code == 204, response.text
    return client


async def query(client: httpx.AsyncClient, q: str, **parameters: str) -> dict[str, Any]:
    response = await client.get("/query", params={"q": q, **parameters})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


# Grafana's InfluxDB data source (InfluxQL), as its backend sends a time-series panel's query:
# GET /query?db=...&epoch=ms&q=..., $timeFilter as epoch milliseconds, $__interval 1m.
GRAFANA_PANEL = (
    'SELECT mean("value") FROM "°C" WHERE ("entity_id" = \'kitchen_temperature\') AND '
    "time >= 1700000000000ms and time <= 1700086400000ms GROUP BY time(1m) fill(null)"
)


async def grafanas_panel_query_should_answer_a_mean_per_minute_aligned_on_the_epoch(
    kitchen: httpx.AsyncClient,
) -> None:
    body = await query(kitchen, GRAFANA_PANEL, db="home_assistant", epoch="ms")
    (series,) = body["results"][0]["series"]
    assert (series["name"], series["columns"]) == ("°C", ["time", "mean"])
    values = series["values"]
    assert len(values) == 24 * 60 + 1  # every minute the window touches, empty ones as null
    first_minute = (START // MINUTE) * MINUTE
    assert values[0] == [first_minute * 1000, pytest.approx(20.05)]  # 20.0 and 20.1 only
    assert values[1] == [(first_minute + MINUTE) * 1000, pytest.approx(20.3)]
    assert values[-1][1] == pytest.approx(20.9)  # the day's last point, alone in its minute


async def grafanas_post_mode_should_send_the_query_as_a_form(kitchen: httpx.AsyncClient) -> None:
    response = await kitchen.post(
        "/query",
        params={"db": "home_assistant", "epoch": "ms"},
        content=f"q={httpx.QueryParams({'x': GRAFANA_PANEL})['x']}".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert len(response.json()["results"][0]["series"][0]["values"]) == 24 * 60 + 1


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        # Grafana's data source test, then its query editor's lists.
        ("SHOW measurements", [["K"], ["temperature"], ["°C"], ["°F"]]),
        ("SHOW MEASUREMENTS LIMIT 100", [["K"], ["temperature"], ["°C"], ["°F"]]),
        ("SHOW MEASUREMENTS WITH MEASUREMENT =~ /(?i)°c/ LIMIT 100", [["°C"]]),
        ('SHOW FIELD KEYS FROM "°C"', [["value", "float"]]),
        ('SHOW TAG KEYS FROM "°C"', [["entity_id"], ["room"], ["room_id"]]),
        (
            'SHOW TAG VALUES FROM "°C" WITH KEY = "entity_id"',
            [["entity_id", "hall"], ["entity_id", "kitchen_temperature"]],
        ),
        (
            'SHOW TAG VALUES FROM "°C" WITH KEY = "entity_id" WHERE "entity_id" =~ /kit/',
            [["entity_id", "kitchen_temperature"]],
        ),
        ('SHOW RETENTION POLICIES on "home_assistant"', [["autogen", "0s", "168h0m0s", 1, True]]),
        ("SHOW DATABASES;", [["roomtemp"]]),  # Home Assistant's connection test
    ],
)
async def the_schema_queries_should_describe_rooms_as_a_tag_and_units_as_measurements(
    kitchen: httpx.AsyncClient, q: str, expected: list[list[Any]]
) -> None:
    body = await query(kitchen, q, db="home_assistant", epoch="ms")
    assert body["results"][0]["series"][0]["values"] == expected


async def home_assistants_sensor_query_should_answer_one_value(kitchen: httpx.AsyncClient) -> None:
    """The influxdb sensor: select {group}({field}) as value from {measurement} where {where}"""
    body = await query(
        kitchen,
        "select mean(value) as value from \"°F\" where entity_id = 'kitchen_temperature'"
        " and time >= '2023-11-14T22:13:20Z' and time < '2023-11-14T22:16:40Z'",
    )
    (series,) = body["results"][0]["series"]
    assert series["columns"] == ["time", "value"]
    assert series["values"] == [["2023-11-14T22:13:20Z", pytest.approx(20.45 * 9 / 5 + 32)]]


@pytest.mark.parametrize(
    ("function", "value"),
    [("mean", 20.45), ("min", 20.0), ("max", 20.9), ("count", 10), ("sum", 204.5),
     ("first", 20.0), ("last", 20.9)],
)  # fmt: skip
async def each_aggregate_should_summarise_the_window_exactly(
    kitchen: httpx.AsyncClient, function: str, value: float
) -> None:
    body = await query(
        kitchen,
        f'SELECT {function}("value") FROM "°C" WHERE "entity_id" = \'kitchen_temperature\''
        f" AND time >= {START}s AND time < {START + 200}s",
        epoch="s",
    )
    ((ts, answered),) = body["results"][0]["series"][0]["values"]
    assert answered == pytest.approx(value)
    expected_ts = {"first": START, "last": START + 180}.get(function, START)
    assert ts == expected_ts


async def an_aggregate_over_several_rooms_should_merge_them_unless_grouped_by_the_room(
    kitchen: httpx.AsyncClient,
) -> None:
    q = f'SELECT count(value) FROM "°C" WHERE time >= {START}s AND time < {START + 60}s'
    merged = await query(kitchen, q)
    assert merged["results"][0]["series"][0]["values"][0][1] == 3 + 2
    grouped = await query(kitchen, q + " GROUP BY entity_id")
    assert [(s["tags"], s["values"][0][1]) for s in grouped["results"][0]["series"]] == [
        ({"entity_id": "hall"}, 2),
        ({"entity_id": "kitchen_temperature"}, 3),
    ]


@pytest.mark.parametrize(
    ("fill", "values"),
    [
        ("null", [20.0, None, None, 21.0]),
        ("none", [20.0, 21.0]),
        ("previous", [20.0, 20.0, 20.0, 21.0]),
        ("linear", [20.0, pytest.approx(20 + 1 / 3), pytest.approx(20 + 2 / 3), 21.0]),
        ("-1", [20.0, -1, -1, 21.0]),
    ],
)
async def fill_should_fill_empty_buckets_as_influxdb_does(
    client: httpx.AsyncClient, fill: str, values: list[Any]
) -> None:
    lines = f"t,room=gap value=20 {START}\nt,room=gap value=21 {START + 3 * MINUTE}"
    assert (await client.post("/write", params={"precision": "s"}, content=lines)).status_code
    body = await query(
        client,
        f"SELECT mean(value) FROM temperature WHERE room = 'gap' AND time >= {START}s"
        f" AND time <= {START + 3 * MINUTE}s GROUP BY time(1m, 20s) fill({fill})",
        epoch="s",
    )
    rows = body["results"][0]["series"][0]["values"]
    assert [value for _, value in rows] == values
    assert rows[0][0] == START  # the offset moves the buckets to start where the data does


async def raw_queries_should_answer_points_in_the_unit_named_by_the_measurement(
    kitchen: httpx.AsyncClient,
) -> None:
    body = await query(
        kitchen,
        f'SELECT "value" FROM "K" WHERE "entity_id" = \'hall\' AND time >= {START}s'
        " ORDER BY time DESC LIMIT 2",
        epoch="s",
    )
    series = body["results"][0]["series"][0]
    assert series["columns"] == ["time", "value"]
    last = START + (24 * 120 - 1) * 30
    assert series["values"] == [[last, pytest.approx(291.15)], [last - 30, pytest.approx(291.15)]]
    everything = await query(kitchen, f'SELECT * FROM "°C" WHERE time <= {START}s')
    assert everything["results"][0]["series"][0]["columns"] == ["time", "room", "value"]
    assert [row[1] for row in everything["results"][0]["series"][0]["values"]] == [
        "hall",
        "kitchen_temperature",
    ]


@pytest.mark.parametrize(
    ("epoch", "ts"),
    [
        (None, "2023-11-14T22:13:20Z"),
        ("ns", START * 10**9),
        ("u", START * 10**6),
        ("ms", START * 1000),
        ("s", START),
        ("m", START // 60),
        ("h", START // 3600),
    ],
)
async def times_should_be_rfc3339_or_integers_in_the_epoch_asked_for(
    kitchen: httpx.AsyncClient, epoch: str | None, ts: object
) -> None:
    parameters = {"epoch": epoch} if epoch else {}
    body = await query(kitchen, f'SELECT value FROM "°C" WHERE time = {START}s', **parameters)
    assert body["results"][0]["series"][0]["values"][0][0] == ts


async def several_statements_should_answer_in_order_each_with_its_own_error(
    kitchen: httpx.AsyncClient,
) -> None:
    body = await query(
        kitchen,
        'SHOW DATABASES; SELECT mean(value) FROM "°C" WHERE time > now() - 1000d'
        ' GROUP BY time(1s); SELECT count(value) FROM "%"',
    )
    first, second, third = body["results"]
    assert [result["statement_id"] for result in body["results"]] == [0, 1, 2]
    assert "series" in first
    assert "buckets" in second["error"]
    assert third == {"statement_id": 2}  # no temperatures are measured in %


@pytest.mark.parametrize(
    ("q", "named"),
    [
        ("DROP MEASUREMENT x", "DROP"),
        ("SELECT median(value) FROM x", "median"),
        ("SELECT value FROM x WHERE domain = 'sensor'", "domain"),
        ("SELECT value FROM /regex/", "FROM /regex/"),
        ("SELECT mean(value) * 2 FROM x", "arithmetic"),
        ("SELECT mean(value) FROM x GROUP BY time(1m)", "lower time bound"),
        ("SELECT value FROM x tz('Europe/Berlin')", "tz"),
        ('from(bucket:"x") |> range(start: -1h)', "Flux"),
        ("SELECT", "name"),
        ("SELECT value FROM x WHERE room = 'a' OR time > now()", "OR"),
    ],
)
async def anything_else_should_be_an_error_naming_it(
    client: httpx.AsyncClient, q: str, named: str
) -> None:
    response = await client.get("/query", params={"q": q})
    assert response.status_code == 400
    assert named in response.json()["error"]


async def a_query_without_q_or_with_a_bad_epoch_should_be_refused(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/query")).status_code == 400
    assert (
        (await client.get("/query", params={"q": "SHOW DATABASES", "epoch": "x"}))
        .json()["error"]
        .startswith("invalid epoch")
    )


async def create_database_should_succeed_and_change_nothing(client: httpx.AsyncClient) -> None:
    """Telegraf creates its database when it starts, unless told not to."""
    response = await client.post("/query", params={"q": 'CREATE DATABASE "telegraf"'})
    assert response.json() == {"results": [{"statement_id": 0}]}
    assert await stored(client, "telegraf") == []


async def a_flux_query_should_be_told_that_flux_is_not_supported(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/api/v2/query", params={"org": "home"}, json={"query": 'from(bucket: "b")'}
    )
    assert response.status_code == 400
    assert "Flux is not supported" in response.json()["message"]


async def a_raw_query_should_read_no_more_than_its_cap_over_all_rooms(
    kitchen: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selects, "MAX_RAW_POINTS", 100)
    everything = await query(kitchen, 'SELECT value FROM "°C"')
    assert "more than 100 points" in everything["results"][0]["error"]
    limited = await query(kitchen, 'SELECT value FROM "°C" LIMIT 5')
    assert len(limited["results"][0]["series"][0]["values"]) == 5
