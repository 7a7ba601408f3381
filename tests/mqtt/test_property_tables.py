"""paho's Properties with shared tables (roomtemp.mqtt.connection): the tables are what paho
builds, and nothing a Properties does changes them, so sharing them changes nothing."""

# paho.mqtt.properties carries no annotations.
# mypy: disable-error-code="no-untyped-call, attr-defined"

import copy

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import MQTTException, Properties

from roomtemp.mqtt import connection

PUBLISH_PROPERTIES = {
    "PayloadFormatIndicator": 1,
    "MessageExpiryInterval": 3600,
    "ContentType": "application/json",
    "ResponseTopic": "replies/1",
    "CorrelationData": b"\x00\x01",
    "SubscriptionIdentifier": [5],
}


def test_the_tables_should_be_shared_with_paho_as_installed() -> None:
    assert connection.SHARED_PROPERTY_TABLES
    first, second = Properties(PacketTypes.PUBLISH), Properties(PacketTypes.CONNECT)
    assert first.names is second.names
    assert first.properties is second.properties
    assert (first.packetType, second.packetType) == (PacketTypes.PUBLISH, PacketTypes.CONNECT)


def test_using_properties_should_leave_the_shared_tables_as_they_were() -> None:
    made = Properties(PacketTypes.PUBLISH)
    tables = copy.deepcopy((made.names, made.properties, made.types))
    for name, value in PUBLISH_PROPERTIES.items():
        setattr(made, name, value)
    made.UserProperty = ("room", "kitchen")
    made.UserProperty = ("unit", "C")
    read_back = Properties(PacketTypes.PUBLISH)
    read_back.unpack(made.pack())
    assert read_back.json() == made.json()
    assert read_back.UserProperty == [("room", "kitchen"), ("unit", "C")]
    assert not read_back.isEmpty()
    read_back.clear()
    assert read_back.isEmpty()
    connect = Properties(PacketTypes.CONNECT)
    connect.SessionExpiryInterval = 60
    assert connect.pack() == b"\x05\x11\x00\x00\x00\x3c"
    with pytest.raises(MQTTException, match="TopicAliasMaximum"):
        made.TopicAliasMaximum = 1  # a CONNACK's property, refused on a PUBLISH by paho
    assert (made.names, made.properties, made.types) == tables
