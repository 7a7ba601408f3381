"""The read side of the storage contract, rollups included, on every backend."""

from datetime import UTC, datetime, timedelta

import pytest

from roomtemp.domain.measurements import ConflictingMeasurements, Measurement
from roomtemp.domain.rollups import DAY, HOUR, QUARTER, Piece, Summary, floor_to
from roomtemp.storage import MeasurementStore

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def at(minutes: float, room: str = "hall", kelvin: float = 290.0) -> Measurement:
    return Measurement(room, T0 + timedelta(minutes=minutes), kelvin)


async def hour_of(store: MeasurementStore, ts: datetime, room: str = "hall") -> Summary | None:
    start = floor_to(ts, HOUR)
    found = await store.buckets(room, HOUR, start, start + HOUR)
    return found[0][1] if found else None


async def rollups_should_hold_every_new_measurement_of_the_hour_and_day(
    store: MeasurementStore,
) -> None:
    await store.add([at(0, kelvin=290.0), at(10, kelvin=300.0), at(70, kelvin=280.0)])
    assert await hour_of(store, T0) == Summary(2, 590.0, 290.0, 300.0, at(0).ts, at(10).ts)
    day = await store.buckets("hall", DAY, floor_to(T0, DAY), floor_to(T0, DAY) + DAY)
    assert [(start, summary.count) for start, summary in day] == [(floor_to(T0, DAY), 3)]


async def rollups_should_not_count_a_duplicate_twice(store: MeasurementStore) -> None:
    await store.add([at(0)])
    await store.add([at(0), at(0), at(1)])
    await store.add_each([at(0), at(1)])
    hour = await hour_of(store, T0)
    assert hour is not None
    assert (hour.count, hour.total) == (2, 580.0)


async def rollups_should_not_change_on_a_conflict(store: MeasurementStore) -> None:
    await store.add([at(0, kelvin=290.0)])
    with pytest.raises(ConflictingMeasurements):
        await store.add([at(1, kelvin=291.0), at(0, kelvin=299.0)])
    assert await store.add_each([at(0, kelvin=299.0)]) == [0]
    hour = await hour_of(store, T0)
    assert hour is not None
    assert (hour.count, hour.maximum) == (1, 290.0)


async def rollups_should_take_late_and_backfilled_measurements(store: MeasurementStore) -> None:
    await store.add([at(30, kelvin=300.0)])
    await store.add([at(5, kelvin=280.0)])  # late, same hour
    await store.add([at(-60 * 24 * 40 + index, kelvin=290.0) for index in range(1500)])  # backfill
    hour = await hour_of(store, T0)
    assert hour == Summary(2, 580.0, 280.0, 300.0, at(5).ts, at(30).ts)
    (room,) = await store.rooms()
    assert room.summary.count == 1502
    assert room.summary.first_ts == at(-60 * 24 * 40).ts
    assert (room.summary.last_ts, room.last_kelvin) == (at(30).ts, 300.0)


async def summarise_should_answer_each_piece_in_order(store: MeasurementStore) -> None:
    await store.add([at(minute, kelvin=290.0 + minute % 3) for minute in range(0, 180, 10)])
    pieces = [
        Piece(T0 - HOUR, T0),  # before anything: nothing
        Piece(T0, T0 + 2 * HOUR, HOUR),  # two whole hours of buckets
        Piece(T0 + 2 * HOUR, T0 + 3 * HOUR),  # raw
    ]
    nothing, buckets, raw = await store.summarise("hall", pieces)
    assert nothing is None
    assert buckets is not None
    assert (buckets.count, buckets.first_ts, buckets.last_ts) == (12, at(0).ts, at(110).ts)
    assert raw is not None
    assert (raw.count, raw.minimum, raw.maximum) == (6, 290.0, 292.0)
    assert await store.summarise("nowhere", pieces) == [None, None, None]


