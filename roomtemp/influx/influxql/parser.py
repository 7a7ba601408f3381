"""InfluxQL, the part of it that Grafana's query editor, Home Assistant's InfluxDB sensor and
the `influx` CLI send, read into statements. Anything else is refused by name (InvalidQuery),
never half-understood: a query that cannot be answered exactly gets an error, not a guess.

    SHOW DATABASES | MEASUREMENTS | TAG KEYS | TAG VALUES | FIELD KEYS | RETENTION POLICIES
    SELECT <"value" | * | fn("value") [AS alias], ...> FROM <measurement>
      [WHERE <room tag> =|!=|=~|!~ ... [AND|OR ...] AND time >=|>|<=|< <time>]
      [GROUP BY time(<interval>[, <offset>])[, <room tag> | *]] [fill(...)]
      [ORDER BY time [ASC|DESC]] [LIMIT n] [OFFSET n]
    CREATE DATABASE <name> (accepted, changes nothing: roomtemp has one database)

fn is mean, min, max, count, first, last or sum; a time is now() [+|- duration], RFC 3339
text, or an epoch integer with a unit (1700000000000ms; nanoseconds without one).
"""

from datetime import datetime, timedelta

from roomtemp.influx.influxql.statements import (
    FUNCTIONS,
    Column,
    CreateDatabase,
    InvalidQuery,
    Select,
    Show,
    Statement,
)
from roomtemp.influx.influxql.tokens import Reader, duration, pattern
from roomtemp.influx.influxql.where import where

MAX_QUERY_LENGTH = 64 * 1024


def parse(text: str, now: datetime, room_tags: tuple[str, ...]) -> list[Statement]:
    """The statements of `text`, separated by `;`; InvalidQuery names what is not understood
    or not supported. Relative times are resolved against `now`."""
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidQuery(f"a query has at most {MAX_QUERY_LENGTH} characters")
    reader = Reader(text)
    statements: list[Statement] = []
    while reader.current.kind != "end":
        if reader.operator(";"):
            continue
        statements.append(_statement(reader, now, room_tags))
        if reader.current.kind != "end":
            reader.expect(";")
    if not statements:
        raise InvalidQuery("the query is empty")
    return statements


def _statement(reader: Reader, now: datetime, room_tags: tuple[str, ...]) -> Statement:
    if reader.keyword("SELECT"):
        return _select(reader, now, room_tags)
    if reader.keyword("SHOW"):
        return _show(reader, now, room_tags)
    if reader.keyword("CREATE", "DATABASE"):
        return CreateDatabase(reader.name())
    raise InvalidQuery(
        f"{reader.current.text!r} statements are not supported: only SELECT, SHOW and"
        " CREATE DATABASE (Flux is not supported either)"
    )


def _show(reader: Reader, now: datetime, room_tags: tuple[str, ...]) -> Show:
    word = reader.current.text.upper() if reader.current.kind == "identifier" else ""
    second = {"TAG": ("KEYS", "VALUES"), "FIELD": ("KEYS",), "RETENTION": ("POLICIES",)}
    if word in ("DATABASES", "MEASUREMENTS"):
        reader.take()
        show = Show(word.lower())
    elif word in second:
        reader.take()
        following = reader.current.text.upper() if reader.current.kind == "identifier" else ""
        if following not in second[word]:
            raise InvalidQuery(f"SHOW {word} {reader.current.text} is not supported")
        reader.take()
        show = Show(f"{word} {following}".lower())
    else:
        raise InvalidQuery(f"SHOW {reader.current.text} is not supported")
    if reader.keyword("ON"):
        reader.name()  # any database: roomtemp has one
    if show.what == "measurements" and reader.keyword("WITH", "MEASUREMENT"):
        _names_orpattern(reader, show)
    if show.what in ("tag keys", "tag values", "field keys") and reader.keyword("FROM"):
        show.measurement = _measurement(reader)
    if show.what == "tag values":
        reader.expect_keyword("WITH")
        reader.expect_keyword("KEY")
        _names_orpattern(reader, show)
    if show.what != "databases" and reader.keyword("WHERE"):
        show.rooms = where(reader, now, room_tags)[0]
    while True:
        if reader.keyword("LIMIT"):
            show.limit = reader.integer()
        elif reader.keyword("OFFSET"):
            show.skip = reader.integer()
        else:
            return show


def _names_orpattern(reader: Reader, show: Show) -> None:
    if reader.operator("=~"):
        show.pattern = pattern(reader)
    elif reader.operator("="):
        show.names = [reader.name()]
    elif reader.keyword("IN"):
        reader.expect("(")
        show.names = [reader.name()]
        while reader.operator(","):
            show.names.append(reader.name())
        reader.expect(")")
    else:
        raise InvalidQuery(f"expected =, =~ or IN at {reader.here()}")


