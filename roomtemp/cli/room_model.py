"""Simulated rooms: temperatures that look like a home's, from a seeded random generator.

Each room is a small thermal model, stepped a minute at a time at most:
- heat leaks to the outdoors, whose temperature follows the day (warmest at 15:00) and drifts
  with the weather over several days;
- a thermostat heats below its setpoint and stops above it, with some hysteresis, which gives
  the saw-tooth of heating cycles; the setpoint is lower at night;
- the sun warms each room around noon, some more than others;
- the sensor adds noise, reports to a hundredth of a degree, and now and then goes silent for
  a while (a flat battery, a lost connection).
"""

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

ROOM_NAMES = (
    "Living room",
    "Kitchen",
    "Bedroom",
    "Kids room",
    "Office",
    "Bathroom",
    "Hall",
    "Guest room",
)
MAX_STEP = timedelta(minutes=1)  # the model's own step, whatever the interval of readings
MEAN_TIME_BETWEEN_GAPS = timedelta(hours=36)
SENSOR_NOISE = 0.05  # °C, standard deviation
HOUR = timedelta(hours=1)


def room_names(count: int) -> list[str]:
    """The first `count` of a home's rooms; numbered ones after those."""
    return [*ROOM_NAMES[:count], *(f"Room {n}" for n in range(len(ROOM_NAMES) + 1, count + 1))]


@dataclass(frozen=True, slots=True)
class Reading:
    room_id: str
    ts: datetime
    celsius: float


@dataclass(frozen=True, slots=True)
class Traits:
    """What makes one room unlike another, drawn once."""

    leak_hours: float  # how slowly the room cools towards the outdoors
    heating_per_hour: float  # °C per hour that the radiator adds while on
    day_setpoint: float
    night_setpoint: float
    hysteresis: float  # the thermostat switches at setpoint ± this
    sun_per_hour: float  # °C per hour that the sun adds at its highest
    wake_hour: float
    sleep_hour: float

    @classmethod
    def draw(cls, rng: random.Random) -> "Traits":
        day = rng.uniform(20.0, 22.5)
        return cls(
            leak_hours=rng.uniform(8.0, 16.0),
            heating_per_hour=rng.uniform(3.0, 4.5),
            day_setpoint=day,
            night_setpoint=day - rng.uniform(2.5, 4.0),
            hysteresis=rng.uniform(0.2, 0.4),
            sun_per_hour=rng.choice([0.1, 0.3, 0.6]),  # north, east or west, south
            wake_hour=rng.uniform(5.5, 7.0),
            sleep_hour=rng.uniform(21.5, 23.5),
        )

    def setpoint(self, hour: float) -> float:
        awake = self.wake_hour <= hour < self.sleep_hour
        return self.day_setpoint if awake else self.night_setpoint


class Outdoors:
    """The temperature outside: a daily swing around a mean that drifts over days."""

    def __init__(self, rng: random.Random) -> None:
        self.mean = rng.uniform(2.0, 10.0)
        self.swing = rng.uniform(3.0, 6.0)
        self.drift = rng.uniform(2.0, 4.0)
        self.drift_days = rng.uniform(3.0, 7.0)
        self.phase = rng.uniform(0.0, 2 * math.pi)

    def celsius(self, ts: datetime, hour: float) -> float:
        days = ts.timestamp() / 86_400
        weather = self.drift * math.sin(2 * math.pi * days / self.drift_days + self.phase)
        return self.mean + self.swing * math.cos(2 * math.pi * (hour - 15) / 24) + weather


class Room:
    def __init__(self, name: str, rng: random.Random, hour: float) -> None:
        self.name = name
        self.rng = rng
        self.traits = Traits.draw(rng)
        self.celsius = self.traits.setpoint(hour) + rng.uniform(-0.5, 0.5)
        self.heating = False
        self.silent_until: datetime | None = None

    def step(self, hours: float, hour: float, outdoors: float) -> None:
        """Let `hours` pass at local time `hour` (0-24)."""
        traits = self.traits
        setpoint = traits.setpoint(hour)
        if self.celsius < setpoint - traits.hysteresis:
            self.heating = True
        elif self.celsius > setpoint + traits.hysteresis:
            self.heating = False
        sun = traits.sun_per_hour * max(0.0, math.sin(math.pi * (hour - 7) / 10))  # 7:00-17:00
        leak = (outdoors - self.celsius) / traits.leak_hours
        self.celsius += (leak + sun + self.heating * traits.heating_per_hour) * hours

    def read(self, ts: datetime, interval: timedelta) -> Reading | None:
        """What the sensor reports at `ts`, or None while it is silent."""
        if self.silent_until is not None:
            if ts < self.silent_until:
                return None
            self.silent_until = None
        if self.rng.random() < interval / MEAN_TIME_BETWEEN_GAPS:
            self.silent_until = ts + timedelta(minutes=self.rng.uniform(10, 180))
            return None
        return Reading(self.name, ts, round(self.celsius + self.rng.gauss(0, SENSOR_NOISE), 2))


class Simulation:
    """Rooms read every `interval`, on the interval's grid (:00, :15, :30 ...), from `start`.
    The same seed and start give the same readings; each room has a generator of its own, so
    adding rooms does not change the others."""

    def __init__(
        self,
        rooms: Sequence[str],
        *,
        seed: int,
        start: datetime,
        interval: timedelta,
        zone: tzinfo = UTC,
    ) -> None:
        self.interval = interval
        self.zone = zone
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        self.ts = epoch + (start - epoch) // interval * interval
        self.outdoors = Outdoors(random.Random(f"{seed}:outdoors"))
        hour = self.local_hour(self.ts)
        self.rooms = [Room(name, random.Random(f"{seed}:{name}"), hour) for name in rooms]

    def advance(self, until: datetime) -> list[Reading]:
        """Every reading after the last one up to `until`, in time order."""
        readings = []
        while self.ts + self.interval <= until:
            self.let_pass(self.interval)
            self.ts += self.interval
            for room in self.rooms:
                if (reading := room.read(self.ts, self.interval)) is not None:
                    readings.append(reading)
        return readings

    def let_pass(self, span: timedelta) -> None:
        steps = math.ceil(span / MAX_STEP)
        step = span / steps
        for index in range(steps):
            moment = self.ts + index * step
            hour = self.local_hour(moment)
            outdoors = self.outdoors.celsius(moment, hour)
            for room in self.rooms:
                room.step(step / HOUR, hour, outdoors)

    def local_hour(self, ts: datetime) -> float:
        local = ts.astimezone(self.zone)
        return local.hour + local.minute / 60 + local.second / 3600
