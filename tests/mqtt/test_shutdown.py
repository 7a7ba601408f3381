"""A graceful stop (SIGTERM) while sensors publish: the commits in flight finish and are
acknowledged before roomtemp disconnects, so nothing is sent again, not even a reading
without a timestamp, which would be stored twice."""

import signal
from collections.abc import Callable
from pathlib import Path

from tests.blackbox.server import running_server
from tests.mqtt.brokers import Broker
from tests.mqtt.observe import metric, stored_readings, wait_for, wait_until_subscribed
from tests.mqtt.publishers import publishing

ROOMS = 4
NAMES = [f"room-{number}" for number in range(ROOMS)]


def a_graceful_stop_should_acknowledge_what_it_stored_and_lose_nothing(
    broker: Broker, mqtt_env: dict[str, str], tmp_path: Path, report: Callable[[str], None]
) -> None:
    database = f"sqlite:///{tmp_path / 'roomtemp.sqlite3'}"
    with (
        (tmp_path / "server.log").open("wb") as log,
        running_server(database, "--migrate", env=mqtt_env, stderr=log) as server,
        publishing(broker.port, ROOMS, with_ts=False) as sensors,
    ):
        wait_until_subscribed(server.url)
        wait_for(lambda: metric(server.url, "roomtemp_measurements_stored_total") >= 300)
        server.process.terminate()
        # uvicorn re-raises SIGTERM on itself once its graceful shutdown is done
        assert server.process.wait(timeout=30) in (0, -signal.SIGTERM)
        stored_at_stop = len(stored_readings(database, NAMES))
    accepted = len(sensors.acknowledged)
    with (
        (tmp_path / "restarted.log").open("wb") as log,
        running_server(database, env=mqtt_env, stderr=log) as restarted,
    ):
        wait_until_subscribed(restarted.url)
        wait_for(lambda: len(stored_readings(database, NAMES)) >= accepted, what="all stored")
    stored = len(stored_readings(database, NAMES))
    report(f"acknowledged by the broker {accepted}, stored {stored} ({stored_at_stop} at the stop)")
    assert stored == accepted
