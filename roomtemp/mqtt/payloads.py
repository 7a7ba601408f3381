"""Payloads: the shapes sensors publish, read into a value, maybe a unit, maybe a time.

Recognised out of the box, in this order:
- a bare number (ESPHome state topics, Shelly Gen1 `shellies/<id>/sensor/temperature`);
- a JSON object holding the configured key (ROOMTEMP_MQTT_VALUE_KEY, a dotted path);
- roomtemp's own JSON: `{"v", "u"?, "ts"?}`;
- Zigbee2MQTT: `{"temperature": 21.5, "humidity": 40, ...}`, always in °C;
- Shelly Gen2 `status/temperature:0`: `{"id": 0, "tC": 21.5, "tF": 70.7}`;
- Tasmota `tele/<topic>/SENSOR`: `{"Time": ..., "AM2301": {"Temperature": 21.5}, "TempUnit": "C"}`.
What the value means (units, limits, time) is decided by roomtemp.ingestion, as for HTTP.
"""

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec


class UnreadablePayload(ValueError):
    """`reason` is one of a few fixed words (a metrics label); the message says more."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Reading:
    value: float
    unit: str | None  # None: the configured default unit
    ts: datetime | None  # None: the time of arrival


class PayloadReader:
    def __init__(self, value_key: str | None = None) -> None:
        self._path = tuple(value_key.split(".")) if value_key else ()

    def read(self, payload: bytes | bytearray) -> Reading:
        if not payload.strip():
            raise UnreadablePayload("empty", "the payload is empty")
        try:
            document = msgspec.json.decode(payload)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            raise _not_json(payload) from None
        if isinstance(document, dict):
            return self._read_object(document)
        return Reading(_number(document, "the payload"), None, None)

    def _read_object(self, document: dict[str, Any]) -> Reading:
        if self._path and (value := _at(document, self._path)) is not None:
            return Reading(_number(value, ".".join(self._path)), _unit(document), _ts(document))
        if "v" in document:  # roomtemp's own
            return Reading(_number(document["v"], "v"), _unit(document), _ts(document))
        if "temperature" in document:  # Zigbee2MQTT
            return Reading(_number(document["temperature"], "temperature"), "C", _ts(document))
        if "tC" in document:  # Shelly Gen2
            return Reading(_number(document["tC"], "tC"), "C", _ts(document))
        for name, sensor in document.items():  # Tasmota: the first sensor with a temperature
            if isinstance(sensor, dict) and "Temperature" in sensor:
                value = _number(sensor["Temperature"], f"{name}.Temperature")
                return Reading(value, _unit(document), _ts(document))
        raise UnreadablePayload(
            "no_value", "the JSON object holds no temperature (v, temperature, tC, *.Temperature)"
        )


def _not_json(payload: bytes | bytearray) -> UnreadablePayload:
    # ESPHome publishes "nan" when a sensor fails to read, which JSON has no word for.
    try:
        text = payload.decode().strip()
        if not math.isfinite(float(text)):
            return UnreadablePayload("bad_value", f"{text!r} is not a finite number")
    except (UnicodeDecodeError, ValueError):
        pass
    return UnreadablePayload("malformed", "the payload is neither a number nor JSON")


def _number(value: object, where: str) -> float:
    # bool is an int to Python, never a temperature to a sensor.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise UnreadablePayload("bad_value", f"{where}: {value!r} is not a number")


def _at(document: dict[str, Any], path: tuple[str, ...]) -> object:
    value: object = document
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _unit(document: dict[str, Any]) -> str | None:
    unit = document.get("u", document.get("unit", document.get("TempUnit")))
    if unit is None:
        return None
    if not isinstance(unit, str):
        raise UnreadablePayload("bad_unit", f"the unit {unit!r} is not text")
    return unit.removeprefix("°")  # "°C", as Home Assistant writes it


def _ts(document: dict[str, Any]) -> datetime | None:
    if (ts := document.get("ts")) is not None:
        if not isinstance(ts, str):  # seconds or milliseconds would be a guess, as over HTTP
            raise UnreadablePayload("bad_timestamp", f"ts {ts!r} is not an RFC 3339 string")
        return _datetime(ts)
    # Tasmota's Time is the device's local time, in a zone roomtemp does not know, unless
    # SetOption52 adds the offset: only then is it a time roomtemp can use.
    if isinstance(time := document.get("Time"), str):
        ts = _datetime(time)
        return ts if ts.tzinfo is not None else None
    return None


def _datetime(text: str) -> datetime:
    try:
        return msgspec.convert(text, datetime)
    except msgspec.ValidationError as error:
        raise UnreadablePayload("bad_timestamp", f"ts {text!r}: {error}") from None
