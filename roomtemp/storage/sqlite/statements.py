"""The statements of SqliteStore, and the conversions of its rows. Timestamps are integer
microseconds since the Unix epoch; in rollups, a bucket's width is in seconds (0: the room's
total)."""

import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from roomtemp.domain.rollups import EPOCH, MICROSECOND, Summary, deltas

INSERT = "INSERT INTO measurements (room, ts, kelvin) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
STORED_VALUE = "SELECT kelvin FROM measurements WHERE room = ? AND ts = ?"
MERGE_ROLLUP = """
INSERT INTO rollups VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (room, width, start) DO UPDATE SET
    count = count + excluded.count,
    total = total + excluded.total,
    minimum = min(minimum, excluded.minimum),
    maximum = max(maximum, excluded.maximum),
    first_ts = min(first_ts, excluded.first_ts),
    last_kelvin = CASE WHEN excluded.last_ts > last_ts
                       THEN excluded.last_kelvin ELSE last_kelvin END,
    last_ts = max(last_ts, excluded.last_ts)
"""
ROOM = "(SELECT id FROM rooms WHERE name = ?)"
SUMMARY_OF = {
    "raw": "SELECT count(*), sum(kelvin), min(kelvin), max(kelvin), min(ts), max(ts)"
    f" FROM measurements WHERE room = {ROOM} AND ts >= ? AND ts < ?",
    "buckets": "SELECT sum(count), sum(total), min(minimum), max(maximum), min(first_ts),"
    f" max(last_ts) FROM rollups WHERE room = {ROOM} AND width = ? AND start >= ? AND start < ?",
}


def to_micros(ts: datetime) -> int:
    return (ts - EPOCH) // MICROSECOND


def from_micros(micros: int) -> datetime:
    return EPOCH + micros * MICROSECOND


def summary(row: Sequence[Any]) -> Summary | None:
    count, total, minimum, maximum, first, last = row
    if not count:
        return None
    return Summary(count, total, minimum, maximum, from_micros(first), from_micros(last))


def room_key(connection: sqlite3.Connection, room_id: str) -> int:
    """The id of the room named `room_id`, inserting the room if it is new."""
    connection.execute("INSERT INTO rooms (name) VALUES (?) ON CONFLICT DO NOTHING", (room_id,))
    key: int = connection.execute("SELECT id FROM rooms WHERE name = ?", (room_id,)).fetchone()[0]
    return key


def rollup_rows(stored: list[tuple[int, datetime, float]]) -> list[tuple[Any, ...]]:
    """The rows to merge into rollups for the measurements just stored."""
    return [
        (
            room,
            width // timedelta(seconds=1),
            to_micros(start),
            delta.summary.count,
            delta.summary.total,
            delta.summary.minimum,
            delta.summary.maximum,
            to_micros(delta.summary.first_ts),
            to_micros(delta.summary.last_ts),
            delta.last_kelvin,
        )
        for (room, width, start), delta in deltas(stored).items()
    ]


ROOM_IDS = "SELECT id FROM rooms"
# The room's first ?3 + 1 rows before the cutoff (?2), found along the primary key.
DELETE_RAW = """
DELETE FROM measurements WHERE room = ?1 AND ts < ?2 AND ts <= coalesce(
    (SELECT ts FROM measurements WHERE room = ?1 AND ts < ?2 ORDER BY ts LIMIT 1 OFFSET ?3), ?2)
"""

INSERT_TOKEN = "INSERT INTO tokens VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING"
TOKENS = "SELECT token_id, name, scopes, digest, created FROM tokens ORDER BY created, name"
REVOKE_TOKEN = "DELETE FROM tokens WHERE name = ?"
