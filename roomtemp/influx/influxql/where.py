"""WHERE: conditions on room tags joined by AND and OR, and time bounds joined to them by AND,
read into the rooms they select and the window they bound."""

from datetime import UTC, datetime

from roomtemp.domain.rollups import EPOCH, MICROSECOND
from roomtemp.influx.influxql.statements import InvalidQuery, Rooms, RoomTest
from roomtemp.influx.influxql.tokens import Reader, duration, duration_of, pattern

Bounds = tuple[Rooms, datetime | None, datetime | None]


def where(reader: Reader, now: datetime, room_tags: tuple[str, ...]) -> Bounds:
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

    def disjunction(self, reader: Reader) -> RoomTest | None:
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

    def conjunction(self, reader: Reader) -> RoomTest | None:
        tests = [self.condition(reader)]
        while reader.keyword("AND"):
            tests.append(self.condition(reader))
        chosen = [test for test in tests if test is not None]
        if len(chosen) > 1:
            self.only_exact = False
        if not chosen:
            return None
        return chosen[0] if len(chosen) == 1 else lambda room: all(t(room) for t in chosen)

    def condition(self, reader: Reader) -> RoomTest | None:
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
            regex = pattern(reader)
            matches = operator == "=~"
            self.only_exact = False
            return lambda room: (regex.search(room) is not None) == matches
        if operator is None or reader.current.kind != "string":
            raise InvalidQuery(f"expected = '...' or =~ /.../ after {name!r}")
        value = reader.take().text
        if operator == "=":
            self.only_exact = self.only_exact and self.exact is None
            self.exact = value
            return lambda room: room == value
        self.only_exact = False
        return lambda room: room != value

    def _time(self, reader: Reader) -> None:
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

    def _time_value(self, reader: Reader) -> datetime:
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
            change = duration(reader)
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
        return EPOCH + duration_of(text)
    except OverflowError:
        raise InvalidQuery(f"time {text} is out of range") from None
