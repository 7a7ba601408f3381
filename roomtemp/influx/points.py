"""Which line-protocol points are room temperatures, and what each says: room, value, unit,
time. The rules of API.md: the room is the first room tag present, the value the first value
field present, the unit a `u` or `unit` tag or field, else the measurement's name where it
names a unit (Home Assistant names measurements by unit), else the default unit. Points that
are not temperatures are skipped, not refused: Home Assistant sends every entity.

Nothing is validated here: the readings go through ingestion like JSON measurements do.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from roomtemp.domain.rollups import EPOCH
from roomtemp.influx.lineprotocol import FieldValue, Point, Series
from roomtemp.settings import Settings

# Temperature units by the names InfluxDB writers give them (lowercased).
TEMPERATURE_UNITS = {
    **dict.fromkeys(("c", "°c", "℃", "celsius", "degc"), "C"),
    **dict.fromkeys(("f", "°f", "℉", "fahrenheit", "degf"), "F"),
    **dict.fromkeys(("k", "kelvin"), "K"),
}
# Names of other units, as Home Assistant (measurement = unit of measurement) and Telegraf
# write them: a point under one of these is not a temperature.
OTHER_UNITS = frozenset(
    unit.lower()
    for unit in (
        "%", "W", "kW", "Wh", "kWh", "MWh", "V", "mV", "A", "mA", "VA", "var", "Hz", "lx", "lm",
        "Pa", "hPa", "kPa", "bar", "mbar", "psi", "mmHg", "inHg", "ppm", "ppb", "µg/m³", "mg/m³",
        "dB", "dBm", "dBA", "s", "ms", "min", "h", "d", "m", "cm", "mm", "km", "in", "ft", "mi",
        "L", "mL", "m³", "ft³", "gal", "g", "kg", "lb", "oz", "m/s", "km/h", "mph", "mm/h",
        "W/m²", "B", "kB", "MB", "GB", "bit/s", "kbit/s", "Mbit/s", "UV index", "°", "rpm",
    )
)  # fmt: skip
UNIT_KEYS = ("u", "unit")
# Microseconds per unit of each precision, or (for ns) units per microsecond, negated.
PRECISIONS_V1 = {"": -1000, "n": -1000, "ns": -1000, "u": 1, "us": 1, "µ": 1, "ms": 1_000,
                 "s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000}  # fmt: skip
PRECISIONS_V2 = {key: PRECISIONS_V1[key] for key in ("", "ns", "us", "ms", "s")}


@dataclass(frozen=True, slots=True)
class Rules:
    room_tags: tuple[str, ...]
    value_fields: tuple[str, ...]
    default_unit: str

    @classmethod
    def from_settings(cls, settings: Settings) -> "Rules":
        return cls(
            _names(settings.influx_room_tags),
            _names(settings.influx_value_fields),
            settings.influx_default_unit,
        )

    def unit_of(self, measurement: str) -> str | None:
        """The unit that readings of `measurement` are in (for queries too); None if the
        name is another unit's, whose points are not temperatures."""
        name = measurement.lower()
        if name in OTHER_UNITS:
            return None
        return TEMPERATURE_UNITS.get(name, self.default_unit)


class Reading(NamedTuple):  # a tuple: made 100,000 times a batch, cheaper than a dataclass
    """A point that is a room temperature, as ingestion takes a posted measurement."""

    room_id: str
    v: float
    u: str
    ts: datetime | None
    line: int


def readings(
    points: list[Point], rules: Rules, precision: int
) -> tuple[list[Reading], list[tuple[int, str]], int]:
    """The readings among the points; the lines refused (number, reason: a time that is not
    one); how many points were skipped as not temperatures."""
    found: list[Reading] = []
    refused: list[tuple[int, str]] = []
    skipped = 0
    rooms: dict[int, tuple[str, str | None] | None] = {}  # by id(series): shared, and alive
    times: dict[int, datetime] = {}  # a batch's points often share their times (Telegraf's)
    value_fields = rules.value_fields
    for series, fields, time, line in points:
        if id(series) in rooms:
            known = rooms[id(series)]
        else:
            known = rooms[id(series)] = _room_and_unit(series, rules)
        value: float | None = None
        for name in value_fields:
            if name in fields:
                field = fields[name]
                kind = type(field)  # exactly: a boolean is no temperature, though an int
                value = float(field) if kind is float or kind is int else None
                break
        if known is None or value is None:
            skipped += 1
            continue
        room, unit = known
        if unit is None:  # not named by a tag nor by the measurement: a field may name it
            unit = _unit(fields, rules)
            if unit is None:
                skipped += 1
                continue
        if time is None:
            ts = None
        elif (ts := times.get(time)) is None:
            try:
                ts = times[time] = _datetime(time, precision)
            except ValueError as error:
                refused.append((line, str(error)))
                continue
        found.append(Reading(room, value, unit, ts, line))
    return found, refused, skipped


def _room_and_unit(series: Series, rules: Rules) -> tuple[str, str | None] | None:
    """(room, unit) of a series, the unit None when a field of each point must say; None
    when its points are not temperatures."""
    tags = series.tags
    room = next((tags[tag] for tag in rules.room_tags if tag in tags), None)
    if room is None:
        return None
    for key in UNIT_KEYS:
        if key in tags:
            unit = TEMPERATURE_UNITS.get(tags[key].lower())
            return None if unit is None else (room, unit)
    name = series.measurement.lower()
    if name in OTHER_UNITS:
        return None
    return room, TEMPERATURE_UNITS.get(name)


def _unit(fields: dict[str, FieldValue], rules: Rules) -> str | None:
    for key in UNIT_KEYS:
        if key in fields:
            named = fields[key]
            return TEMPERATURE_UNITS.get(named.lower()) if isinstance(named, str) else None
    return rules.default_unit


def _datetime(time: int, precision: int) -> datetime:
    if precision < 0:  # nanoseconds
        microseconds, rest = divmod(time, -precision)
        if rest:
            raise ValueError(
                f"timestamp {time} has nanoseconds: roomtemp keeps microseconds, and rounds none"
            )
    else:
        microseconds = time * precision
    try:
        return EPOCH + timedelta(microseconds=microseconds)
    except OverflowError:
        raise ValueError(f"timestamp {time} is out of range") from None


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())
