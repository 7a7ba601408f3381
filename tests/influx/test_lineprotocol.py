"""Line protocol as InfluxDB reads it: escapes, quoted strings, field types, comments."""

import string
import sys

import line_protocol_parser  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roomtemp.influx.lineprotocol import FieldValue, Point, parse


def only(text: str) -> Point:
    points, malformed = parse(text)
    assert malformed == []
    assert len(points) == 1
    return points[0]


def refused(text: str) -> str:
    points, malformed = parse(text)
    assert points == []
    assert len(malformed) == 1
    return malformed[0][1]


def parse_should_read_what_home_assistant_writes() -> None:
    point = only(
        '°C,domain=sensor,entity_id=kitchen_temperature value=21.5,friendly_name_str="Kitchen"'
        " 1700000000000000000"
    )
    assert point.series.measurement == "°C"
    assert point.series.tags == {"domain": "sensor", "entity_id": "kitchen_temperature"}
    assert point.fields == {"value": 21.5, "friendly_name_str": "Kitchen"}
    assert point.time == 1700000000000000000


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", 1.0),
        ("-1.5", -1.5),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("-2.5E-1", -0.25),
        ("3i", 3),
        ("-3i", -3),
        ("3u", 3),
        ("18446744073709551615u", 2**64 - 1),
        *((word, True) for word in ("t", "T", "true", "True", "TRUE")),
        *((word, False) for word in ("f", "F", "false", "False", "FALSE")),
        ('"text"', "text"),
        ('"with \\"quotes\\" and \\\\"', 'with "quotes" and \\'),
        ('"a, b c=d"', "a, b c=d"),
    ],
)
def parse_should_read_each_field_type(text: str, value: FieldValue) -> None:
    field = only(f"m f={text}").fields["f"]
    assert field == value
    assert type(field) is type(value)


@pytest.mark.parametrize(
    "text",
    ["nan", "inf", "1_000", "+1", "1e999", "-1u", "1.5i", "9223372036854775808i", "yes", "1x"],
)
def parse_should_refuse_values_that_are_not_line_protocol(text: str) -> None:
    assert text in refused(f"m f={text}")


def parse_should_unescape_keys_tag_values_and_the_measurement() -> None:
    point = only(r"cpu\ load\,1,host\=name=a\ b\,c f\ x=1 7")
    assert point.series.measurement == "cpu load,1"
    assert point.series.tags == {"host=name": "a b,c"}
    assert point.fields == {"f x": 1.0}
    assert point.time == 7


def parse_should_keep_newlines_inside_a_quoted_string_and_count_lines_of_the_body() -> None:
    points, malformed = parse('m s="two\nlines" 1\n\n# a comment\nm v=1 2\nnot a line\n')
    assert [point.line for point in points] == [1, 5]
    assert points[0].fields == {"s": "two\nlines"}
    assert [number for number, _ in malformed] == [6]


@pytest.mark.parametrize(
    ("body", "strings"),
    [
        ('m s="a\nb\nc" 1\nm s="d"', ["a\nb\nc", "d"]),
        ('m s="a \\"\nquoted\\" line" 1', ['a "\nquoted" line']),
        ('m s="ends in a backslash \\\\"\nm s="x"', ["ends in a backslash \\", "x"]),
        ('m s="x",t="a\n",u="b" 1', ["x"]),
    ],
)
def strings_should_span_lines_until_their_closing_quote(body: str, strings: list[str]) -> None:
    points, malformed = parse(body)
    assert malformed == []
    assert [point.fields["s"] for point in points] == strings


def a_string_left_open_should_take_the_rest_of_the_body_as_one_refused_line() -> None:
    points, malformed = parse('m v=1\nm s="open\n' + "m v=2\n" * 1000)
    assert len(points) == 1
    assert [number for number, _ in malformed] == [2]


def parse_should_leave_the_time_out_when_the_line_has_none() -> None:
    assert only("m v=1").time is None
    assert only('m s="a 12"').time is None
    assert only("m v=1 -5").time == -5


@pytest.mark.parametrize(
    "text",
    [
        *("m", "m ", "m,t= v=1", "m,=x v=1", "m v=", "m =1", "m v=1 12x", "m v=1,", ",t=a v=1"),
        *('m a="x""y"', 'm a="x",', 'm a=1"x"', 'm a="x"b=1', 'm a="x",="y"', 'm ="x"'),
    ],
)
def parse_should_refuse_a_malformed_line_and_say_which(text: str) -> None:
    points, malformed = parse(f"ok v=1\n{text}\nok v=2")
    assert len(points) == 2
    assert [number for number, _ in malformed] == [2]


NAME = st.text(string.ascii_letters + string.digits + "_-°. ,=\\", min_size=1, max_size=8)
TAG_VALUE = NAME.filter(lambda name: not name.endswith("\\"))
NUMBER = st.floats(allow_nan=False, allow_infinity=False, width=64)


def _escape(text: str, characters: str) -> str:
    for character in characters:
        text = text.replace(character, "\\" + character)
    return text


@settings(max_examples=200, deadline=None)
@given(
    measurement=NAME.filter(lambda name: not name.startswith("#") and "\\" not in name),
    tags=st.dictionaries(NAME.filter(lambda n: "\\" not in n), TAG_VALUE, max_size=3),
    value=NUMBER,
    text=st.text(string.printable.replace("\r", "").replace("\x0b", "").replace("\x0c", "")),
    time=st.integers(-(2**62), 2**62) | st.none(),
)
def parse_should_agree_with_the_reference_parser(
    measurement: str, tags: dict[str, str], value: float, text: str, time: int | None
) -> None:
    """Any point written by the rules of line protocol reads back as it was, and as the C
    parser of the line-protocol-parser package reads it."""
    tags = {key: tag for key, tag in tags.items() if "\\" not in tag}
    key = _escape(measurement, ", ") + "".join(
        f",{_escape(name, ', =')}={_escape(tag, ', =')}" for name, tag in tags.items()
    )
    string_field = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    line = f"{key} value={value!r},s={string_field}" + ("" if time is None else f" {time}")
    point = only(line)
    assert (point.series.measurement, point.series.tags) == (measurement, tags)
    assert point.fields == {"value": value, "s": text}
    assert point.time == time
    # The reference parser reads one line at a time, and refuses subnormal floats (5e-324),
    # which InfluxDB takes.
    if "\n" not in text and (value == 0 or abs(value) >= sys.float_info.min):
        reference = line_protocol_parser.parse_line(line)
        assert reference["measurement"] == measurement
        assert reference["fields"] == point.fields


@pytest.mark.parametrize("line", ["m f=1,f=2", 'm f="x",f=2', "m f\\=1=1,f\\=1=2"])
def a_repeated_field_key_should_keep_its_last_value_as_influxdb_does(line: str) -> None:
    assert list(only(line).fields.values()) == [2.0]
