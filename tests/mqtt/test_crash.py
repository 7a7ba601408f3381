"""kill -9 while sensors publish at QoS 1: every reading the broker accepted is stored once,
after roomtemp is started again, on both persistent backends."""

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

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

ROOMS = 8
KILL_AFTER = 500  # readings stored, then a second more of publishing


def kill_9_while_sensors_publish_should_store_every_accepted_reading_once(
    persistent_url: str,
    broker: Broker,
    mqtt_env: dict[str, str],
    tmp_path: Path,
    report: Callable[[str], None],
) -> None:
    flags = ("--migrate", "--workers", "2", "--no-access-log")
    rooms = [f"room-{number}" for number in range(ROOMS)]
    with (
        (tmp_path / "server.log").open("wb") as log,
        running_server(persistent_url, *flags, env=mqtt_env, stderr=log, own_group=True) as server,
        publishing(broker.port, ROOMS) as sensors,
    ):
        wait_until_subscribed(server.url, processes=2)
        wait_for(lambda: metric(server.url, "roomtemp_measurements_stored_total") >= KILL_AFTER)
        time.sleep(1)
        # The supervisor and its workers at once: no shutdown runs, no commit in flight ends,
        # no acknowledgement queued is sent.
        os.killpg(server.process.pid, signal.SIGKILL)
        assert server.process.wait(timeout=10) == -signal.SIGKILL
        stored_at_kill = len(stored_readings(persistent_url, rooms))
        time.sleep(1)  # the sensors publish on; the broker keeps their readings for roomtemp
    accepted = expected_readings(sensors.acknowledged)
    with (
        (tmp_path / "restarted.log").open("wb") as log,
        running_server(persistent_url, "--workers", "2", env=mqtt_env, stderr=log),
    ):
        wait_for(
            lambda: len(stored_readings(persistent_url, rooms)) >= len(accepted),
            timeout=120,
            what="every accepted reading stored",
        )
    stored = stored_readings(persistent_url, rooms)
    report(
        f"published {sensors.sent}, acknowledged by the broker {len(sensors.acknowledged)},"
        f" stored {len(stored)} ({stored_at_kill} when killed)"
    )
    assert len(sensors.acknowledged) == len(accepted)  # each reading was published once
    assert stored == accepted
