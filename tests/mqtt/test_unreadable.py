"""Payloads that cannot be stored: counted by reason, logged with their topic, republished to
the dead-letter topic, acknowledged (never sent again), and the others stored all the same."""

import threading
from pathlib import Path

import httpx
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from tests.blackbox.server import running_server
from tests.mqtt.brokers import Broker
from tests.mqtt.observe import metric, wait_for, wait_until_subscribed
from tests.mqtt.publishers import mosquitto_pub

DEAD_LETTERS = "roomtemp/dead-letters"
# (topic, payload, reason); "ok" where the reading is stored
PUBLISHED = [
    ("sensors/hall", "20.5", "ok"),
    ("sensors/hall", "warm", "malformed"),
    ("sensors/hall", "nan", "bad_value"),
    ("sensors/hall", '{"humidity": 40}', "no_value"),
    ("sensors/hall", "-300", "invalid_v"),  # below absolute zero in °C
    ("sensors/hall", '{"v": 21, "u": "X"}', "invalid_u"),
    ("sensors/hall", '{"v": 21, "ts": "2026-11-30T10:00:00Z"}', "ok"),
    ("sensors/hall", '{"v": 22, "ts": "2026-11-30T10:00:00Z"}', "conflict"),
    ("sensors/lounge", "21.0", "ok"),
]


class DeadLetters:
    """A subscriber to the dead-letter topic, keeping what arrives with its properties."""

    def __init__(self, port: int) -> None:
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.subscribed = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
        self.client.on_message = lambda _c, _u, message: self.received.append(
            (bytes(message.payload), dict(getattr(message.properties, "UserProperty", [])))
        )
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(DEAD_LETTERS, qos=1)
        self.client.loop_start()
        assert self.subscribed.wait(30)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def unreadable_payloads_should_be_counted_logged_set_aside_and_acknowledged(
    broker: Broker, mqtt_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**mqtt_env, "ROOMTEMP_MQTT_DEAD_LETTER_TOPIC": DEAD_LETTERS}
    refused = [(topic, payload, reason) for topic, payload, reason in PUBLISHED if reason != "ok"]
    dead_letters = DeadLetters(broker.port)
    database = f"sqlite:///{tmp_path / 'roomtemp.sqlite3'}"
    try:
        with (
            (tmp_path / "server.log").open("wb") as log,
            running_server(database, "--migrate", env=env, stderr=log) as server,
        ):
            wait_until_subscribed(server.url)
            for topic, payload, _ in PUBLISHED:
                mosquitto_pub(broker.port, topic, payload)
            wait_for(lambda: metric(server.url, "roomtemp_mqtt_messages_received_total") == 9)
            wait_for(lambda: len(dead_letters.received) == len(refused), what="dead letters")
            for reason in {reason for *_, reason in refused}:
                count = metric(
                    server.url, "roomtemp_mqtt_messages_unreadable_total", f'{{reason="{reason}"}}'
                )
                assert count == 1, reason
            hall = httpx.get(f"{server.url}/measurements/hall", params={"unit": "C"}).json()
            assert sorted(item["v"] for item in hall["items"]) == [20.5, 21]
        logged = (tmp_path / "server.log").read_text()
        assert logged.count("unreadable message on sensors/hall") == len(refused)
        assert [payload for payload, _ in dead_letters.received] == [
            payload.encode() for _, payload, _ in refused
        ]
        assert [properties for _, properties in dead_letters.received] == [
            {"topic": topic, "reason": reason} for topic, _, reason in refused
        ]
        # Started again under the same client id, roomtemp is sent nothing of the above:
        # each was acknowledged. The next reading is the first it receives.
        with running_server(database, env=env) as server:
            wait_until_subscribed(server.url)
            mosquitto_pub(broker.port, "sensors/lounge", "21.5")
            wait_for(lambda: metric(server.url, "roomtemp_measurements_stored_total") == 1)
            assert metric(server.url, "roomtemp_mqtt_messages_received_total") == 1
    finally:
        dead_letters.close()
