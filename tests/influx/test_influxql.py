"""The InfluxQL reader: what each statement says, and what it refuses."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from roomtemp.influx.influxql import InvalidQuery, Select, Show, parse

NOW = datetime(2023, 11, 16, tzinfo=UTC)
ROOM_TAGS = ("room", "room_id", "entity_id")


def select(text: str) -> Select:
    (statement,) = parse(text, NOW, ROOM_TAGS)
    assert isinstance(statement, Select)
    return statement


def strict_bounds_should_exclude_their_own_instant() -> None:
    found = select("SELECT value FROM t WHERE time > '2023-11-15T00:00:00Z' AND time < now()")
    assert found.since == datetime(2023, 11, 15, tzinfo=UTC) + timedelta(microseconds=1)
    assert found.until == NOW - timedelta(microseconds=1)
    inclusive = select("SELECT value FROM t WHERE time >= 1700000000000ms AND time <= now() - 6h")
    assert inclusive.since == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert inclusive.until == NOW - timedelta(hours=6)


def one_room_named_by_equality_should_be_read_without_listing_the_rooms() -> None:
    assert select("SELECT value FROM t WHERE entity_id = 'kitchen'").rooms.exact == "kitchen"
    either = select("SELECT value FROM t WHERE room = 'a' OR room = 'b'").rooms
    assert either.exact is None
    assert [either.test(room) for room in ("a", "b", "c")] == [True, True, False]
    matching = select("SELECT value FROM t WHERE room =~ /^k.*n$/ AND room != 'kiln'").rooms
    assert [matching.test(room) for room in ("kitchen", "kiln", "hall")] == [True, False, False]


@pytest.mark.parametrize(
    "regex", ["^(kitchen|hall)$", ".*temp.*", "(?i)KIT", "[a-z(+]+_temp", "(ab)+", "\\(a+\\)+"]
)
def the_regexes_grafana_and_people_write_should_be_taken(regex: str) -> None:
    rooms = select(f"SELECT value FROM t WHERE room =~ /{regex}/").rooms
    assert rooms.test("kitchen_temp") == (re.search(regex, "kitchen_temp") is not None)


def a_slash_should_start_a_regex_only_after_a_match_operator() -> None:
    show = parse("SHOW MEASUREMENTS WITH MEASUREMENT =~ /a\\/b/", NOW, ROOM_TAGS)[0]
    assert isinstance(show, Show)
    assert show.pattern is not None
    assert show.pattern.pattern == "a/b"
    with pytest.raises(InvalidQuery, match="arithmetic"):
        parse("SELECT mean(value) / 2 FROM t", NOW, ROOM_TAGS)


def group_by_should_read_the_interval_offset_room_and_fill() -> None:
    found = select(
        'SELECT max(value) AS top FROM "db"."autogen"."°C" WHERE time >= now() - 1d'
        ' GROUP BY time(15m, -5m), "entity_id"::tag fill(-2.5) ORDER BY time DESC LIMIT 4'
        " OFFSET 1"
    )
    assert (found.measurement, found.columns[0].name) == ("°C", "top")
    assert (found.interval, found.offset) == (timedelta(minutes=15), timedelta(minutes=10))
    assert (found.group_by_room, found.fill, found.descending) == ("entity_id", -2.5, True)
    assert (found.limit, found.skip) == (4, 1)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("SELECT value FROM t WHERE time > now() OR room = 'a'", "OR"),
        ("SELECT value FROM t GROUP BY time(1m)", "aggregate"),
        ("SELECT mean(value), value FROM t", "mixing"),
        ("SELECT mean(value) FROM t WHERE time > now() GROUP BY time(0s)", "at least 1s"),
        ("SELECT mean(value) FROM t GROUP BY host", "host"),
        ("SELECT value FROM a, b", "several measurements"),
        ("SELECT value INTO x FROM t", "INTO"),
        ("SHOW SERIES", "SERIES"),
        ("SELECT value FROM t WHERE time > 99999999999999999999d", "out of range"),
        ("SELECT value FROM t WHERE room =~ /(/", "regular expression"),
        ("", "empty"),
        # Patterns that Python's engine may take exponential or high-power time to fail on.
        *(
            (f"SELECT value FROM t WHERE room =~ /{regex}/", "exponential")
            for regex in ("(a+)+b", "(a|aa)*c", "(?:x*)*y", ".*.*.*.*z", "((a+))+")
        ),
    ],
)
def what_is_not_supported_should_be_named(text: str, named: str) -> None:
    with pytest.raises(InvalidQuery, match=named):
        parse(text, NOW, ROOM_TAGS)
