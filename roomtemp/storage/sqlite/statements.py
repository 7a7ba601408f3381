"""The statements of SqliteStore, and the conversions of its rows. Timestamps are integer
microseconds since the Unix epoch; in rollups, a bucket's width is in seconds (0: the room's
total)."""

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from roomtemp.domain.rollups import EPOCH, MICROSECOND, Piece, Summary, deltas

# Statements of many rows (many_rows.py) are made of these heads and tails.
INSERT_HEAD = "INSERT INTO measurements (room, ts, kelvin)"
INSERT_TAIL = "ON CONFLICT DO NOTHING"
INSERT = f"{INSERT_HEAD} VALUES (?, ?, ?) {INSERT_TAIL}"
STORED_VALUE = "SELECT kelvin FROM measurements WHERE room = ? AND ts = ?"
MERGE_HEAD = "INSERT INTO rollups"
MERGE_TAIL = """ON CONFLICT (room, width, start) DO UPDATE SET
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
# Each piece of a window (see domain/rollups.py) summarised by a statement of its own, one
# search of the primary key (issue 10, item 3: a join of the pieces against the raw rows
# scanned a room's whole history). One statement for all the pieces, grouped by piece, was
# tried: SQLite sorts every row it aggregates into a temporary B-tree to group them, 3 to 4
# times the cost of these prepared statements run one after the other.
SUMMARY_OF_RAW = """
SELECT count(*), sum(kelvin), min(kelvin), max(kelvin), min(ts), max(ts)
FROM measurements WHERE room = ? AND ts >= ? AND ts < ?
"""
SUMMARY_OF_BUCKETS = """
SELECT sum(count), sum(total), min(minimum), max(maximum), min(first_ts), max(last_ts)
FROM rollups WHERE room = ? AND width = ? AND start >= ? AND start < ?
"""


ROOM_KEY = "SELECT id FROM rooms WHERE name = ?"


def summary_of(connection: sqlite3.Connection, room: int, piece: Piece) -> Summary | None:
    """The room's measurements in the piece, summarised."""
    if piece.width is None:
        parameters: tuple[int, ...] = (room, to_micros(piece.start), to_micros(piece.end))
        return summary(connection.execute(SUMMARY_OF_RAW, parameters).fetchone())
    width = piece.width // timedelta(seconds=1)
    parameters = (room, width, to_micros(piece.start), to_micros(piece.end))
    return summary(connection.execute(SUMMARY_OF_BUCKETS, parameters).fetchone())


def to_micros(ts: datetime) -> int:
    return (ts - EPOCH) // MICROSECOND


def from_micros(micros: int) -> datetime:
    return EPOCH + micros * MICROSECOND


def pieces_json(pieces: Sequence[Piece]) -> str:
    """Pieces as SUMMARISE reads them: [[width in seconds or null, start, stop], ...]."""
    return json.dumps(
        [
            [
                None if piece.width is None else piece.width // timedelta(seconds=1),
                to_micros(piece.start),
                to_micros(piece.end),
            ]
            for piece in pieces
        ]
    )


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

# Rooms in code point order (SQLite's BINARY collation compares UTF-8 bytes), along the name's
# unique index: a page of a hundred thousand rooms reads only its own rows, the first page
# after '' (no room id is empty).
ROOMS = """
SELECT name, count, total, minimum, maximum, first_ts, last_ts, last_kelvin
FROM rooms JOIN rollups ON rollups.room = rooms.id AND width = 0 AND start = 0
WHERE name > ?1
ORDER BY name LIMIT coalesce(?2, -1)
"""
# SUMMARISE for several rooms (a JSON array of names), each room's pieces merged.
SUMMARISE_ROOMS = """
WITH pieces (width, start, stop) AS (
    SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?1)
), asked (id, name) AS (
    SELECT id, name FROM rooms WHERE name IN (SELECT value FROM json_each(?2))
), parts AS (
    SELECT asked.name, count(*) AS count, sum(kelvin) AS total, min(kelvin) AS minimum,
           max(kelvin) AS maximum, min(ts) AS first_ts, max(ts) AS last_ts
    FROM asked CROSS JOIN pieces CROSS JOIN measurements
    WHERE pieces.width IS NULL AND measurements.room = asked.id
      AND measurements.ts >= pieces.start AND measurements.ts < pieces.stop
    GROUP BY asked.name
    UNION ALL
    SELECT asked.name, sum(count), sum(total), min(minimum), max(maximum), min(first_ts),
           max(last_ts)
    FROM asked CROSS JOIN pieces CROSS JOIN rollups
    WHERE rollups.room = asked.id AND rollups.width = pieces.width
      AND rollups.start >= pieces.start AND rollups.start < pieces.stop
    GROUP BY asked.name
)
SELECT name, sum(count), sum(total), min(minimum), max(maximum), min(first_ts), max(last_ts)
FROM parts GROUP BY name
"""