def _measurement(reader: Reader) -> str:
    """A measurement, maybe as "database"."retention policy"."measurement" or db..m."""
    if reader.current.kind == "operator" and reader.current.text == "/":
        raise InvalidQuery("FROM /regex/ is not supported: name the measurement")
    parts = [reader.name()]
    while reader.operator("."):
        parts.append(reader.name() if reader.current.kind in ("identifier", "quoted") else "")
    if len(parts) > 3 or not parts[-1]:
        raise InvalidQuery(f"invalid measurement {'.'.join(parts)!r}")
    if reader.operator(","):
        raise InvalidQuery("SELECT FROM several measurements is not supported")
    return parts[-1]


def _select(reader: Reader, now: datetime, room_tags: tuple[str, ...]) -> Select:
    columns = [_column(reader)]
    while reader.operator(","):
        columns.append(_column(reader))
    aggregates = {column.function is not None for column in columns}
    if len(aggregates) > 1:
        raise InvalidQuery("mixing aggregate and non-aggregate queries is not supported")
    if reader.keyword("INTO"):
        raise InvalidQuery("SELECT INTO is not supported")
    reader.expect_keyword("FROM")
    select = Select(columns, _measurement(reader))
    if reader.keyword("WHERE"):
        select.rooms, select.since, select.until = where(reader, now, room_tags)
    if reader.keyword("GROUP", "BY"):
        _group_by(reader, select, room_tags)
    if reader.keyword("FILL"):
        select.fill = _fill(reader)
    while True:
        if reader.keyword("ORDER", "BY"):
            if reader.name().lower() != "time":
                raise InvalidQuery("ORDER BY other than time is not supported")
            select.descending = reader.keyword("DESC")
            if not select.descending:
                reader.keyword("ASC")
        elif reader.keyword("LIMIT"):
            select.limit = reader.integer()
        elif reader.keyword("OFFSET"):
            select.skip = reader.integer()
        elif reader.keyword("TZ"):
            reader.expect("(")
            zone = reader.take()
            reader.expect(")")
            if zone.text.upper() != "UTC":
                raise InvalidQuery(f"tz({zone.text!r}) is not supported: times are in UTC")
        elif reader.keyword("SLIMIT") or reader.keyword("SOFFSET"):
            raise InvalidQuery("SLIMIT and SOFFSET are not supported")
        else:
            break
    if select.interval is not None and columns[0].function is None:
        raise InvalidQuery("GROUP BY time() requires an aggregate function such as mean()")
    if select.interval is not None and select.since is None:
        raise InvalidQuery("GROUP BY time() requires a lower time bound: WHERE time >= ...")
    return select


def _column(reader: Reader) -> Column:
    if reader.operator("*"):
        column = Column("*")
    else:
        name = reader.name()
        if reader.operator("("):
            function = name.lower()
            if function not in FUNCTIONS:
                raise InvalidQuery(
                    f"function {name}() is not supported: use one of {', '.join(sorted(FUNCTIONS))}"
                )
            column = Column(_field(reader), function)
            reader.expect(")")
        else:
            column = Column(_field_type(reader, name))
    if reader.keyword("AS"):
        column = Column(column.field, column.function, reader.name())
    if reader.current.kind == "operator" and reader.current.text in "+-*/":
        raise InvalidQuery("arithmetic in SELECT is not supported")
    return column


def _field(reader: Reader) -> str:
    if reader.operator("*"):
        return "*"
    return _field_type(reader, reader.name())


def _field_type(reader: Reader, name: str) -> str:
    if reader.operator("::"):
        reader.name()  # ::field, ::float: the value field is both
    return name


def _group_by(reader: Reader, select: Select, room_tags: tuple[str, ...]) -> None:
    while True:
        if reader.keyword("TIME"):
            reader.expect("(")
            select.interval = duration(reader)
            if select.interval < timedelta(seconds=1):
                raise InvalidQuery("GROUP BY time() takes an interval of at least 1s")
            if reader.operator(","):
                sign = -1 if reader.operator("-") else 1
                select.offset = sign * duration(reader) % select.interval
            reader.expect(")")
        elif reader.operator("*"):
            select.group_by_room = "*"
        else:
            tag = reader.name()
            if reader.operator("::"):
                reader.name()  # ::tag
            if tag not in room_tags:
                raise InvalidQuery(
                    f"GROUP BY {tag!r} is not supported: group by time() or a room tag"
                    f" ({', '.join(room_tags)})"
                )
            select.group_by_room = tag
        if not reader.operator(","):
            return


def _fill(reader: Reader) -> str | float:
    reader.expect("(")
    sign = -1 if reader.operator("-") else 1
    token = reader.take()
    reader.expect(")")
    if token.kind == "number":
        return sign * float(token.text)
    if token.kind == "identifier" and token.text.lower() in ("null", "none", "previous", "linear"):
        return token.text.lower()
    raise InvalidQuery(
        f"fill({token.text}) is not supported: null, none, previous, linear or a number"
    )
