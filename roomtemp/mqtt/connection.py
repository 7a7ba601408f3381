"""One connection to the broker, seen from the event loop.

paho-mqtt reads and writes the socket in a thread of its own and calls back from there; each
callback is handed over to the event loop here, as the settling of a future or a call.
"""

import asyncio
import ssl
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any, TypeVar

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from roomtemp.mqtt.broker import Broker

T = TypeVar("T")
KEEPALIVE = 30  # seconds between pings when nothing else is sent
ANSWER_WITHIN = 5.0  # seconds for the broker to answer CONNECT, SUBSCRIBE or PUBLISH


class NoAnswer(ConnectionError):
    """The broker took the connection but never answered CONNECT (some 3.1.1 brokers do so
    with MQTT 5's)."""


def _settle(future: "asyncio.Future[T]", value: T) -> None:
    if not future.done():
        future.set_result(value)


def _fail(future: "asyncio.Future[Any]") -> None:
    if not future.done():
        future.set_exception(ConnectionError("the broker closed the connection"))


def _read_by_no_one(future: "asyncio.Future[Any]") -> None:
    if not future.cancelled():
        future.exception()


def share_property_tables() -> bool:
    """Make paho's Properties share their tables of property names and types, instead of
    building them anew for every packet: MQTT 5 makes a Properties for every PUBLISH, and its
    __init__ was the largest single cost of receiving one (8.8 us of ~15 for an empty set;
    19% of a busy worker's samples in py-spy). The tables are only ever read. Whether it was
    done: not, if paho's Properties no longer look as they did in paho-mqtt 2.2."""
    made = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    tables = {name: value for name, value in vars(made).items() if name != "packetType"}
    if set(tables) != {"names", "properties", "types"}:
        return False

    def init(self: Properties, packetType: int) -> None:
        attributes = vars(self)
        attributes.update(tables)
        attributes["packetType"] = packetType

    Properties.__init__ = init  # type: ignore[method-assign]
    return True


SHARED_PROPERTY_TABLES = share_property_tables()


def properties(packet: int, **values: object) -> Properties:
    made = Properties(packet)  # type: ignore[no-untyped-call]
    for name, value in values.items():
        setattr(made, name, value)
    return made


class Connection:
    def __init__(
        self,
        broker: Broker,
        client_id: str,
        protocol: MQTTProtocolVersion,
        on_message: Callable[[paho.MQTTMessage], None],
    ) -> None:
        self.protocol = protocol
        self._broker = broker
        self._loop = asyncio.get_running_loop()
        self._connack: asyncio.Future[ReasonCode] = self._loop.create_future()
        self._suback: asyncio.Future[list[ReasonCode]] = self._loop.create_future()
        self._unsuback: asyncio.Future[None] = self._loop.create_future()
        # a lost connection may fail them unread
        for future in (self._connack, self._suback, self._unsuback):
            future.add_done_callback(_read_by_no_one)
        self.lost = asyncio.Event()
        self._on_message = on_message
        v5 = protocol == paho.MQTTv5
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=protocol,
            clean_session=None if v5 else False,  # 3.1.1: the session outlives the connection
            manual_ack=True,
            reconnect_on_failure=False,  # reconnection is the subscriber's: backoff and jitter
        )
        if broker.username is not None:
            self._client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            self._client.tls_set_context(ssl.create_default_context())
        self._client.on_connect = self._connected
        self._client.on_subscribe = self._subscribed
        self._client.on_disconnect = self._disconnected
        self._client.on_message = self._received
        self._client.on_unsubscribe = self._unsubscribed

    @property
    def v5(self) -> bool:
        return bool(self.protocol == paho.MQTTv5)

    async def open(self, connect_properties: Properties | None) -> ReasonCode:
        """Connect, keeping the session (clean start off); the broker's answer."""
        await asyncio.to_thread(self._connect, connect_properties)
        self._client.loop_start()
        try:
            async with asyncio.timeout(ANSWER_WITHIN):
                return await self._connack
        except (TimeoutError, ConnectionError) as error:
            raise NoAnswer(f"the broker did not answer CONNECT: {error or 'timed out'}") from None

    def _connect(self, connect_properties: Properties | None) -> None:
        host, port = self._broker.host, self._broker.port
        if self.v5:
            self._client.connect(
                host, port, KEEPALIVE, clean_start=False, properties=connect_properties
            )
        else:
            self._client.connect(host, port, KEEPALIVE)

    async def subscribe(self, filters: Sequence[str], qos: int) -> list[ReasonCode]:
        """Subscribe to every filter at once; the broker's answer for each."""
        if self.v5:
            # Retained messages are readings of unknown age, sent again at every subscription:
            # stored at their arrival, they would be wrong and repeated. Not sent at all.
            options = SubscribeOptions(qos=qos, retainHandling=SubscribeOptions.RETAIN_DO_NOT_SEND)
            self._client.subscribe([(topic, options) for topic in filters])
        else:
            self._client.subscribe([(topic, qos) for topic in filters])
        async with asyncio.timeout(ANSWER_WITHIN):
            return await self._suback

    def acknowledge(self, mid: int) -> None:
        self._client.ack(mid, 1)  # queued for paho's thread, which sends it

    async def publish(
        self, topic: str, payload: bytes | bytearray, user_properties: dict[str, str]
    ) -> None:
        """Publish at QoS 1 and wait for the broker's acknowledgement."""
        extra = None
        if self.v5:
            extra = properties(PacketTypes.PUBLISH, UserProperty=list(user_properties.items()))
        sent = self._client.publish(topic, payload, qos=1, properties=extra)
        await asyncio.to_thread(sent.wait_for_publish, ANSWER_WITHIN)

    async def flush(self, client_id: str) -> None:
        """Return once the broker has read every acknowledgement sent so far: it answers an
        UNSUBSCRIBE (from a topic never subscribed to) after what came before it. Closing a
        socket that still holds unread messages resets the connection, and Mosquitto then
        drops what it had not read yet, acknowledgements included."""
        self._client.unsubscribe(f"$roomtemp-flush/{client_id}")
        with suppress(TimeoutError, ConnectionError):
            async with asyncio.timeout(ANSWER_WITHIN):
                await self._unsuback

    async def close(self) -> None:
        """Send what is queued (acknowledgements), then DISCONNECT, and stop paho's thread."""
        self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)

    # paho's callbacks, in paho's thread
    def _connected(
        self, _c: paho.Client, _u: object, _f: object, code: ReasonCode, _p: object
    ) -> None:
        self._loop.call_soon_threadsafe(_settle, self._connack, code)

    def _subscribed(
        self, _c: paho.Client, _u: object, _m: int, codes: list[ReasonCode], _p: object
    ) -> None:
        self._loop.call_soon_threadsafe(_settle, self._suback, codes)

    def _unsubscribed(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(_settle, self._unsuback, None)

    def _disconnected(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._lose)

    def _lose(self) -> None:
        self.lost.set()
        _fail(self._connack)
        _fail(self._suback)
        _fail(self._unsuback)

    def _received(self, _c: paho.Client, _u: object, message: paho.MQTTMessage) -> None:
        self._loop.call_soon_threadsafe(self._on_message, message)
