"""Bad days: the broker goes away, then the database. Nothing the broker accepted is lost."""

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from roomtemp.storage import migrate
from tests.blackbox.server import running_server
from tests.mqtt.brokers import Broker
from tests.mqtt.observe import (
    expected_readings,
    metric,
    stored_readings,
    wait_for,
    wait_until_subscribed,
)
from tests.mqtt.publishers import publishing
from tests.throwaway_postgres import ThrowawayPostgres, start_throwaway_postgres

ROOMS = 4
NAMES = [f"room-{number}" for number in range(ROOMS)]


def readiness(server_url: str) -> tuple[int, dict[str, object]]:
    answer = httpx.get(f"{server_url}/readyz", timeout=10)
    return answer.status_code, answer.json()


def a_broker_restart_should_be_waited_out_and_lose_nothing_it_accepted(
    broker: Broker, mqtt_env: dict[str, str], tmp_path: Path, report: Callable[[str], None]
) -> None:
    if broker.kind != "mosquitto":
        pytest.skip("amqtt keeps nothing across a restart")
    database = f"sqlite:///{tmp_path / 'roomtemp.sqlite3'}"
    env = {**mqtt_env, "ROOMTEMP_MQTT_REQUIRED_FOR_READY": "true"}
    with (
        (tmp_path / "server.log").open("wb") as log,
        running_server(database, "--migrate", env=env, stderr=log) as server,
    ):
        wait_until_subscribed(server.url)
        with publishing(broker.port, ROOMS) as sensors:
            wait_for(lambda: metric(server.url, "roomtemp_measurements_stored_total") >= 200)
            broker.stop()  # SIGTERM: Mosquitto saves its sessions and messages, then exits
            wait_for(lambda: readiness(server.url)[0] == 503, what="/readyz 503")
            down = readiness(server.url)
            broker.start()
            wait_for(
                lambda: readiness(server.url) == (200, {"status": "ready", "mqtt": "connected"})
            )
            stored = metric(server.url, "roomtemp_measurements_stored_total")
            wait_for(lambda: metric(server.url, "roomtemp_measurements_stored_total") > stored)
        accepted = expected_readings(sensors.acknowledged)
        wait_for(
            lambda: len(stored_readings(database, NAMES)) >= len(accepted),
            what="every accepted reading stored",
        )
    report(f"published {sensors.sent}, acknowledged by the broker {len(accepted)}")
    assert down[0] == 503
    assert down[1]["code"] == "broker_unavailable"
    assert stored_readings(database, NAMES) == accepted


@pytest.fixture
def own_postgres() -> Iterator[ThrowawayPostgres]:
    """A server of this test's own, to stop and start: the shared one serves other tests."""
    server = start_throwaway_postgres()
    try:
        yield server
    finally:
        server.remove()


def a_database_outage_should_hold_acknowledgements_until_it_is_back(
    broker: Broker,
    own_postgres: ThrowawayPostgres,
    mqtt_env: dict[str, str],
    tmp_path: Path,
    report: Callable[[str], None],
) -> None:
    url = own_postgres.url
    asyncio.run(migrate(url))
    with (
        (tmp_path / "server.log").open("wb") as log,
        running_server(url, env=mqtt_env, stderr=log) as server,
    ):
        wait_until_subscribed(server.url)
        with publishing(broker.port, ROOMS) as sensors:
            wait_for(lambda: metric(server.url, "roomtemp_measurements_stored_total") >= 200)
            own_postgres.stop("immediate")
            wait_for(lambda: metric(server.url, "roomtemp_mqtt_storage_retries_total") > 0)
            stored_while_down = metric(server.url, "roomtemp_measurements_stored_total")
            wait_for(lambda: metric(server.url, "roomtemp_mqtt_storage_retries_total") > 20)
            assert metric(server.url, "roomtemp_measurements_stored_total") == stored_while_down
            own_postgres.start()
        accepted = expected_readings(sensors.acknowledged)
        wait_for(
            lambda: len(stored_readings(url, NAMES)) >= len(accepted),
            timeout=120,
            what="every accepted reading stored",
        )
    report(f"published {sensors.sent}, acknowledged by the broker {len(accepted)}")
    assert stored_readings(url, NAMES) == accepted
