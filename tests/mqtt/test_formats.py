"""What sensors publish, through a real broker, into a real `roomtemp serve`."""

from pathlib import Path

import httpx
import pytest

from tests.blackbox.server import running_server
from tests.mqtt.brokers import Broker
from tests.mqtt.observe import metric, wait_for, wait_until_subscribed
from tests.mqtt.publishers import mosquitto_pub

TOPICS = ",".join(
    [
        "roomtemp/{room}",
        "zigbee2mqtt/{room}",
        "tele/{room}/SENSOR",
        "shellies/{room}/sensor/temperature",
        "{room}/status/temperature:0",
        "{room}/sensor/temperature/state",
        "custom/{room}",
    ]
)
# (topic, payload) -> (room, stored value, its unit)
PUBLISHED = [
    ("roomtemp/own", '{"v": 70.7, "u": "F", "ts": "2026-11-30T12:00:00Z"}', ("own", 70.7, "F")),
    ("roomtemp/bare", "21.5", ("bare", 21.5, "C")),
    (
        "zigbee2mqtt/lounge",
        '{"temperature": 19.5, "humidity": 40, "battery": 97}',
        ("lounge", 19.5, "C"),
    ),
    (
        "tele/attic/SENSOR",
        '{"Time": "2026-11-30T13:00:00+01:00", "AM2301": {"Temperature": 68.0}, "TempUnit": "F"}',
        ("attic", 68.0, "F"),
    ),
    ("shellies/shellyht-1/sensor/temperature", "20.25", ("shellyht-1", 20.25, "C")),
    (
        "shellyplusht-2/status/temperature:0",
        '{"id": 0, "tC": 22.5, "tF": 72.5}',
        ("shellyplusht-2", 22.5, "C"),
    ),
    ("esp-bedroom/sensor/temperature/state", "18.75", ("esp-bedroom", 18.75, "C")),
    ("custom/cellar", '{"env": {"t": 12.5}}', ("cellar", 12.5, "C")),
]


def readings_of_every_known_format_should_be_stored(
    broker: Broker, mqtt_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**mqtt_env, "ROOMTEMP_MQTT_TOPICS": TOPICS, "ROOMTEMP_MQTT_VALUE_KEY": "env.t"}
    with running_server("memory://", env=env) as server:
        wait_until_subscribed(server.url)
        for topic, payload, _ in PUBLISHED:
            mosquitto_pub(broker.port, topic, payload)
        wait_for(lambda: metric(server.url, "roomtemp_measurements_stored_total") == len(PUBLISHED))
        for _, _, (room, value, unit) in PUBLISHED:
            answer = httpx.get(f"{server.url}/measurements/{room}", params={"unit": unit}).json()
            assert [item["v"] for item in answer["items"]] == [pytest.approx(value)], room
        own = httpx.get(f"{server.url}/measurements/own").json()["items"][0]
        assert own["ts"] == "2026-11-30T12:00:00Z"
        attic = httpx.get(f"{server.url}/measurements/attic").json()["items"][0]
        assert attic["ts"] == "2026-11-30T12:00:00Z"  # Tasmota's Time, with its offset


def a_retained_reading_of_unknown_age_should_not_be_stored(
    broker: Broker, mqtt_env: dict[str, str]
) -> None:
    mosquitto_pub(broker.port, "sensors/hall", "19.0", "-r")  # hours ago, for all we know
    with running_server("memory://", env=mqtt_env) as server:
        wait_until_subscribed(server.url)
        mosquitto_pub(broker.port, "sensors/hall", "21.5")
        wait_for(lambda: metric(server.url, "roomtemp_measurements_stored_total") == 1)
        hall = httpx.get(f"{server.url}/measurements/hall", params={"unit": "C"}).json()
        assert [item["v"] for item in hall["items"]] == [21.5]
