"""POST /write and /api/v2/write: line protocol through the same write path as JSON."""

import gzip

import httpx
import pytest

from roomtemp.http.app import create_app
from roomtemp.settings import Settings
from roomtemp.storage.base import Room, StorageUnavailable, WriteResult
from roomtemp.storage.memory import InMemoryStore
from tests.http.test_batch_bounds import MAX_BODIES, MIB, peak_bodies
from tests.influx.conftest import NOW, stored

# What Home Assistant's influxdb integration writes (api_version 1, measurement_attr the
# default unit_of_measurement): every entity, each under its unit, ns timestamps.
HOME_ASSISTANT_LINES = (
    '%,domain=sensor,entity_id=kitchen_humidity device_class_str="humidity",'
    'friendly_name_str="Kitchen humidity",state_class_str="measurement",value=48.0'
    " 1700049000123456000\n"
    'W,domain=sensor,entity_id=kettle_power device_class_str="power",'
    'friendly_name_str="Kettle",value=1850.0 1700049000223456000\n'
    "°C,domain=sensor,entity_id=kitchen_temperature value=21.5,"
    'friendly_name_str="Kitchen" 1700049000323456000\n'
    '°C,domain=sensor,entity_id=hall_temperature device_class_str="temperature",'
    'friendly_name_str="Hall",state_class_str="measurement",value=19.25 1700049000423456000\n'
)


async def write_should_store_home_assistants_temperatures_and_skip_its_other_entities(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/write",
        params={"db": "home_assistant"},
        content=HOME_ASSISTANT_LINES.encode(),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 204, response.text
    assert response.headers["X-Influxdb-Version"]
    assert await stored(client, "kitchen_temperature") == [("2023-11-15T11:50:00.323456Z", 21.5)]
    assert await stored(client, "hall_temperature") == [("2023-11-15T11:50:00.423456Z", 19.25)]
    assert await stored(client, "kitchen_humidity") == []
    assert await stored(client, "kettle_power") == []
    metrics = (await client.get("/metrics")).text
    assert "roomtemp_influx_points_skipped_total 2.0" in metrics


@pytest.mark.parametrize(
    ("precision", "time", "ts"),
    [
        ("ns", "1700049000000001000", "2023-11-15T11:50:00.000001Z"),
        ("n", "1700049000000001000", "2023-11-15T11:50:00.000001Z"),
        ("u", "1700049000000001", "2023-11-15T11:50:00.000001Z"),
        ("ms", "1700049000001", "2023-11-15T11:50:00.001000Z"),
        ("s", "1700049000", "2023-11-15T11:50:00Z"),
        ("m", "28334150", "2023-11-15T11:50:00Z"),
        ("h", "472235", "2023-11-15T11:00:00Z"),
    ],
)
async def write_should_read_times_in_every_precision_of_influxdb_1(
    client: httpx.AsyncClient, precision: str, time: str, ts: str
) -> None:
    response = await client.post(
        "/write", params={"precision": precision}, content=f"t,room=hall value=20 {time}"
    )
    assert response.status_code == 204, response.text
    assert [stored_ts for stored_ts, _ in await stored(client, "hall")] == [ts]


async def write_v2_should_take_its_precisions_and_refuse_the_others(
    client: httpx.AsyncClient,
) -> None:
    ok = await client.post(
        "/api/v2/write",
        params={"org": "home", "bucket": "rooms", "precision": "us"},
        content="t,room=hall value=20 1700049000000001",
    )
    assert ok.status_code == 204, ok.text
    refused = await client.post(
        "/api/v2/write", params={"precision": "m"}, content="t,room=hall value=20 28334150"
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid"
    assert "precision" in refused.json()["message"]


async def a_point_without_a_time_should_be_stored_at_its_arrival(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.post("/write", content="t,room=hall value=20")).status_code == 204
    assert await stored(client, "hall") == [(NOW.isoformat().replace("+00:00", "Z"), 20.0)]


@pytest.mark.parametrize(
    ("line", "celsius"),
    [
        ("t,room=hall,u=F value=68 1700049000", 20.0),
        ('t,room=hall value=293.15,unit="K" 1700049000', 20.0),
        ("°F,room=hall value=68 1700049000", 20.0),
        ("kelvin,room=hall temperature=293.15 1700049000", 20.0),
        ("climate,room_id=hall temp=20i 1700049000", 20.0),
        ("climate,room=hall,room_id=other v=20u 1700049000", 20.0),
    ],
)
async def write_should_take_the_unit_room_and_value_where_the_point_names_them(
    client: httpx.AsyncClient, line: str, celsius: float
) -> None:
    response = await client.post("/write", params={"precision": "s"}, content=line)
    assert response.status_code == 204, response.text
    assert await stored(client, "hall") == [("2023-11-15T11:50:00Z", celsius)]


async def a_partial_write_should_store_every_valid_point_and_name_each_refused_line(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/write", params={"precision": "s"}, content="t,room=hall value=20 1")
    body = "\n".join(
        [
            "t,room=hall value=21 1700049000",
            "t,room=hall value=oops 1700049060",
            "t,room=hall value=-300 1700049120",
            "t,room=hall value=25 1",  # another value at a time already stored
            "t,room=hall value=22 1700049180",
        ]
    )
    response = await client.post("/write", params={"precision": "s"}, content=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith("partial write: line 2: ")
    assert "line 3: " in error
    assert "below absolute zero" in error
    assert "line 4: another value is stored" in error
    assert error.endswith("dropped=3")
    assert [v for _, v in await stored(client, "hall")] == [20.0, 21.0, 22.0]


async def a_large_partial_write_should_go_through_one_transaction_alike(
    client: httpx.AsyncClient,
) -> None:
    lines = [f"t,room=hall value={20 + index / 100} {1700049000 + index}" for index in range(50)]
    await client.post("/write", params={"precision": "s"}, content="\n".join(lines[:10]))
    lines[5] = "t,room=hall value=99 1700049005"
    lines[40] = "t,room=hall value=-500 1700049040"
    response = await client.post("/write", params={"precision": "s"}, content="\n".join(lines))
    assert response.status_code == 400
    assert response.json()["error"].endswith("dropped=2")
    kept = await stored(client, "hall")
    assert len(kept) == 49  # all times but the refused one's
    assert kept[5] == ("2023-11-15T11:50:05Z", 20.05)  # the first value, not the conflicting one


async def writing_the_same_points_again_should_change_nothing(client: httpx.AsyncClient) -> None:
    for _ in range(2):
        response = await client.post("/write", content=HOME_ASSISTANT_LINES)
        assert response.status_code == 204
    assert len(await stored(client, "kitchen_temperature")) == 1


async def a_time_with_nanoseconds_should_be_refused_not_rounded(client: httpx.AsyncClient) -> None:
    response = await client.post("/write", content="t,room=hall value=20 1700049000000000001")
    assert response.status_code == 400
    assert "nanoseconds" in response.json()["error"]
    assert await stored(client, "hall") == []


async def write_should_take_gzip(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v2/write",
        content=gzip.compress(HOME_ASSISTANT_LINES.encode()),
        headers={"Content-Encoding": "gzip"},
    )
    assert response.status_code == 204, response.text
    assert len(await stored(client, "hall_temperature")) == 1


async def a_gzip_body_should_not_inflate_past_the_body_limit(
    memory_store: InMemoryStore,
) -> None:
    settings = Settings(database_url="memory://", batch_max_bytes=64 * 1024)
    app = create_app(settings, store=memory_store, clock=lambda: NOW)
    bomb = gzip.compress(b"t,room=hall value=20\n" * 100_000)  # 2 MB in ~6 kB
    assert len(bomb) < 64 * 1024
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost"
        ) as client,
    ):
        response = await client.post("/write", content=bomb, headers={"Content-Encoding": "gzip"})
        assert response.status_code == 413
        assert "error" in response.json()
        not_gzip = await client.post(
            "/write", content=b"plain", headers={"Content-Encoding": "gzip"}
        )
        assert not_gzip.status_code == 400


async def an_empty_write_should_succeed_as_influxdb_s_does(client: httpx.AsyncClient) -> None:
    assert (await client.post("/write", content=b"")).status_code == 204


class DatabaseDown(InMemoryStore):
    async def add_each(self, measurements: object) -> list[int]:
        raise StorageUnavailable("connection refused")

    async def add_columns(self, columns: object) -> WriteResult:
        raise StorageUnavailable("connection refused")

    async def rooms(self, after: str | None = None, limit: int | None = None) -> list[Room]:
        raise StorageUnavailable("connection refused")

    async def check(self) -> None:
        raise StorageUnavailable("connection refused")


async def a_storage_outage_should_be_a_503_that_clients_retry() -> None:
    app = create_app(Settings(database_url="memory://"), store=DatabaseDown(), clock=lambda: NOW)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost"
        ) as client,
    ):
        body = "\n".join(f"t,room=hall value=20 {1700049000 + i}" for i in range(100))
        response = await client.post("/write", params={"precision": "s"}, content=body)
        assert response.status_code == 503
        assert response.headers["Retry-After"]
        assert "error" in response.json()
        query = await client.get("/query", params={"q": "SELECT * FROM temperature"})
        assert (query.status_code, "Retry-After" in query.headers) == (503, True)
        health = await client.get("/health")
        assert (health.status_code, health.json()["status"]) == (503, "fail")


