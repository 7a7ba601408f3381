"""The subscriber: messages from the broker into the write path, acknowledged once stored.

paho-mqtt runs the connection in its own thread (packets in and out); each message is handed to
the event loop, read, validated and recorded by the same functions as an HTTP write, and
acknowledged only once its measurement is durably committed (manual acknowledgement). Until
then the broker keeps it: after a crash, a lost connection or a database outage it is sent again,
and storing it again changes nothing, since writes are idempotent.
"""

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from datetime import datetime
from functools import lru_cache, partial
from typing import Protocol

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from roomtemp import ingestion
from roomtemp.domain.measurements import ConflictingMeasurements, Measurement
from roomtemp.mqtt.acks import InOrderAcks, Pending
from roomtemp.mqtt.broker import parse_broker_url
from roomtemp.mqtt.connection import Connection, NoAnswer, properties
from roomtemp.mqtt.identity import ClientIdentity
from roomtemp.mqtt.payloads import PayloadReader, UnreadablePayload
from roomtemp.mqtt.topics import parse_templates, room_of
from roomtemp.settings import Settings
from roomtemp.storage.base import StorageUnavailable

Clock = Callable[[], datetime]


class Counting(Protocol):
    """What the subscriber counts, for /metrics (roomtemp.http.metrics.Metrics does)."""

    def count_stored(self, measurements: int) -> None: ...
    def count_mqtt_received(self) -> None: ...
    def count_mqtt_unreadable(self, reason: str) -> None: ...
    def count_mqtt_storage_retry(self) -> None: ...
    def set_mqtt_connected(self, connected: bool) -> None: ...


log = logging.getLogger("roomtemp.mqtt")
UNSUPPORTED_PROTOCOL = 132  # CONNACK: the broker speaks no MQTT 5 (3.1.1 says 1, paho maps it)
TOPICS_CACHED = 10_000
FINISH_WITHIN = 5.0  # seconds for commits in flight at shutdown, then they are sent again


def backoff(attempt: int, first: float = 0.5, cap: float = 30.0) -> float:
    """Seconds before reconnection attempt `attempt` (from 0): doubling up to `cap`, each a
    random part of it, so that a fleet of processes does not reconnect in step."""
    delay: float = random.uniform(0.5, 1.0) * min(cap, first * 2**attempt)
    return delay


