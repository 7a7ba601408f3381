"""A broker for each MQTT test, and roomtemp servers subscribed to it."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mqtt.brokers import MOSQUITTO, Broker, amqtt, mosquitto


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """Mosquitto where it is installed (.ci/run installs it), else amqtt, a broker in Python."""
    folder = tmp_path / "broker"
    folder.mkdir()
    started = mosquitto(folder) if MOSQUITTO else amqtt(folder)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def mqtt_env(broker: Broker) -> dict[str, str]:
    """The environment of a roomtemp subscribed to `broker` under client ids of this test's
    own (sessions outlive processes: another test's must not be resumed)."""
    return {
        "ROOMTEMP_MQTT_URL": broker.url(),
        "ROOMTEMP_MQTT_CLIENT_ID": f"test-{uuid.uuid4().hex[:8]}",
        "ROOMTEMP_MQTT_TOPICS": "sensors/{room}",
    }