async def ping_should_answer_204_with_the_influxdb_version(client: httpx.AsyncClient) -> None:
    response = await client.get("/ping")
    assert response.status_code == 204
    assert response.headers["X-Influxdb-Version"].startswith("1.")
    health = await client.get("/health")
    assert (health.status_code, health.json()["status"]) == (200, "pass")


async def too_many_points_or_an_unknown_encoding_should_be_refused(
    memory_store: InMemoryStore,
) -> None:
    settings = Settings(database_url="memory://", batch_max_items=10)
    app = create_app(settings, store=memory_store, clock=lambda: NOW)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost"
        ) as client,
    ):
        lines = "\n".join(f"t,room=hall value=20 {1700049000 + i}" for i in range(11))
        response = await client.post("/write?precision=s", content=lines)
        assert response.status_code == 413
        assert "at most 10" in response.json()["error"]
        deflated = await client.post(
            "/write", content=b"x", headers={"Content-Encoding": "deflate"}
        )
        assert deflated.status_code == 415
    assert await memory_store.rooms() == []


async def millions_of_tiny_lines_should_be_413_at_the_cost_of_a_few_bodies() -> None:
    """Lines are counted before they are read: 8 MiB of them cost no more than the body."""
    app = create_app(Settings(database_url="memory://"), store=InMemoryStore(), clock=lambda: NOW)
    body = b"K,room=a v=1 1\n" * (8 * MIB // 15)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost"
        ) as client,
    ):

        async def send() -> httpx.Response:
            return await client.post("/write?precision=s", content=body)

        assert await peak_bodies(body, send) <= MAX_BODIES
        response = await send()
    assert response.status_code == 413
    assert "at most 100000 points" in response.json()["error"]
