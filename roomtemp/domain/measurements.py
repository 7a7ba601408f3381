"""Measurements and what is asked of them: the service's own vocabulary."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import msgspec

MAX_ROOM_ID_LENGTH = 128
# No C0 or C1 control characters (the Unicode category Cc), for use in schemas.
ROOM_ID_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]+$"
# The range of timestamps accepted anywhere. Outside it nothing is a room temperature, and
# centuries of margin inside Python's years 1-9999 mean no window arithmetic can overflow.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


class InvalidRoomId(ValueError):
    """The room id is empty, too long or holds a control character; the message says which."""


class TimestampOutOfRange(ValueError):
    """A timestamp outside the years 1900 to 9000."""


class InvalidTimestamp(ValueError):
    """Text that is not an RFC 3339 timestamp of at most microsecond precision."""


# Not frozen, though never changed: a frozen dataclass costs three times as much to create
# (0.5 us more per measurement, measured), and a batch creates 100,000 of them.
@dataclass(slots=True)
class Measurement:
    room_id: str
    ts: datetime  # aware, UTC
    kelvin: float


# Cc are the C0/C1 controls (tab, newline, DEL...), Cs are lone surrogates, which cannot be
# stored as UTF-8 at all. The pattern is the fast path; the loop below says what is wrong.
_VALID_ROOM_ID = re.compile(rf"[^\x00-\x1f\x7f-\x9f\ud800-\udfff]{{1,{MAX_ROOM_ID_LENGTH}}}")


@lru_cache(maxsize=65_536)  # a batch names the same few rooms thousands of times
def check_room_id(room_id: str) -> str:
    """`room_id` in NFC, if it may name a room: 1-128 characters, no control characters.
    A composed and a decomposed "Café" look the same to people: they must be one room."""
    room_id = unicodedata.normalize("NFC", room_id)
    if _VALID_ROOM_ID.fullmatch(room_id):
        return room_id
    if not room_id:
        raise InvalidRoomId("a room id must not be empty")
    if len(room_id) > MAX_ROOM_ID_LENGTH:
        raise InvalidRoomId(
            f"a room id has at most {MAX_ROOM_ID_LENGTH} characters, this one has {len(room_id)}"
        )
    for character in room_id:
        if unicodedata.category(character) in ("Cc", "Cs"):
            raise InvalidRoomId(
                f"a room id must not contain control character U+{ord(character):04X}"
            )
    return room_id


def as_utc(ts: datetime) -> datetime:
    """A naive timestamp means UTC; an aware one is converted to UTC."""
    aware = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts
    if not EARLIEST <= aware < LATEST:  # compared before converting, which could overflow
        raise TimestampOutOfRange(
            f"{ts.isoformat()} is outside the years {EARLIEST.year} to {LATEST.year}"
        )
    return aware if aware.tzinfo is UTC else aware.astimezone(UTC)


def parse_ts(text: str) -> datetime:
    """RFC 3339 text (naive means UTC) as an aware UTC datetime. More than six fractional
    digits are refused, not rounded: rounding made two distinct readings one (a duplicate, or
    a conflict) without a word."""
    # Every accepted form has its seconds' fraction at [19] ("2026-11-27T14:00:00.123456Z").
    if text[19:20] == "." and len(digits := text[20:27]) == 7 and digits.isdigit():
        raise InvalidTimestamp(
            f"{text!r} has more than six fractional digits; timestamps keep microseconds"
        )
    try:
        parsed = msgspec.convert(text, datetime)
    except msgspec.ValidationError:
        raise InvalidTimestamp(
            f"{text!r} is not an RFC 3339 timestamp (such as 2026-11-27T14:00:00Z)"
        ) from None
    return as_utc(parsed)


def format_ts(ts: datetime) -> str:
    """RFC 3339 in UTC with a `Z` suffix, as every timestamp leaves the service."""
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


class ConflictingMeasurements(Exception):
    """Some measurements name a room and timestamp already stored with a different value."""

    def __init__(self, indices: list[int]) -> None:
        super().__init__(f"{len(indices)} measurement(s) conflict with stored ones")
        self.indices = indices


class UnknownRoom(LookupError):
    """The room has never had a measurement."""

    def __init__(self, room_id: str) -> None:
        super().__init__(f"room {room_id!r} has no measurements at all")
        self.room_id = room_id


class EmptyWindow(LookupError):
    """The room has measurements, but none in the window asked about."""

    def __init__(self, room_id: str, since: datetime, until: datetime) -> None:
        super().__init__(
            f"room {room_id!r} has no measurements from {format_ts(since)} to {format_ts(until)}"
        )


# Two values for the same room and timestamp are the same measurement when they differ by no
# more than this: far below any sensor's resolution, far above the rounding of unit conversions
# (20 °C and 293.15 K must be one measurement).
SAME_VALUE_TOLERANCE = 1e-9


def same_value(kelvin: float, other: float) -> bool:
    return abs(kelvin - other) <= SAME_VALUE_TOLERANCE
