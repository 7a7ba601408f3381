"""Plain lines read at once must say exactly what the line-by-line parser says of them, and
leave to it every body it would read otherwise."""

from datetime import UTC, datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from roomtemp.influx import lineprotocol, plain_lines, points
from roomtemp.settings import Settings

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
RULES = points.Rules.from_settings(Settings(database_url="memory://"))
PRECISIONS = sorted(set(points.PRECISIONS_V1.values()))

# Names and values nearly plain: now and then a character, spelling or line that is not.
NAME = st.sampled_from(["°C", "K", "temperature", "%", "m"]) | st.text(
    'ab,= #\\"é', min_size=1, max_size=4
)
TAG_NAME = st.sampled_from(["room", "entity_id", "u", "host"])
TAGS = st.lists(st.tuples(TAG_NAME, st.sampled_from(["a", "b", "C", "F", "", "x y"])), max_size=3)
FIELD = st.sampled_from(["value", "temp", "u", "other", "v"])
ODD_NUMBERS = [
    *("1", "-1.5", ".5", "5.", "1e3", "+1", "1i", "t", "nan", "inf", "1e999", "", "-", "1.2.3"),
    *("1e", "--1", ".", "1-2", "e5", "1e+5", "1E-5", "0x1", "1_0", "٣"),
]
# Decimals as sensors write them, read as matrices of digits, and their edges: 15 digits and 16,
# leading zeros, a sign, a dot at either end.
DECIMAL = st.builds(
    lambda sign, whole, fraction: f"{sign}{whole}.{fraction}".strip("."),
    st.sampled_from(["", "-"]),
    st.text("0123456789", max_size=9),
    st.text("0123456789", max_size=9),
)
NUMBER = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    DECIMAL,
    st.sampled_from(ODD_NUMBERS),
)
TIME = st.one_of(
    st.integers(-(2**63), 2**63 - 1).map(str),
    st.integers(1_600_000_000_000_000_000, 1_800_000_000_000_000_000).map(str),
    st.integers(0, 10**19).map(lambda time: str(time).rjust(19, "0")),
    st.sampled_from(["", "1.5", "-", "99999999999999999999", "+5", "٣", "9223372036854775808"]),
)


@st.composite
def line(draw: st.DrawFn, timed: bool) -> str:
    key = draw(NAME) + "".join(f",{name}={value}" for name, value in draw(TAGS))
    fields = ",".join(f"{draw(FIELD)}={draw(NUMBER)}" for _ in range(draw(st.integers(1, 2))))
    return f"{key} {fields}" + (f" {draw(TIME)}" if timed else "")


@st.composite
def body(draw: st.DrawFn) -> str:
    timed = draw(st.booleans())
    odd = st.sampled_from(["", "# comment", " "])
    lines = draw(st.lists(line(timed) | odd, min_size=1, max_size=8))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n"]))


@settings(max_examples=500, deadline=None)
@given(text=body())
def plain_lines_should_read_what_the_line_parser_reads_or_leave_the_body_to_it(text: str) -> None:
    plain = plain_lines.read(text.encode())
    if plain is None:
        return
    parsed, malformed = lineprotocol.parse(text)
    # Series keys are read later, once each (points.py): those malformed, the parser refuses.
    series = {key: _series_or_none(key) for key in plain.keys}
    bad = [index + 1 for index, code in enumerate(plain.series) if series[plain.keys[code]] is None]
    assert [number for number, _ in malformed] == bad
    good = [index for index in range(len(plain)) if index + 1 not in bad]
    assert [point.line for point in parsed] == [index + 1 for index in good]
    for index, point in zip(good, parsed, strict=True):
        assert series[plain.keys[plain.series[index]]] == point.series
        assert point.fields == {plain.field: plain.values[index]}
        assert point.time == (None if plain.times is None else plain.times[index])


def _series_or_none(key: str) -> lineprotocol.Series | None:
    try:
        return lineprotocol.series_of(key)
    except lineprotocol.MalformedLine:
        return None


@settings(max_examples=500, deadline=None)
@given(text=body(), precision=st.sampled_from(PRECISIONS))
def a_body_should_give_the_same_readings_whichever_way_it_is_read(
    text: str, precision: int
) -> None:
    at_once = points.read(text.encode(), RULES, precision, NOW)
    line_by_line = points.read_lines(text, RULES, precision, NOW)
    for batch in (at_once, line_by_line):  # room ids as named: codes differ between readers
        batch.refused.sort()
    assert at_once.refused == line_by_line.refused
    assert at_once.skipped == line_by_line.skipped
    assert at_once.lines.tolist() == line_by_line.lines.tolist()
    for readings in (at_once.readings, line_by_line.readings):
        assert readings.rooms.dtype == np.int32
    assert [at_once.readings.room_ids[code] for code in at_once.readings.rooms] == [
        line_by_line.readings.room_ids[code] for code in line_by_line.readings.rooms
    ]
    for column in ("values", "units", "micros"):
        assert (
            getattr(at_once.readings, column).tolist()
            == getattr(line_by_line.readings, column).tolist()
        )


@settings(max_examples=200, deadline=None)
@given(
    rooms=st.lists(st.sampled_from(["kitchen", "hall", "a-1", "°"]), min_size=1, max_size=50),
    data=st.data(),
)
def telegraf_s_lines_should_be_read_at_once(rooms: list[str], data: st.DataObject) -> None:
    """The fast reader does read what Telegraf sends (a test that it is not always bypassed)."""
    values = data.draw(st.lists(st.floats(-300, 300), min_size=len(rooms), max_size=len(rooms)))
    times = data.draw(st.lists(st.integers(0, 2**62), min_size=len(rooms), max_size=len(rooms)))
    text = "\n".join(
        f"temperature,host=pi,room={room} value={value!r} {time}"
        for room, value, time in zip(rooms, values, times, strict=True)
    )
    plain = plain_lines.read((text + "\n").encode())
    assert plain is not None
    assert [plain.keys[code] for code in plain.series] == [
        f"temperature,host=pi,room={room}" for room in rooms
    ]
    assert plain.values.tolist() == values
    assert plain.times is not None
    assert plain.times.tolist() == times
