"""InfluxQL, the part of it that Grafana's query editor, Home Assistant's InfluxDB sensor and
the `influx` CLI send, read into statements. Anything else is refused by name (Unsupported),
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

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from roomtemp.domain.rollups import EPOCH, MICROSECOND

FUNCTIONS = frozenset({"mean", "min", "max", "count", "first", "last", "sum"})
DURATION_UNITS = {"ns": 0, "u": 1, "µ": 1, "us": 1, "ms": 1_000, "s": 1_000_000,
                  "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000,
                  "w": 604_800_000_000}  # fmt: skip
MAX_QUERY_LENGTH = 64 * 1024


class InvalidQuery(ValueError):
    """Not InfluxQL, or InfluxQL that roomtemp does not answer; the message names what."""


RoomTest = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class Rooms:
    """The rooms a WHERE clause selects: `exact` when it names one room and nothing else."""

    test: RoomTest
    exact: str | None = None
    tag: str | None = None  # the room tag it named


ALL_ROOMS = Rooms(lambda _: True)


@dataclass(frozen=True, slots=True)
class Column:
    field: str  # a field name, or "*"
    function: str | None = None
    alias: str | None = None

    @property
    def name(self) -> str:
        return self.alias or self.function or self.field


@dataclass(slots=True)
class Select:
    columns: list[Column]
    measurement: str
    rooms: Rooms = ALL_ROOMS
    since: datetime | None = None
    until: datetime | None = None
    interval: timedelta | None = None
    offset: timedelta = timedelta(0)
    group_by_room: str | None = None  # the room tag grouped by (or "*")
    fill: str | float = "null"  # null, none, previous, linear, or a number
    descending: bool = False
    limit: int | None = None
    skip: int = 0  # OFFSET


@dataclass(slots=True)
class Show:
    what: str  # databases, measurements, tag keys, tag values, field keys, retention policies
    measurement: str | None = None
    pattern: re.Pattern[str] | None = None  # WITH MEASUREMENT =~ / WITH KEY =~
    names: list[str] = field(default_factory=list)  # WITH MEASUREMENT = / WITH KEY = or IN
    rooms: Rooms = ALL_ROOMS
    limit: int | None = None
    skip: int = 0


@dataclass(slots=True)
class CreateDatabase:
    name: str


Statement = Select | Show | CreateDatabase

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<duration>[0-9]+(?:ns|us|µ|u|ms|s|m|h|d|w)(?![A-Za-z0-9_]))
    | (?P<number>[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)
    | (?P<identifier>[A-Za-z_][A-Za-z0-9_]*)
    | "(?P<quoted>(?:[^"\\]++|\\.)*+)"
    | '(?P<string>(?:[^'\\]++|\\.)*+)'
    | (?P<operator>=~|!~|!=|<>|<=|>=|::|[=<>(),;.*+\-/])
    )""",
    re.VERBOSE | re.DOTALL,
)
_REGEX = re.compile(r"\s*/((?:[^/\\\n]++|\\.)*+)/", re.DOTALL)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # duration, number, identifier, quoted, string, operator, regex, end
    text: str
    at: int


class _Reader:
    """Tokens read on demand: a `/` after =~ or !~ starts a regular expression, elsewhere
    it divides."""

    def __init__(self, text: str) -> None:
        self.text, self.position = text, 0
        self.current = self._next()

    def _next(self, regex: bool = False) -> Token:
        if regex and (match := _REGEX.match(self.text, self.position)):
            self.position = match.end()
            return Token("regex", match[1].replace("\\/", "/"), match.start(1))
        match = _TOKEN.match(self.text, self.position)
        if match is None or match.end() == self.position:
            rest = self.text[self.position :].strip()
            if not rest:
                return Token("end", "", len(self.text))
            raise InvalidQuery(f"cannot read the query at {rest[:30]!r}")
        self.position = match.end()
        kind = match.lastgroup or "end"
        text = match[kind]
        if kind in ("quoted", "string"):
            text = _ESCAPE.sub(r"\1", text)
        return Token(kind, text, match.start(kind))

    def take(self) -> Token:
        token = self.current
        regex = token.kind == "operator" and token.text in ("=~", "!~")
        self.current = self._next(regex)
        return token

    def keyword(self, *words: str) -> bool:
        """Whether the next tokens are these words (any case); if so, they are taken."""
        if self.current.kind != "identifier" or self.current.text.upper() != words[0]:
            return False
        self.take()
        for word in words[1:]:
            self.expect_keyword(word)
        return True

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            raise InvalidQuery(f"expected {word} at {self.here()}")

    def operator(self, *texts: str) -> str | None:
        if self.current.kind == "operator" and self.current.text in texts:
            return self.take().text
        return None

    def expect(self, text: str) -> None:
        if self.operator(text) is None:
            raise InvalidQuery(f"expected {text!r} at {self.here()}")

    def name(self) -> str:
        """An identifier, quoted or not."""
        if self.current.kind in ("identifier", "quoted"):
            return self.take().text
        raise InvalidQuery(f"expected a name at {self.here()}")

    def integer(self) -> int:
        if self.current.kind == "number" and self.current.text.isdigit():
            return int(self.take().text)
        raise InvalidQuery(f"expected a whole number at {self.here()}")

    def here(self) -> str:
        return repr(self.current.text) if self.current.kind != "end" else "the end"