class Subscriber:
    def __init__(
        self,
        settings: Settings,
        record: ingestion.Recorder,
        clock: Clock,
        limits: ingestion.Limits,
        metrics: Counting,
        identity: ClientIdentity,
    ) -> None:
        assert settings.mqtt_url is not None
        self._broker = parse_broker_url(settings.mqtt_url.get_secret_value())
        self._templates = parse_templates(settings.mqtt_topics)
        # Sensors publish to the same few topics again and again; a bounded cache, since any
        # client may publish to any topic the filters match.
        self._room_of = lru_cache(maxsize=TOPICS_CACHED)(partial(room_of, self._templates))
        self._reader = PayloadReader(settings.mqtt_value_key)
        self._settings = settings
        self._record, self._clock, self._limits, self._metrics = record, clock, limits, metrics
        self._identity = identity
        # MQTT 5 until the broker shows it speaks only 3.1.1
        self._protocol: MQTTProtocolVersion = paho.MQTTv5
        self._handling: set[asyncio.Task[None]] = set()
        self._closing = False
        self._connection: Connection | None = None  # while connected
        self.connected = False

    async def close(self, running: "asyncio.Task[None]") -> None:
        """Stop taking messages, let the commits in flight finish (for a while) and be
        acknowledged, then disconnect. What is not acknowledged by then is sent again."""
        self._closing = True
        running.cancel()
        with suppress(asyncio.CancelledError):
            await running
        for task in self._handling:
            task.cancel()

    async def run_forever(self) -> None:
        attempt = 0
        while True:
            try:
                if await self._session():
                    attempt = 0  # it was connected: the next outage starts from a short wait
            except (OSError, TimeoutError, ConnectionError, RuntimeError) as error:
                log.warning("MQTT broker %s unreachable: %s", self._address, error)
            delay = backoff(attempt)
            attempt += 1
            log.info("MQTT: reconnecting in %.1f s", delay)
            await asyncio.sleep(delay)

    @property
    def _address(self) -> str:
        return f"{self._broker.host}:{self._broker.port}"

    async def _session(self) -> bool:
        """One connection, until it is lost; whether it was established."""
        acks: InOrderAcks
        connection = Connection(
            self._broker,
            self._identity.client_id,
            self._protocol,
            lambda message: self._arrived(acks, message),
        )
        acks = InOrderAcks(connection.acknowledge)
        try:
            try:
                code = await connection.open(self._connect_properties())
            except NoAnswer:
                self._try_the_other_protocol()
                raise
            if code.is_failure:
                self._refused(code)
                return False
            granted = await connection.subscribe(self._filters(), self._settings.mqtt_qos)
            for topic, answer in zip(self._filters(), granted, strict=False):
                if answer.is_failure:
                    log.error("MQTT: subscribing to %s refused: %s", topic, answer)
            log.info("MQTT: subscribed at %s as %s", self._address, self._identity.client_id)
            self._connection = connection
            self._set_connected(True)
            await connection.lost.wait()
            log.warning("MQTT: connection to %s lost", self._address)
            return True
        finally:
            self._set_connected(False)
            self._connection = None
            if self._closing:
                await self._finish_in_flight()
                if not connection.lost.is_set():
                    await connection.flush(self._identity.client_id)
            await connection.close()

    async def _finish_in_flight(self) -> None:
        if self._handling:
            await asyncio.wait(set(self._handling), timeout=FINISH_WITHIN)

    def _connect_properties(self) -> Properties | None:
        if self._protocol != paho.MQTTv5:
            return None
        return properties(
            PacketTypes.CONNECT,
            SessionExpiryInterval=int(self._settings.mqtt_session_expiry.total_seconds()),
            ReceiveMaximum=self._settings.mqtt_receive_maximum,
        )

    def _refused(self, code: ReasonCode) -> None:
        if code.value == UNSUPPORTED_PROTOCOL and self._protocol == paho.MQTTv5:
            self._try_the_other_protocol()
        else:
            log.error("MQTT: %s refused the connection: %s", self._address, code)

    def _try_the_other_protocol(self) -> None:
        """MQTT 5 first; 3.1.1 after a broker refused MQTT 5 or left it unanswered; MQTT 5
        again if 3.1.1 went unanswered too (the broker may have been restarted meanwhile)."""
        v5 = self._protocol == paho.MQTTv5
        self._protocol = paho.MQTTv311 if v5 else paho.MQTTv5
        log.warning(
            "MQTT: no answer to MQTT %s: trying %s", *(("5", "3.1.1") if v5 else ("3.1.1", "5"))
        )

    def _filters(self) -> list[str]:
        group = self._settings.mqtt_share_group
        # Shared subscriptions are MQTT 5's: a 3.1.1 broker would take $share/... literally.
        shared = group and self._protocol == paho.MQTTv5
        return [
            f"$share/{group}/{template.filter}" if shared else template.filter
            for template in self._templates
        ]

    def _set_connected(self, connected: bool) -> None:
        self.connected = connected
        self._metrics.set_mqtt_connected(connected)

    def _arrived(self, acks: InOrderAcks, message: paho.MQTTMessage) -> None:
        if self._closing:
            return  # not acknowledged: the broker sends it again to whoever comes next
        self._metrics.count_mqtt_received()
        pending = acks.expect(message.mid) if message.qos else None
        task = asyncio.create_task(self._handle(message, self._clock(), acks, pending))
        self._handling.add(task)
        task.add_done_callback(self._handled)

    def _handled(self, task: "asyncio.Task[None]") -> None:
        self._handling.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            # Unforeseen (not a bad payload, not the database away): the message stays
            # unacknowledged, and holds back those after it, until the next connection.
            log.error("MQTT: a message could not be handled", exc_info=error)

    async def _handle(
        self,
        message: paho.MQTTMessage,
        arrival: datetime,
        acks: InOrderAcks,
        pending: Pending | None,
    ) -> None:
        try:
            await self._stored(self._measurement(message, arrival))
        except UnreadablePayload as error:
            await self._unreadable(message.topic, message.payload, error)
        if pending is not None:
            acks.settle(pending)

    def _measurement(self, message: paho.MQTTMessage, arrival: datetime) -> Measurement:
        if message.retain:  # only a 3.1.1 broker sends them (see Connection.subscribe)
            raise UnreadablePayload("retained", "a retained message is a reading of unknown age")
        topic, payload = message.topic, message.payload
        room = self._room_of(topic)
        if room is None:
            raise UnreadablePayload("no_room", "the topic fits no template of ROOMTEMP_MQTT_TOPICS")
        reading = self._reader.read(payload)
        try:
            return ingestion.validate(
                room,
                reading.value,
                reading.unit or self._settings.mqtt_unit,
                reading.ts,
                now=arrival,  # and the ts of a reading without one
                limits=self._limits,
            )
        except ingestion.InvalidMeasurement as error:
            raise UnreadablePayload(f"invalid_{error.problems[0].field}", str(error)) from None

    async def _stored(self, measurement: Measurement) -> None:
        """Return once `measurement` is durably stored; while the database is away, keep
        trying, and so hold back this acknowledgement and every later one."""
        attempt = 0
        while True:
            try:
                await self._record(measurement)
            except ConflictingMeasurements:
                raise UnreadablePayload(
                    "conflict", "the room holds another value at that time"
                ) from None
            except StorageUnavailable as error:
                if attempt == 0:
                    log.warning("MQTT: storage unavailable, holding acknowledgements: %s", error)
                self._metrics.count_mqtt_storage_retry()
                await asyncio.sleep(backoff(attempt, first=0.25, cap=5.0))
                attempt += 1
            else:
                self._metrics.count_stored(1)
                return

    async def _unreadable(
        self, topic: str, payload: bytes | bytearray, error: UnreadablePayload
    ) -> None:
        self._metrics.count_mqtt_unreadable(error.reason)
        log.warning("MQTT: unreadable message on %s (%s): %s", topic, error.reason, error)
        if self._settings.mqtt_dead_letter_topic and self._connection is not None:
            await self._republish(self._connection, topic, payload, error)

    async def _republish(
        self,
        connection: Connection,
        topic: str,
        payload: bytes | bytearray,
        error: UnreadablePayload,
    ) -> None:
        """The payload as it came, to the dead-letter topic, with (MQTT 5) where it came from
        and why it was refused; waited for, so that it is with the broker before the original
        is acknowledged."""
        dead_letters = self._settings.mqtt_dead_letter_topic
        assert dead_letters is not None
        try:
            await connection.publish(
                dead_letters, payload, {"topic": topic, "reason": error.reason}
            )
        except (RuntimeError, ValueError, TimeoutError) as failure:
            log.error("MQTT: could not republish to %s: %s", dead_letters, failure)


@asynccontextmanager
async def subscribed(
    settings: Settings,
    record: ingestion.Recorder,
    clock: Clock,
    limits: ingestion.Limits,
    metrics: Counting,
) -> AsyncIterator[Subscriber | None]:
    """A subscriber running while the app runs, if ROOMTEMP_MQTT_URL is set."""
    if settings.mqtt_url is None:
        yield None
        return
    identity = ClientIdentity(settings.mqtt_client_id)
    subscriber = Subscriber(settings, record, clock, limits, metrics, identity)
    running = asyncio.create_task(subscriber.run_forever(), name="mqtt-subscriber")
    try:
        yield subscriber
    finally:
        await subscriber.close(running)
        identity.release()
