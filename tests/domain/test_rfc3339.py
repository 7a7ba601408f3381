"""A batch's timestamps read at once: the same instants msgspec reads one at a time, and
nothing msgspec would refuse."""

from datetime import UTC, datetime, timedelta, timezone

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from roomtemp.domain.columns import to_micros
from roomtemp.domain.rfc3339 import read_all

offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30))


def spelled(moment: datetime, zone: timezone | None, digits: int, zulu: bool) -> str:
    text = moment.replace(microsecond=0).isoformat()
    if digits:
        text += "." + f"{moment.microsecond:06d}"[:digits]
    if zone is None:
        return text
    if zulu and zone.utcoffset(None) == timedelta(0):
        return text + "Z"
    return (
        text
        + moment.replace(tzinfo=zone).strftime("%z")[:3]
        + ":"
        + moment.replace(tzinfo=zone).strftime("%z")[3:]
    )


def msgspec_micros(text: str) -> int | None:
    try:
        return to_micros(msgspec.convert(text, datetime))
    except msgspec.ValidationError:
        return None


@settings(max_examples=500, deadline=None)
@given(
    moment=moments,
    zone=st.none() | st.just(UTC) | offsets,
    digits=st.integers(0, 6),
    zulu=st.booleans(),
)
def plain_spellings_should_be_read_here_as_msgspec_reads_them(
    moment: datetime, zone: timezone | None, digits: int, zulu: bool
) -> None:
    text = spelled(moment, zone, digits, zulu)
    micros, read = read_all([text])
    assert read[0], text
    assert micros[0] == msgspec_micros(text)


# Texts that look nearly right: every byte of a plain spelling mutated in turn.
near_misses = st.tuples(
    moments.map(lambda moment: spelled(moment, UTC, 3, True)),
    st.integers(0, 23),
    st.sampled_from("0123456789+-:.TtZz 9\n\u00e9x"),
).map(lambda found: found[0][: found[1]] + found[2] + found[0][found[1] + 1 :])


@settings(max_examples=1000, deadline=None)
@given(texts=st.lists(near_misses | st.text(max_size=34), min_size=1, max_size=5))
def what_is_read_here_should_be_what_msgspec_reads(texts: list[str]) -> None:
    micros, read = read_all(texts)
    for text, found, was_read in zip(texts, micros.tolist(), read.tolist(), strict=True):
        if was_read:
            assert msgspec_micros(text) == found, text


def february_the_29th_should_be_read_only_in_leap_years() -> None:
    texts = ["2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z"]
    assert read_all(texts)[1].tolist() == [True, False, False]
