"""Real InfluxDB clients, none written here, against the real server over real HTTP: the
`influx` 1.x CLI (Debian's influxdb-client package), the `influxdb` Python package (1.x, as
Home Assistant uses it) and `influxdb-client` (2.x, with gzip)."""

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import influxdb  # type: ignore[import-untyped]
import pytest
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException

from tests.blackbox.server import Server, create_token, running_server

DAY = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)  # 1700000000 s


@dataclass
class Influx:
    server: Server
    write_token: str
    read_token: str


@pytest.fixture(scope="module")
def influx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Influx]:
    """The real server on SQLite, where tokens exist: one to write, one to read."""
    url = f"sqlite:///{tmp_path_factory.mktemp('influx') / 'roomtemp.sqlite3'}"
    write_token = create_token(url, "home-assistant", "write")
    read_token = create_token(url, "grafana", "read")
    with running_server(url, "--no-access-log") as server:
        yield Influx(server, write_token, read_token)


def influx_cli(influx: Influx, token: str, *arguments: str) -> str:
    """The influx 1.x shell, as a person runs it: the token as the password."""
    result = subprocess.run(
        ["influx", "-host", "127.0.0.1", "-port", str(influx.server.port),
         "-username", "cli", "-password", token, "-database", "home", *arguments],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ERR" not in result.stdout, result.stdout
    return result.stdout


def the_influx_cli_should_insert_and_select(influx: Influx) -> None:
    influx_cli(
        influx,
        influx.write_token,
        "-execute",
        "INSERT °C,entity_id=cli value=21.5 1700000000000000000",
    )
    output = influx_cli(
        influx, influx.read_token, "-format", "json", "-execute",
        "SELECT \"value\" FROM \"°C\" WHERE \"entity_id\" = 'cli'",
    )  # fmt: skip
    assert json.loads(output)["results"][0]["series"][0]["values"] == [[1700000000000000000, 21.5]]
    shown = influx_cli(influx, influx.read_token, "-execute", "SHOW DATABASES")
    assert "roomtemp" in shown


def home_assistants_client_should_write_its_states_and_query_them(influx: Influx) -> None:
    """What Home Assistant's influxdb integration does with the influxdb package: write_points
    of every entity's state (only temperatures are kept), then its sensor's query."""
    client = influxdb.InfluxDBClient(
        host="127.0.0.1",
        port=influx.server.port,
        username="homeassistant",
        password=influx.write_token,
        database="home_assistant",
        timeout=10,
    )
    client.write_points([])  # its connection test
    client.write_points(
        [
            _state("°C", "hall_temperature", 19.5, DAY, friendly_name="Hall"),
            _state("%", "hall_humidity", 45.0, DAY, friendly_name="Hall humidity"),
            _state("W", "kettle_power", 1850.0, DAY, friendly_name="Kettle"),
            _state("°C", "hall_temperature", 20.5, DAY.replace(minute=14)),
        ]
    )
    reader = influxdb.InfluxDBClient(
        host="127.0.0.1",
        port=influx.server.port,
        username="homeassistant",
        password=influx.read_token,
        timeout=10,
    )
    assert {"name": "roomtemp"} in list(reader.query("SHOW DATABASES;").get_points())
    points = list(
        reader.query(
            "select mean(value) as value from \"°C\" where entity_id = 'hall_temperature'"
            " and time >= '2023-11-14T22:00:00Z' and time < '2023-11-14T23:00:00Z'",
            database="home_assistant",
        ).get_points()
    )
    assert points == [{"time": "2023-11-14T22:00:00Z", "value": 20.0}]
    measurements = list(
        reader.query('SHOW TAG VALUES FROM "%" WITH KEY = "entity_id"').get_points()
    )
    assert measurements == []  # humidity was skipped, not stored as a temperature


def _state(
    unit: str, entity: str, value: float, time: datetime, **attributes: str
) -> dict[str, Any]:
    """A state as Home Assistant's event_to_json makes it: attributes that are not numbers
    become fields suffixed _str."""
    return {
        "measurement": unit,
        "tags": {"domain": "sensor", "entity_id": entity},
        "time": time,
        "fields": {"value": value, **{f"{key}_str": text for key, text in attributes.items()}},
    }


def the_influxdb_2_client_should_write_with_gzip(influx: Influx) -> None:
    with InfluxDBClient(
        url=influx.server.url, token=influx.write_token, org="home", enable_gzip=True
    ) as client:
        client.write_api(write_options=SYNCHRONOUS).write(
            bucket="rooms",
            record=[
                {
                    "measurement": "temperature",
                    "tags": {"room": "attic"},
                    "fields": {"value": 12.25},
                    "time": DAY,
                },
                "temperature,room=attic value=13.75 1700000060000000000",
            ],
        )
        assert client.ping()
    response = httpx.get(
        f"{influx.server.url}/query",
        params={"q": "SELECT value FROM temperature WHERE room = 'attic'", "epoch": "s"},
        headers={"Authorization": f"Token {influx.read_token}"},
    )
    assert response.json()["results"][0]["series"][0]["values"] == [
        [1700000000, 12.25],
        [1700000060, 13.75],
    ]


def a_refused_line_should_reach_the_influxdb_2_client_as_a_400(influx: Influx) -> None:
    with InfluxDBClient(url=influx.server.url, token=influx.write_token, org="home") as client:
        with pytest.raises(ApiException) as raised:
            client.write_api(write_options=SYNCHRONOUS).write(
                bucket="rooms",
                record="temperature,room=attic value=-500 1700000120000000000",
            )
        assert raised.value.status == 400
        assert "dropped=1" in str(raised.value.body)
