"""InfluxDB line protocol, read: `measurement[,tag=value...] field=value[,...] [timestamp]`.

Every rule of InfluxDB's parser that a client can rely on: backslash escapes (`\\,` `\\ `
`\\=` in keys and tag values; `\\,` `\\ ` in the measurement), double-quoted string fields
with `\\"` and `\\\\` (newlines allowed inside), `i` integers and `u` unsigned integers,
booleans `t T true True TRUE f F false False FALSE`, `#` comments, an optional integer
timestamp. Nothing here knows about rooms or units: see points.py.

Measured against the line-protocol-parser package (C) in bench/line_protocol.py, which reads
Home Assistant's lines (three quoted strings each) 1.7x as fast as this, but refuses subnormal
floats, keeps the first of repeated field keys (InfluxDB the last) and reads single lines
only. Here a line is split by str methods where it holds no backslash (most lines), and what
repeats from line to line (the series key, often the time) is read once per request. Bodies
of plain lines (Telegraf's) do not come here at all: plain_lines.py reads them, 4x as fast
as the C package.
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

FieldValue = float | int | bool | str
INT64 = 2**63
UINT64 = 2**64


class MalformedLine(ValueError):
    """A line that is not line protocol; the message says why."""


@dataclass(frozen=True, slots=True)
class Series:
    """The part of a line before its fields: shared by every line of the same series."""

    measurement: str
    tags: dict[str, str]  # never changed once parsed: shared between lines


class Point(NamedTuple):  # a tuple: made 100,000 times a batch, cheaper than a dataclass
    series: Series
    fields: dict[str, FieldValue]
    time: int | None  # in the precision of the request; None: the time of arrival
    line: int  # 1-based, in the request body


_BOOLEANS = {
    **dict.fromkeys(("t", "T", "true", "True", "TRUE"), True),
    **dict.fromkeys(("f", "F", "false", "False", "FALSE"), False),
}
_FLOAT_CHARACTERS = "0123456789.-+eE"

# Lines with backslash escapes: whole-line patterns. Runs of plain characters are matched at
# once (`[^...]+`), not one alternation per character, which costs several times as much; and
# possessively (`++`, `*+`: never given back), or a line that fails to match would be tried
# in exponentially many ways before failing.
_KEY = r"(?:[^,= \\]++|\\.)++"  # a tag key, tag value or field key
_STRING = r'"(?:[^"\\]++|\\.)*+"'
_VALUE = rf'(?:{_STRING}|[^,=" \\]++)'
_SERIES_PATTERN = rf"(?:[^, \\]++|\\.)++(?:,{_KEY}={_KEY})*+"
_LINE = re.compile(
    rf"(?P<series>{_SERIES_PATTERN}) +(?P<fields>{_KEY}={_VALUE}(?:,{_KEY}={_VALUE})*)"
    r"(?: +(?P<time>[^ ]+))? *",
    re.DOTALL,
)
_FIELDS = re.compile(rf"({_KEY})=({_VALUE})", re.DOTALL)
_SERIES = re.compile(rf"((?:[^, \\]++|\\.)++)((?:,{_KEY}={_KEY})*+)", re.DOTALL)
_TAG = re.compile(rf"({_KEY})=({_KEY})", re.DOTALL)
_UNESCAPE = re.compile(r"\\([,= ])")
_UNESCAPE_MEASUREMENT = re.compile(r"\\([, ])")
_UNESCAPE_STRING = re.compile(r'\\(["\\])')
_STRING_REST = re.compile(r'(?:[^"\\]++|\\.)*+', re.DOTALL)  # in a string, up to its end
_OPEN_STRING = re.compile(rf'(?:[^"\\]++|\\.|(?<==){_STRING})*+"(?:[^"\\]++|\\.)*+\\?', re.DOTALL)


def parse(text: str) -> tuple[list[Point], list[tuple[int, str]]]:
    """The points of a line-protocol body, and the lines that are not line protocol
    (line number, reason). Blank lines and comments are neither."""
    points: list[Point] = []
    malformed: list[tuple[int, str]] = []
    if "\\" in text or '"' in text:
        for number, line in _lines(text):
            line = line.strip()
            if not line or line[0] == "#":
                continue
            try:
                points.append(parse_line(line, number))
            except MalformedLine as error:
                malformed.append((number, str(error)))
        return points, malformed
    # Most bodies have no escape and no quoted string in any line. Their lines are split here
    # by str methods alone, in one loop, and what repeats from line to line (the series key,
    # often the time) is read once: twice as fast as a function call a line (measured).
    series: dict[str, Series] = {}
    times: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), 1):
        key, _, rest = line.partition(" ")
        fields_text, _, time_text = rest.partition(" ")
        try:
            if not key or key[0] == "#" or not fields_text or " " in time_text or "\r" in line:
                line = line.strip()  # blank, a comment, or spaced unusually: the slow way
                if line and line[0] != "#":
                    points.append(_parse_plain(line, number))
                continue
            fields: dict[str, FieldValue] = {}
            for field in fields_text.split(","):
                name, _, value = field.partition("=")
                if not name or not value or "=" in value:
                    raise MalformedLine(f"invalid field {field!r}: {_excerpt(line)}")
                fields[name] = _value(value, line)
            time = None
            if time_text and (time := times.get(time_text)) is None:
                time = times[time_text] = _time(time_text, line)
            if (known := series.get(key)) is None:
                known = series[key] = series_of(key)
            points.append(Point(known, fields, time, number))
        except MalformedLine as error:
            malformed.append((number, str(error)))
    return points, malformed


def _lines(text: str) -> list[tuple[int, str]]:
    """(number, line) of each line; a newline inside a quoted string field belongs to it.
    Each physical line is looked at once, so that a string left open (on purpose or not)
    costs no more than the body's length: joining as it went made a body of 160,000 lines
    after an open quote take 15 s."""
    joined: list[tuple[int, str]] = []
    pieces: list[str] = []  # the physical lines of a line whose string is still open
    joined_from = 0  # the number of its first
    for number, line in enumerate(text.split("\n"), 1):
        if pieces:
            pieces.append(line)
            if _string_still_open(line, inside=True):
                continue
            joined.append((joined_from, "\n".join(pieces)))
            pieces = []
        elif '"' in line and _string_still_open(line, inside=False):
            pieces, joined_from = [line], number
        else:
            joined.append((number, line))
    if pieces:
        joined.append((joined_from, "\n".join(pieces)))
    return joined


def _string_still_open(line: str, inside: bool) -> bool:
    """Whether a quoted string is open at the end of this physical line, given whether one
    was open at its start."""
    if inside:
        match = _STRING_REST.match(line)  # always, if only the empty string
        end = match.end() if match else 0
        if end >= len(line) - (line[-1:] == "\\"):
            return True  # no closing quote on this line
        line = line[end + 1 :]
    if '"' not in line:
        return False
    if "\\" not in line:
        return line.count('"') % 2 == 1
    return _OPEN_STRING.fullmatch(line) is not None


def parse_line(line: str, number: int = 1) -> Point:
    if "\\" in line:
        return _parse_escaped(line, number)
    key, _, rest = line.partition(" ")
    rest = rest.lstrip(" ")
    if '"' in rest and '"' not in key:
        return _parse_quoted(key, rest, line, number)
    if '"' in key:
        return _parse_escaped(line, number)
    return _parse_plain(line, number)


def _parse_plain(line: str, number: int) -> Point:
    """A line with no escape and no quoted string."""
    key, _, rest = line.partition(" ")
    fields_text, _, time_text = rest.lstrip(" ").partition(" ")
    if not fields_text:
        raise MalformedLine(f"no fields: {_excerpt(line)}")
    fields: dict[str, FieldValue] = {}
    for field in fields_text.split(","):
        name, _, value = field.partition("=")
        if not name or not value or "=" in value:
            raise MalformedLine(f"invalid field {field!r}: {_excerpt(line)}")
        fields[name] = _value(value, line)
    time = _time(time_text.strip(" "), line) if time_text else None
    return Point(series_of(key), fields, time, number)


def _parse_quoted(key: str, rest: str, line: str, number: int) -> Point:
    """A line with quoted strings and no escapes: the time is after the last space, unless
    that space is inside a string. With no escapes, a string holds no quote: split at the
    quotes, the even parts are outside strings, the odd ones inside (str methods only, three
    times as fast as the patterns this once was)."""
    fields_text, _, time_text = rest.rpartition(" ")
    if not fields_text or '"' in time_text or "=" in time_text:
        fields_text, time_text = rest, ""
    parts = fields_text.rstrip(" ").split('"')
    if len(parts) % 2 == 0:
        raise MalformedLine(f"a string is not closed: {_excerpt(line)}")
    fields: dict[str, FieldValue] = {}
    last = len(parts) - 1
    for index in range(0, len(parts), 2):
        outside = parts[index]
        if index:  # after a string: a comma and more fields, or nothing
            if outside and outside[0] != ",":
                raise MalformedLine(f"a field must follow a string after a comma: {_excerpt(line)}")
            outside = outside[1:]
            if not outside and index == last:
                if parts[index]:
                    raise MalformedLine(f"no field after a comma: {_excerpt(line)}")
                break
        pieces = outside.split(",")
        opening = pieces.pop() if index < last else None  # `name=` before the next string
        for piece in pieces:
            name, _, value = piece.partition("=")
            if not name or not value or "=" in value or " " in piece:
                raise MalformedLine(f"invalid field {piece!r}: {_excerpt(line)}")
            fields[name] = _value(value, line)
        if opening is not None:
            name, equals, value = opening.partition("=")
            if not name or not equals or value or " " in name:
                raise MalformedLine(f"invalid field before a string: {_excerpt(line)}")
            fields[name] = parts[index + 1]
    time = _time(time_text, line) if time_text else None
    return Point(series_of(key), fields, time, number)


def _parse_escaped(line: str, number: int) -> Point:
    match = _LINE.fullmatch(line)
    if match is None:
        raise MalformedLine(f"not line protocol (measurement,tags fields time): {_excerpt(line)}")
    fields: dict[str, FieldValue] = {}
    for name, value in _FIELDS.findall(match["fields"]):
        key = _unescape(name)
        if value[0] == '"':
            fields[key] = _UNESCAPE_STRING.sub(r"\1", value[1:-1])
        else:
            fields[key] = _value(value, line)
    time_text = match["time"]
    time = _time(time_text, line) if time_text else None
    return Point(series_of(match["series"]), fields, time, number)


@lru_cache(maxsize=4096)  # a request names the same few series thousands of times
def series_of(key: str) -> Series:
    if "\\" in key:
        match = _SERIES.fullmatch(key)
        if match is None:
            raise MalformedLine(f"invalid measurement or tags: {key[:100]!r}")
        measurement = _UNESCAPE_MEASUREMENT.sub(r"\1", match[1])
        tags = {_unescape(k): _unescape(v) for k, v in _TAG.findall(match[2])}
        return Series(measurement, tags)
    measurement, *pairs = key.split(",")
    if not measurement:
        raise MalformedLine(f"no measurement: {key[:100]!r}")
    tags = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if not name or not value or "=" in value:
            raise MalformedLine(f"invalid tag {pair!r} in {key[:100]!r}")
        tags[name] = value
    return Series(measurement, tags)


def _unescape(text: str) -> str:
    return _UNESCAPE.sub(r"\1", text) if "\\" in text else text


def _value(text: str, line: str) -> FieldValue:
    # str.strip and float() in C, rather than a pattern: float() alone would also take
    # "nan", "inf", "1_000" and " 1", which line protocol does not.
    if not text.strip(_FLOAT_CHARACTERS) and text[0] != "+":
        try:
            value = float(text)
        except ValueError:
            raise MalformedLine(f"invalid number {text!r}: {_excerpt(line)}") from None
        if value - value != 0.0:  # infinite: beyond the range of a float64
            raise MalformedLine(f"number {text!r} is out of range: {_excerpt(line)}")
        return value
    last = text[-1]
    if last == "i" or last == "u":
        digits = text[1:-1] if last == "i" and text[0] == "-" else text[:-1]
        if not (digits.isascii() and digits.isdigit()):
            raise MalformedLine(f"invalid integer {text!r}: {_excerpt(line)}")
        number = int(text[:-1])
        if number >= (INT64 if last == "i" else UINT64) or number < -INT64:
            raise MalformedLine(f"integer {text!r} is out of range: {_excerpt(line)}")
        return number
    boolean = _BOOLEANS.get(text)
    if boolean is None:
        raise MalformedLine(f"invalid field value {text!r}: {_excerpt(line)}")
    return boolean


def _time(text: str, line: str) -> int:
    digits = text[1:] if text[:1] == "-" else text
    if not (digits.isascii() and digits.isdigit()):
        raise MalformedLine(f"invalid timestamp {text!r}: {_excerpt(line)}")
    time = int(text)
    if not -INT64 < time < INT64:
        raise MalformedLine(f"timestamp {text} is out of range: {_excerpt(line)}")
    return time


def _excerpt(line: str) -> str:
    return repr(line if len(line) <= 100 else line[:100] + "...")
