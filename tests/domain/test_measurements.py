import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roomtemp.domain.measurements import (
    InvalidRoomId,
    InvalidTimestamp,
    TimestampOutOfRange,
    as_utc,
    check_room_id,
    format_ts,
    parse_ts,
    same_value,
)


@pytest.mark.parametrize("room_id", ["Living room", "客厅", "a" * 128, "🛋️", "x"])
def check_room_id_should_accept_any_printable_unicode(room_id: str) -> None:
    assert check_room_id(room_id) == room_id


@pytest.mark.parametrize(
    ("room_id", "reason"),
    [
        ("", "empty"),
        ("a" * 129, "at most 128"),
        ("hall\n", "U\\+000A"),
        ("hall\x00", "U\\+0000"),
        ("hall\x7f", "U\\+007F"),
        ("hall\x85", "U\\+0085"),
        ("hall\ud800", "U\\+D800"),
    ],
)
def check_room_id_should_refuse_empty_long_and_control_characters(
    room_id: str, reason: str
) -> None:
    with pytest.raises(InvalidRoomId, match=reason):
        check_room_id(room_id)


def as_utc_should_read_a_naive_timestamp_as_utc() -> None:
    assert as_utc(datetime(2026, 11, 27, 12, 0)) == datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def as_utc_should_convert_an_offset_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    converted = as_utc(datetime(2026, 11, 27, 14, 0, tzinfo=plus_two))
    assert converted == datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert converted.tzinfo is UTC


@pytest.mark.parametrize(
    "ts",
    [
        datetime(1899, 12, 31, 23, 59),
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
        datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def as_utc_should_refuse_timestamps_outside_1900_to_9000_without_overflowing(ts: datetime) -> None:
    with pytest.raises(TimestampOutOfRange):
        as_utc(ts)


def format_ts_should_write_utc_with_a_z() -> None:
    ts = datetime(2026, 11, 27, 14, 0, 0, 500, tzinfo=timezone(timedelta(hours=2)))
    assert format_ts(ts) == "2026-11-27T12:00:00.000500Z"


def same_value_should_absorb_conversion_rounding_but_not_real_differences() -> None:
    assert same_value(20.0 + 273.15, 293.15)
    assert not same_value(293.15, 293.16)


@given(st.text(st.characters(exclude_categories=["Cc", "Cs"]), min_size=1, max_size=40))
def check_room_id_should_give_one_name_for_every_normal_form(text: str) -> None:
    assert check_room_id(text) == unicodedata.normalize("NFC", text)
    for form in ("NFD", "NFC"):
        assert check_room_id(unicodedata.normalize(form, text)) == check_room_id(text)


@given(
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(8999, 12, 30)),
    st.text("0123456789", min_size=1, max_size=12),
    st.sampled_from(["", "Z", "z", "+05:30", "-00:00"]),
    st.sampled_from(["T", "t", " "]),
)
def parse_ts_should_keep_up_to_six_fractional_digits_exactly_and_refuse_more(
    moment: datetime, fraction: str, zone: str, separator: str
) -> None:
    text = f"{moment:%Y-%m-%d}{separator}{moment:%H:%M:%S}.{fraction}{zone}"
    if len(fraction) > 6:
        with pytest.raises(InvalidTimestamp, match="more than six fractional digits"):
            parse_ts(text)
        return
    offset = timedelta(hours=5, minutes=30) if zone == "+05:30" else timedelta(0)
    microseconds = int(fraction.ljust(6, "0"))
    expected = moment.replace(microsecond=microseconds, tzinfo=UTC) - offset
    assert parse_ts(text) == expected
