"""Four roomtemp processes share one subscription (MQTT 5 `$share/roomtemp/...`): each
reading is stored once, and each process takes a part of the load."""

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.blackbox.server import running_server
from tests.mqtt.brokers import Broker
from tests.mqtt.observe import metric, stored_readings, wait_for, wait_until_subscribed
from tests.mqtt.publishers import sensors

PROCESSES = 4  # as two replicas of two workers; single-worker servers start faster here
READINGS = 2000
# A room per reading: two readings of one room arriving at the same microsecond at two
# processes would otherwise be one.
ROOMS = [f"room-{number}" for number in range(READINGS)]


def four_processes_should_store_each_reading_once_and_share_the_load(
    broker: Broker,
    postgres_url: str,
    mqtt_env: dict[str, str],
    tmp_path: Path,
    report: Callable[[str], None],
) -> None:
    if broker.kind != "mosquitto":
        pytest.skip("shared subscriptions are MQTT 5's; amqtt speaks 3.1.1")
    with ExitStack() as stack:
        servers = []
        for index in range(PROCESSES):
            log = stack.enter_context((tmp_path / f"server-{index}.log").open("wb"))
            flags = ("--no-access-log", *(["--migrate"] if index == 0 else []))
            started = running_server(postgres_url, *flags, env=mqtt_env, stderr=log)
            servers.append(stack.enter_context(started))
        for server in servers:
            wait_until_subscribed(server.url)
        # Without a ts, each reading is stored at its time of arrival: a reading delivered
        # twice would be stored twice.
        with sensors(broker.port) as publisher:
            publisher.publish_all((f"sensors/{room}", b"21.5") for room in ROOMS)
        wait_for(
            lambda: (
                sum(metric(s.url, "roomtemp_measurements_stored_total") for s in servers)
                >= READINGS
            ),
            what="every reading stored",
        )
        received = [metric(s.url, "roomtemp_mqtt_messages_received_total") for s in servers]
    stored = stored_readings(postgres_url, ROOMS)
    report(f"published {READINGS}, stored {len(stored)}, received by each process {received}")
    assert len(publisher.acknowledged) == READINGS
    assert len(stored) == READINGS
    assert sum(received) == READINGS
    assert min(received) > 0
