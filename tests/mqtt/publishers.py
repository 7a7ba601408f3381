"""Sensors for the tests: mosquitto_pub, as a user would type it, and a Python client (paho)
that publishes at QoS 1 and notes which messages the broker acknowledged."""

import subprocess
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import msgspec
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

START = datetime(2026, 11, 30, tzinfo=UTC)
RATE = 800  # readings per second, at most: sensors, not a benchmark


def mosquitto_pub(port: int, topic: str, payload: str | bytes, *flags: str) -> None:
    message = ["-m", payload] if isinstance(payload, str) else ["-s"]
    subprocess.run(
        ["mosquitto_pub", "-p", str(port), "-q", "1", "-t", topic, *message, *flags],
        input=payload if isinstance(payload, bytes) else None,
        check=True,
        timeout=30,
    )


def reading(room: str, number: int) -> bytes:
    """roomtemp's JSON for reading `number` of a room: a ts of its own, one second apart."""
    ts = START + timedelta(seconds=number)
    return msgspec.json.encode({"v": 20 + number % 50 / 10, "u": "C", "ts": ts.isoformat()})


class Sensors:
    """A paho client publishing at QoS 1, in its own thread; `acknowledged` lists (topic,
    payload) of each message the broker acknowledged (PUBACK): those it promised to deliver."""

    def __init__(self, port: int) -> None:
        self._sent: list[tuple[paho.MQTTMessageInfo, tuple[str, bytes]]] = []
        self.client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
        self.client.max_inflight_messages_set(100)
        self.client.max_queued_messages_set(1000)  # publish() refuses beyond: back-pressure
        self.client.reconnect_delay_set(1, 2)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    @property
    def sent(self) -> int:
        return len(self._sent)

    @property
    def acknowledged(self) -> list[tuple[str, bytes]]:
        return [message for info, message in self._sent if info.is_published()]

    def publish(self, topic: str, payload: bytes) -> bool:
        """Whether the message was taken (queued for the broker)."""
        info = self.client.publish(topic, payload, qos=1)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            return False
        self._sent.append((info, (topic, payload)))
        return True

    def publish_all(self, messages: Iterable[tuple[str, bytes]], timeout: float = 60) -> None:
        for topic, payload in messages:
            while not self.publish(topic, payload):
                time.sleep(0.01)
        self.wait_for_acknowledgements(timeout)

    def wait_for_acknowledgements(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < self.sent and time.monotonic() < deadline:
            time.sleep(0.05)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@contextmanager
def sensors(port: int) -> Iterator[Sensors]:
    publisher = Sensors(port)
    try:
        yield publisher
    finally:
        publisher.close()


@contextmanager
def publishing(port: int, rooms: int, with_ts: bool = True) -> Iterator[Sensors]:
    """Readings from `rooms` rooms, with timestamps (else bare numbers), published at up to
    RATE a second in a thread, until the block ends."""
    stop = threading.Event()
    publisher = Sensors(port)

    def publish_forever() -> None:
        number = 0
        while not stop.is_set():
            for room in range(rooms):
                payload = reading(f"room-{room}", number) if with_ts else b"21.5"
                while not publisher.publish(f"sensors/room-{room}", payload):
                    if stop.is_set():
                        return
                    time.sleep(0.005)
            number += 1
            time.sleep(rooms / RATE)

    thread = threading.Thread(target=publish_forever, daemon=True)
    thread.start()
    try:
        yield publisher
    finally:
        stop.set()
        thread.join()
        publisher.wait_for_acknowledgements()
        publisher.close()