def parse(text: str, now: datetime, room_tags: tuple[str, ...]) -> list[Statement]:
    """The statements of `text`, separated by `;`; InvalidQuery names what is not understood
    or not supported. Relative times are resolved against `now`."""
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidQuery(f"a query has at most {MAX_QUERY_LENGTH} characters")
    reader = _Reader(text)
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


def _statement(reader: _Reader, now: datetime, room_tags: tuple[str, ...]) -> Statement:
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


def _show(reader: _Reader, now: datetime, room_tags: tuple[str, ...]) -> Show:
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
        _names_or_pattern(reader, show)
    if show.what in ("tag keys", "tag values", "field keys") and reader.keyword("FROM"):
        show.measurement = _measurement(reader)
    if show.what == "tag values":
        reader.expect_keyword("WITH")
        reader.expect_keyword("KEY")
        _names_or_pattern(reader, show)
    if show.what != "databases" and reader.keyword("WHERE"):
        show.rooms = _where(reader, now, room_tags)[0]
    while True:
        if reader.keyword("LIMIT"):
            show.limit = reader.integer()
        elif reader.keyword("OFFSET"):
            show.skip = reader.integer()
        else:
            return show


def _names_or_pattern(reader: _Reader, show: Show) -> None:
    if reader.operator("=~"):
        show.pattern = _pattern(reader)
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


def _pattern(reader: _Reader) -> re.Pattern[str]:
    token = reader.take()
    if token.kind != "regex":
        raise InvalidQuery("expected a regular expression: /.../")
    try:
        return re.compile(token.text)
    except re.error as error:
        raise InvalidQuery(f"invalid regular expression /{token.text}/: {error}") from None


def _measurement(reader: _Reader) -> str:
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


def _select(reader: _Reader, now: datetime, room_tags: tuple[str, ...]) -> Select:
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
        select.rooms, select.since, select.until = _where(reader, now, room_tags)
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


def _column(reader: _Reader) -> Column:
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


def _field(reader: _Reader) -> str:
    if reader.operator("*"):
        return "*"
    return _field_type(reader, reader.name())


def _field_type(reader: _Reader, name: str) -> str:
    if reader.operator("::"):
        reader.name()  # ::field, ::float: the value field is both
    return name


def _group_by(reader: _Reader, select: Select, room_tags: tuple[str, ...]) -> None:
    while True:
        if reader.keyword("TIME"):
            reader.expect("(")
            select.interval = _duration(reader)
            if select.interval < timedelta(seconds=1):
                raise InvalidQuery("GROUP BY time() takes an interval of at least 1s")
            if reader.operator(","):
                select.offset = _duration(reader) % select.interval
            reader.expect(")")
        elif reader.operator("*"):
            select.group_by_room = "*"
        else:
            tag = reader.name()
            if tag not in room_tags:
                raise InvalidQuery(
                    f"GROUP BY {tag!r} is not supported: group by time() or a room tag"
                    f" ({', '.join(room_tags)})"
                )
            select.group_by_room = tag
        if not reader.operator(","):
            return


def _fill(reader: _Reader) -> str | float:
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


def _duration(reader: _Reader) -> timedelta:
    token = reader.take()
    if token.kind != "duration":
        raise InvalidQuery(f"expected a duration such as 1m, not {token.text!r}")
    return _duration_of(token.text)


