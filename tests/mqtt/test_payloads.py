from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roomtemp.mqtt.payloads import PayloadReader, Reading, UnreadablePayload

TS = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        # ESPHome state topics, Shelly Gen1 shellies/<id>/sensor/temperature
        (b"21.5", Reading(21.5, None, None)),
        (b" 21\n", Reading(21.0, None, None)),
        # roomtemp's own
        (b'{"v": 70, "u": "F", "ts": "2026-11-30T12:00:00Z"}', Reading(70.0, "F", TS)),
        (b'{"v": 294.65}', Reading(294.65, None, None)),
        # Zigbee2MQTT: always Celsius
        (
            b'{"battery": 97, "humidity": 40.1, "temperature": 21.5, "linkquality": 120}',
            Reading(21.5, "C", None),
        ),
        # Shelly Gen2 status/temperature:0
        (b'{"id": 0, "tC": 21.5, "tF": 70.7}', Reading(21.5, "C", None)),
        # Tasmota tele/<topic>/SENSOR: Time without an offset is the device's local time
        (
            b'{"Time": "2026-11-30T13:00:00", "AM2301": {"Temperature": 21.5, "Humidity": 40},'
            b' "TempUnit": "C"}',
            Reading(21.5, "C", None),
        ),
        (
            b'{"Time": "2026-11-30T13:00:00+01:00", "DS18B20": {"Id": "01", "Temperature": 70.7},'
            b' "TempUnit": "F"}',
            Reading(70.7, "F", datetime(2026, 11, 30, 13, tzinfo=timezone(timedelta(hours=1)))),
        ),
        # Home Assistant's unit spelling
        (b'{"v": 21.5, "unit": "\xc2\xb0C"}', Reading(21.5, "C", None)),
    ],
)
def a_known_payload_should_be_read(payload: bytes, expected: Reading) -> None:
    assert PayloadReader().read(payload) == expected


def a_configured_key_should_be_read_first() -> None:
    reader = PayloadReader("ENERGY.Sensor.temp")
    payload = b'{"ENERGY": {"Sensor": {"temp": 19.5}}, "temperature": 99, "u": "C"}'
    assert reader.read(payload) == Reading(19.5, "C", None)
    assert reader.read(b'{"temperature": 18}') == Reading(18.0, "C", None)  # not there


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        (b"nan", "bad_value"),
        (b"-inf", "bad_value"),
        (b"warm", "malformed"),
        (b"\xff\xfe", "malformed"),
        (b"[" * 100_000, "malformed"),
        (b"true", "bad_value"),
        (b'"21.5"', "bad_value"),
        (b"null", "bad_value"),
        (b'{"v": "21.5"}', "bad_value"),
        (b'{"temperature": false}', "bad_value"),
        (b'{"humidity": 40}', "no_value"),
        (b'{"v": 21, "u": 3}', "bad_unit"),
        (b'{"v": 21, "ts": 1764504000}', "bad_timestamp"),
        (b'{"v": 21, "ts": "yesterday"}', "bad_timestamp"),
    ],
)
def an_unreadable_payload_should_say_why(payload: bytes, reason: str) -> None:
    with pytest.raises(UnreadablePayload) as raised:
        PayloadReader().read(payload)
    assert raised.value.reason == reason


REASONS = {"empty", "malformed", "bad_value", "no_value", "bad_unit", "bad_timestamp"}


@given(st.binary(max_size=200))
def any_payload_should_be_read_or_refused_with_a_reason(payload: bytes) -> None:
    reason = None
    try:
        reading = PayloadReader("a.b").read(payload)
    except UnreadablePayload as error:
        reason = error.reason
    else:
        assert isinstance(reading.value, float)
    assert reason is None or reason in REASONS


@given(st.floats(allow_nan=False, allow_infinity=False))
def any_finite_bare_number_should_be_read_exactly(value: float) -> None:
    assert PayloadReader().read(repr(value).encode()).value == value
