"""The simulated rooms: plausible curves, the same for the same seed."""

import statistics
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from roomtemp.cli.room_model import ROOM_NAMES, Reading, Simulation, room_names

START = datetime(2026, 11, 20, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
ROOMS = room_names(4)


@pytest.fixture(scope="module")
def week() -> list[Reading]:
    """A week of four rooms, read every minute."""
    return Simulation(ROOMS, seed=7, start=START, interval=MINUTE).advance(
        START + timedelta(days=7)
    )


def of_room(readings: list[Reading], room: str) -> list[Reading]:
    return [reading for reading in readings if reading.room_id == room]


def readings_should_stay_within_what_a_heated_room_measures(week: list[Reading]) -> None:
    assert {reading.room_id for reading in week} == set(ROOMS)
    assert all(14.0 < reading.celsius < 26.0 for reading in week)


def readings_should_come_on_the_interval_grid_in_time_order(week: list[Reading]) -> None:
    times = [reading.ts for reading in week]
    assert times == sorted(times)
    assert all(ts.second == 0 and ts.microsecond == 0 for ts in times)
    assert times[0] > START
    assert times[-1] == START + timedelta(days=7)


@pytest.mark.parametrize("room", ROOMS)
def evenings_should_be_warmer_than_nights(week: list[Reading], room: str) -> None:
    readings = of_room(week, room)
    evening = statistics.mean(r.celsius for r in readings if 17 <= r.ts.hour < 21)
    night = statistics.mean(r.celsius for r in readings if 2 <= r.ts.hour < 5)
    assert evening - night > 1.0


@pytest.mark.parametrize("room", ROOMS)
def a_sensor_should_go_silent_now_and_then_but_mostly_report(
    week: list[Reading], room: str
) -> None:
    readings = of_room(week, room)
    silences = [b.ts - a.ts for a, b in pairwise(readings) if b.ts - a.ts > MINUTE]
    assert silences  # over a week, at least one gap
    assert all(silence <= timedelta(hours=3, minutes=1) for silence in silences)
    assert len(readings) > 0.9 * 7 * 24 * 60


def readings_should_be_noisy_to_the_hundredth(week: list[Reading]) -> None:
    readings = of_room(week, ROOMS[0])
    steps = [b.celsius - a.celsius for a, b in pairwise(readings)]
    assert all(round(reading.celsius, 2) == reading.celsius for reading in readings)
    assert 0.03 < statistics.stdev(steps) < 0.2  # noise, not jumps
    assert sum(step < 0 for step in steps) > len(steps) / 4  # up and down, minute by minute


def heating_should_switch_on_and_off_many_times_a_day() -> None:
    simulation = Simulation(["Living room"], seed=3, start=START, interval=MINUTE)
    room = simulation.rooms[0]
    switches, was_heating = 0, room.heating
    for minute in range(1, 24 * 60 + 1):
        simulation.advance(START + minute * MINUTE)
        switches += room.heating != was_heating
        was_heating = room.heating
    assert switches >= 10  # five cycles or more: a saw-tooth, not a flat line


def the_same_seed_should_give_the_same_readings() -> None:
    def day(seed: int) -> list[Reading]:
        simulation = Simulation(ROOMS, seed=seed, start=START, interval=MINUTE)
        return simulation.advance(START + timedelta(days=1))

    assert day(1) == day(1)
    assert day(1) != day(2)


def adding_rooms_should_not_change_the_others() -> None:
    end = START + timedelta(hours=6)
    two = Simulation(room_names(2), seed=5, start=START, interval=MINUTE).advance(end)
    three = Simulation(room_names(3), seed=5, start=START, interval=MINUTE).advance(end)
    assert [r for r in three if r.room_id != room_names(3)[2]] == two


def days_and_nights_should_follow_the_local_zone() -> None:
    # 20:00 UTC is 7:00 the next morning in Sydney: the heating there is up to day setpoints.
    sydney = ZoneInfo("Australia/Sydney")
    simulation = Simulation(["Bedroom"], seed=9, start=START, interval=MINUTE, zone=sydney)
    readings = simulation.advance(START + timedelta(days=2))
    sydney_evening = [r.celsius for r in readings if 7 <= r.ts.hour < 10]  # 18:00-21:00 there
    sydney_night = [r.celsius for r in readings if 16 <= r.ts.hour < 19]  # 3:00-6:00 there
    assert statistics.mean(sydney_evening) - statistics.mean(sydney_night) > 1.0


def room_names_should_number_rooms_beyond_a_homes() -> None:
    assert room_names(2) == ["Living room", "Kitchen"]
    names = room_names(len(ROOM_NAMES) + 2)
    assert names[-2:] == [f"Room {len(ROOM_NAMES) + 1}", f"Room {len(ROOM_NAMES) + 2}"]
    assert len(set(names)) == len(names)


def readings_between_intervals_should_wait_for_the_next_one() -> None:
    simulation = Simulation(ROOMS, seed=1, start=START, interval=timedelta(minutes=15))
    assert simulation.advance(START + timedelta(minutes=14)) == []
    assert {r.ts for r in simulation.advance(START + timedelta(minutes=16))} <= {
        START + timedelta(minutes=15)
    }
