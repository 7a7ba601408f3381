"""Which line-protocol points are room temperatures, and what each says: room, value, unit,
time. The rules of API.md: the room is the first room tag present, the value the first value
field present, the unit a `u` or `unit` tag or field, else the measurement's name where it
names a unit (Home Assistant names measurements by unit), else the default unit. Points that
are not temperatures are skipped, not refused: Home Assistant sends every entity.

A body becomes columns (`Readings`), as a JSON batch does, and nothing is validated here: the
readings go through ingestion's columnar validation like JSON batches do. A body of plain lines
is read at once (plain_lines.py); any other, a line at a time (lineprotocol.py).
"""

import itertools
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from roomtemp.domain.columns import UNIT_CODES, Int32s, Int64s, Readings, to_micros
from roomtemp.influx import lineprotocol, plain_lines
from roomtemp.influx.bodies import text_of
from roomtemp.influx.lineprotocol import FieldValue, MalformedLine, Point, Series
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


@dataclass(frozen=True, slots=True)
class Batch:
    """The temperatures of a body as readings (a missing time: the time of arrival), the line
    of each; the lines refused (number, reason), and how many points were skipped as not
    temperatures."""

    readings: Readings
    lines: Int32s
    refused: list[tuple[int, str]]
    skipped: int


_CONTENT_LINE = re.compile(rb"^[ \t\r]*[^#\s]", re.MULTILINE)


def more_lines_than(body: bytes | bytearray, limit: int) -> bool:
    """Whether the body has more than `limit` lines that are neither blank nor comments,
    counted before anything is read into objects: a hostile body of millions of tiny lines
    costs no more memory than itself. (A newline inside a quoted string counts too.)"""
    if body.count(b"\n") < limit:
        return False
    return any(True for _ in itertools.islice(_CONTENT_LINE.finditer(body), limit, None))


def read(body: bytes | bytearray, rules: Rules, precision: int, now: datetime) -> Batch:
    plain = plain_lines.read(body)
    if plain is not None:
        batch = _of_plain(plain, rules, precision, now)
        if batch is not None:
            return batch
    return read_lines(text_of(body), rules, precision, now)


def read_lines(text: str, rules: Rules, precision: int, now: datetime) -> Batch:
    """Any body, a line at a time."""
    points, malformed = lineprotocol.parse(text)
    return _of_points(points, malformed, rules, precision, now)


def _of_plain(
    plain: plain_lines.PlainLines, rules: Rules, precision: int, now: datetime
) -> Batch | None:
    """The batch of plain lines, their rules applied once a series; None if a series key is
    malformed (the general parser then names its lines)."""
    rooms: dict[str, int] = {}
    room_of, unit_of = [], []  # of each series: -1, skipped
    for key in plain.keys:
        try:
            room, unit = _plain_series(key, plain.field, rules)
        except MalformedLine:
            return None
        if room is None or unit is None:
            room_of.append(-1)
            unit_of.append(0)
        else:
            room_of.append(rooms.setdefault(room, len(rooms)))
            unit_of.append(UNIT_CODES[unit])
    series_rooms = np.array(room_of, np.int32)[plain.series]
    kept = series_rooms >= 0
    lines = np.flatnonzero(kept).astype(np.int32) + 1  # plain lines are numbered in order
    return _batch(
        list(rooms),
        series_rooms[kept],
        plain.values[kept],
        np.array(unit_of, np.uint8)[plain.series[kept]],
        None if plain.times is None else plain.times[kept],
        lines,
        precision,
        now,
        [],
        len(plain) - len(lines),
    )


@lru_cache(maxsize=4096)  # a sensor writes the same series in request after request
def _plain_series(key: str, field: str, rules: Rules) -> tuple[str | None, str | None]:
    """(room, unit) of plain lines of series `key` whose one field is `field`; a None: skipped."""
    known = _room_and_unit(lineprotocol.series_of(key), rules)
    if known is None or field not in rules.value_fields:
        return None, None
    room, unit = known
    if unit is None and field not in UNIT_KEYS:  # no field names it: the default
        unit = rules.default_unit
    return room, unit


def _of_points(
    points: list[Point], malformed: list[tuple[int, str]], rules: Rules, precision: int,
    now: datetime,
) -> Batch:  # fmt: skip
    rooms: dict[str, int] = {}
    room_codes: list[int] = []
    values: list[float] = []
    units: list[int] = []
    times: list[int] = []
    timed: list[bool] = []
    lines: list[int] = []
    skipped = 0
    known_series: dict[int, tuple[str, str | None] | None] = {}  # by id(series): shared, alive
    value_fields = rules.value_fields
    for series, fields, time, line in points:
        if id(series) in known_series:
            known = known_series[id(series)]
        else:
            known = known_series[id(series)] = _room_and_unit(series, rules)
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
        room_codes.append(rooms.setdefault(room, len(rooms)))
        values.append(value)
        units.append(UNIT_CODES[unit])
        times.append(0 if time is None else time)
        timed.append(time is not None)
        lines.append(line)
    return _batch(
        list(rooms),
        np.array(room_codes, np.int32),
        np.array(values, np.float64),
        np.array(units, np.uint8),
        np.array(times, np.int64),
        np.array(lines, np.int32),
        precision,
        now,
        malformed,
        skipped,
        timed=np.array(timed, np.bool_),
    )


def _batch(
    room_ids: list[str],
    rooms: Int32s,
    values: npt.NDArray[np.float64],
    units: npt.NDArray[np.uint8],
    times: Int64s | None,
    lines: Int32s,
    precision: int,
    now: datetime,
    refused: list[tuple[int, str]],
    skipped: int,
    timed: npt.NDArray[np.bool_] | None = None,
) -> Batch:
    """The readings, each time in the request's precision turned into microseconds (none:
    `now`); a time that is not a whole microsecond, or beyond int64 once in microseconds, is
    refused with its line."""
    now_micros = to_micros(now)
    if times is None:
        micros = np.full(len(rooms), now_micros, np.int64)
        bad = np.zeros(len(rooms), np.bool_)
    elif precision < 0:  # nanoseconds (or finer): -precision of them a microsecond
        micros, rest = np.divmod(times, -precision)
        bad = rest != 0
    else:
        bad = np.abs(times) > np.iinfo(np.int64).max // precision
        micros = np.where(bad, 0, times) * precision
    if timed is not None:
        micros[~timed] = now_micros
        bad &= timed
    if bad.any():
        for index in np.flatnonzero(bad).tolist():
            time = int(times[index])  # type: ignore[index]  # bad only where times are
            reason = (
                f"timestamp {time} has nanoseconds: roomtemp keeps microseconds, and rounds none"
                if precision < 0
                else f"timestamp {time} is out of range"
            )
            refused.append((int(lines[index]), reason))
        kept = ~bad
        rooms, values, units, micros, lines = (
            rooms[kept], values[kept], units[kept], micros[kept], lines[kept]
        )  # fmt: skip
    return Batch(Readings(room_ids, rooms, values, units, micros), lines, refused, skipped)


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


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())