def _duration_of(text: str) -> timedelta:
    digits = text.rstrip("nsuµmhdw")
    unit = DURATION_UNITS[text[len(digits) :]]
    try:
        if unit == 0:
            return timedelta(microseconds=int(digits) // 1000)
        return timedelta(microseconds=int(digits) * unit)
    except OverflowError:
        raise InvalidQuery(f"{text} is out of range") from None


# WHERE: room conditions joined by AND/OR, and time bounds joined to them by AND.

Bounds = tuple[Rooms, datetime | None, datetime | None]


def _where(reader: _Reader, now: datetime, room_tags: tuple[str, ...]) -> Bounds:
    state = _Where(now, room_tags)
    test = state.disjunction(reader)
    rooms = Rooms(test or (lambda _: True), state.exact if state.only_exact else None, state.tag)
    return rooms, state.since, state.until


class _Where:
    def __init__(self, now: datetime, room_tags: tuple[str, ...]) -> None:
        self.now, self.room_tags = now, room_tags
        self.since: datetime | None = None
        self.until: datetime | None = None
        self.exact: str | None = None
        self.only_exact = True
        self.tag: str | None = None
        self.times = 0  # time conditions read

    def disjunction(self, reader: _Reader) -> RoomTest | None:
        times = self.times
        tests = [self.conjunction(reader)]
        while reader.keyword("OR"):
            tests.append(self.conjunction(reader))
        if len(tests) == 1:
            return tests[0]
        self.only_exact = False
        if None in tests or self.times != times:
            raise InvalidQuery("a time condition under OR is not supported")
        chosen = [test for test in tests if test is not None]
        return lambda room: any(test(room) for test in chosen)

    def conjunction(self, reader: _Reader) -> RoomTest | None:
        tests = [self.condition(reader)]
        while reader.keyword("AND"):
            tests.append(self.condition(reader))
        chosen = [test for test in tests if test is not None]
        if len(chosen) > 1:
            self.only_exact = False
        if not chosen:
            return None
        return chosen[0] if len(chosen) == 1 else lambda room: all(t(room) for t in chosen)

    def condition(self, reader: _Reader) -> RoomTest | None:
        if reader.operator("("):
            test = self.disjunction(reader)
            reader.expect(")")
            return test
        name = reader.name()
        if reader.operator("::"):
            reader.name()  # ::tag
        if name.lower() == "time":
            self._time(reader)
            self.times += 1
            return None
        if name not in self.room_tags:
            raise InvalidQuery(
                f"WHERE on {name!r} is not supported: only the room tags"
                f" ({', '.join(self.room_tags)}) and time"
            )
        self.tag = name
        operator = reader.operator("=", "!=", "<>", "=~", "!~")
        if operator in ("=~", "!~"):
            pattern = _pattern(reader)
            matches = operator == "=~"
            self.only_exact = False
            return lambda room: (pattern.search(room) is not None) == matches
        if operator is None or reader.current.kind != "string":
            raise InvalidQuery(f"expected = '...' or =~ /.../ after {name!r}")
        value = reader.take().text
        if operator == "=":
            self.only_exact = self.only_exact and self.exact is None
            self.exact = value
            return lambda room: room == value
        self.only_exact = False
        return lambda room: room != value

    def _time(self, reader: _Reader) -> None:
        operator = reader.operator(">=", ">", "<=", "<", "=")
        if operator is None:
            raise InvalidQuery("expected >=, >, <=, < or = after time")
        ts = self._time_value(reader)
        if operator in (">=", ">", "="):
            since = ts + MICROSECOND if operator == ">" else ts
            self.since = since if self.since is None else max(self.since, since)
        if operator in ("<=", "<", "="):
            until = ts - MICROSECOND if operator == "<" else ts
            self.until = until if self.until is None else min(self.until, until)

    def _time_value(self, reader: _Reader) -> datetime:
        token = reader.take()
        if token.kind == "identifier" and token.text.lower() == "now":
            reader.expect("(")
            reader.expect(")")
            ts = self.now
        elif token.kind == "string":
            ts = _timestamp(token.text)
        elif token.kind == "duration":
            ts = _epoch(token.text)
        elif token.kind == "number" and token.text.isdigit():
            ts = _epoch(token.text + "ns")
        else:
            raise InvalidQuery(f"expected a time, not {token.text!r}")
        while (sign := reader.operator("+", "-")) is not None:
            change = _duration(reader)
            try:
                ts = ts + change if sign == "+" else ts - change
            except OverflowError:
                raise InvalidQuery(f"time {sign} {change} is out of range") from None
        return ts


def _timestamp(text: str) -> datetime:
    try:
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidQuery(f"invalid time {text!r}: use RFC 3339") from None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _epoch(text: str) -> datetime:
    try:
        return EPOCH + _duration_of(text)
    except OverflowError:
        raise InvalidQuery(f"time {text} is out of range") from None
