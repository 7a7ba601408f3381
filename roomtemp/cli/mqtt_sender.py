"""`roomtemp simulate --mqtt URL`: the simulated rooms published to a broker, as sensors do:
roomtemp's JSON with its ts, at QoS 1, on a topic per room (a past period at once, then or
else live, every interval)."""

import ssl
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

import msgspec
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from roomtemp.cli.connection import ClientError
from roomtemp.cli.room_model import Reading
from roomtemp.cli.sender import Plan, new_readings
from roomtemp.mqtt.broker import InvalidBrokerUrl, parse_broker_url
from roomtemp.mqtt.topics import ROOM, InvalidTemplate, parse_template

IN_FLIGHT = 1000  # messages awaiting the broker's acknowledgement; publish() waits beyond


class Publisher:
    def __init__(self, url: str, topic: str) -> None:
        try:
            parse_template(topic)
            broker = parse_broker_url(url)
        except (InvalidTemplate, InvalidBrokerUrl) as error:
            raise ClientError(str(error)) from None
        self._topic = topic
        self._client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
        if broker.username is not None:
            self._client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            self._client.tls_set_context(ssl.create_default_context())
        self._client.max_inflight_messages_set(IN_FLIGHT)
        self._client.max_queued_messages_set(IN_FLIGHT)
        try:
            self._client.connect(broker.host, broker.port)
        except OSError as error:
            raise ClientError(
                f"no MQTT broker answers at {broker.host}:{broker.port}: {error}"
            ) from None
        self._client.loop_start()
        self._last: paho.MQTTMessageInfo | None = None

    def publish(self, readings: Iterable[Reading]) -> int:
        published = 0
        for reading in readings:
            topic = self._topic.replace(ROOM, reading.room_id)
            body = {"v": reading.celsius, "u": "C", "ts": reading.ts.isoformat()}
            payload = msgspec.json.encode(body)
            while (
                sent := self._client.publish(topic, payload, qos=1)
            ).rc == paho.MQTT_ERR_QUEUE_SIZE:
                time.sleep(0.01)  # the broker is behind: wait for its acknowledgements
            self._last = sent
            published += 1
        return published

    def close(self) -> None:
        """Once the broker has acknowledged everything published."""
        if self._last is not None:
            self._last.wait_for_publish(timeout=60)
        self._client.disconnect()
        self._client.loop_stop()


def publish_simulation(url: str, topic: str, plan: Plan, out: TextIO = sys.stdout) -> None:
    now = datetime.now(UTC)
    simulation = plan.simulation(now)
    publisher = Publisher(url, topic)
    try:
        if plan.backfill:
            published = publisher.publish(new_readings(simulation, now, {}))
            print(f"published {published:,} readings of {len(plan.rooms)} rooms", file=out)
        if plan.live:
            print(
                f"publishing {len(plan.rooms)} rooms every {plan.interval.total_seconds():g} s"
                " (Ctrl-C stops)",
                file=out,
                flush=True,
            )
            while True:
                wait = simulation.ts + simulation.interval - datetime.now(UTC)
                time.sleep(max(wait.total_seconds(), 0.0))
                publisher.publish(simulation.advance(datetime.now(UTC)))
    finally:
        publisher.close()