async def raw_should_list_in_order_up_to_a_limit(store: MeasurementStore) -> None:
    await store.add([at(minute, kelvin=290.0 + minute) for minute in (5, 1, 3, 2, 4)])
    rows = await store.raw("hall", at(2).ts, at(5).ts, limit=2)
    assert rows == [(at(2).ts, 292.0), (at(3).ts, 293.0)]
    assert await store.raw("hall", at(2).ts, at(5).ts, limit=10) == [
        (at(minute).ts, 290.0 + minute) for minute in (2, 3, 4)
    ]


async def summarise_should_answer_thousands_of_pieces_each_for_itself(
    store: MeasurementStore,
) -> None:
    await store.add([at(minute, kelvin=290.0 + minute % 7) for minute in range(0, 600, 3)])
    pieces = [
        Piece(at(minute).ts, at(minute + 1).ts, None if minute % 2 else QUARTER)
        for minute in range(0, 600)
    ] * 10
    found = await store.summarise("hall", pieces)
    assert len(found) == len(pieces)
    for piece, summary in zip(pieces, found, strict=True):
        minute = (piece.start - at(0).ts) // timedelta(minutes=1)
        if piece.width is None and minute % 3 == 0:  # a raw minute holding a measurement
            assert summary is not None
            assert (summary.count, summary.first_ts) == (1, piece.start)
            assert summary.total == 290.0 + minute % 7
        elif piece.width is None or (piece.start - at(0).ts) % QUARTER:
            assert summary is None  # no measurement, or no quarter starting in the minute
        else:
            assert summary is not None
            assert summary.count == 5  # a quarter hour of measurements every 3 minutes


async def rooms_should_come_in_code_point_order_a_page_at_a_time(store: MeasurementStore) -> None:
    names = ["Zimmer", "attic", "Äpfel", "Büro", "hall", "Ω", "10", "9", "a b", "a", "Hall"]
    await store.add([Measurement(name, T0, 290.0) for name in names])
    seen: list[str] = []
    while page := await store.rooms(seen[-1] if seen else None, 4):
        assert len(page) <= 4
        seen += [room.room_id for room in page]
    assert seen == sorted(names)  # code point order, whatever the database's collation
    assert [room.room_id for room in await store.rooms()] == sorted(names)


async def summarise_rooms_should_merge_each_rooms_pieces(store: MeasurementStore) -> None:
    await store.add([at(minute, "hall", 290.0 + minute) for minute in range(0, 120, 10)])
    await store.add([at(5, "kitchen", 300.0), at(300, "attic", 280.0)])
    pieces = [
        Piece(T0, T0 + timedelta(minutes=15), QUARTER),
        Piece(T0 + timedelta(minutes=15), T0 + HOUR),
    ]
    found = await store.summarise_rooms(["hall", "kitchen", "attic", "nowhere"], pieces)
    assert set(found) == {"hall", "kitchen"}
    hall = found["hall"]
    assert (hall.count, hall.minimum, hall.maximum) == (6, 290.0, 340.0)
    assert (hall.first_ts, hall.last_ts) == (T0, at(50).ts)
    assert found["kitchen"].count == 1
    assert await store.summarise_rooms([], pieces) == {}


async def rooms_should_summarise_every_room(store: MeasurementStore) -> None:
    await store.add([at(0, "hall", 290.0), at(5, "hall", 291.0), at(1, "Küche", 300.0)])
    rooms = {room.room_id: room for room in await store.rooms()}
    assert set(rooms) == {"hall", "Küche"}
    assert (rooms["hall"].summary.count, rooms["hall"].last_kelvin) == (2, 291.0)
    assert rooms["Küche"].summary == Summary(1, 300.0, 300.0, 300.0, at(1).ts, at(1).ts)


async def deleting_raw_measurements_should_keep_the_rollups(store: MeasurementStore) -> None:
    await store.add([at(minute) for minute in range(0, 240, 30)])
    assert await store.delete_raw_before(T0 + 2 * HOUR) == 4
    assert await store.raw("hall", T0, T0 + 4 * HOUR, limit=100) == [
        (at(minute).ts, 290.0) for minute in range(120, 240, 30)
    ]
    hour = await hour_of(store, T0)
    assert hour is not None
    assert hour.count == 2
    assert await store.has_room("hall")
    assert await store.delete_raw_before(T0 + 2 * HOUR) == 0
