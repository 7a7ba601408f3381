"""A body of plain lines read as columns at once, the way Telegraf and most scripts write:
every line `series field=number time` (or every line without its time), one field each, no
escape, no quoted string, no comment, no blank line between. Anything else is left to the
general parser (lineprotocol.parse), line by line.

The body is split by bytes methods and each column converted by one `map` in C, or by numpy:
0.5-0.8 us a line, against 3.7 for the general parser's loop (bench/line_protocol.py). What
Python does once a line, it does inside C; once a series, it reads the series key with the
general parser.
"""

from dataclasses import dataclass
from itertools import repeat

import numpy as np
import numpy.typing as npt

_NUMBER_CHARACTERS = b"0123456789.-+eE"
_DIGITS = b"0123456789"
# Each found by memchr, at memory speed. Blank lines and extra spaces make empty words, which
# _aligned() refuses; comments, a series key starting with `#`.
_NOT_PLAIN = (b"\\", b'"', b"\r")


@dataclass(frozen=True, slots=True)
class PlainLines:
    """Line i is series keys[series[i]], field `field` = values[i], at times[i] (in the
    request's precision; None: no line has a time)."""

    keys: list[str]  # each series once
    series: npt.NDArray[np.int32]
    field: str
    values: npt.NDArray[np.float64]
    times: npt.NDArray[np.int64] | None

    def __len__(self) -> int:
        return len(self.series)


def read(body: bytes | bytearray) -> PlainLines | None:
    """The body's lines as columns, or None if any line is not plain (or not valid: the
    general parser then says which and why)."""
    body = bytes(body).rstrip(b"\n")
    if not body or any(part in body for part in _NOT_PLAIN):
        return None
    lines = body.count(b"\n") + 1
    spaces = body.count(b" ")
    if spaces not in (lines, 2 * lines):
        return None
    width = spaces // lines + 1  # words a line: series, fields[, time]
    words = body.replace(b"\n", b" ").split(b" ")
    lengths = _aligned(body, words, width)
    if lengths is None:
        return None
    fields = words[1::width]
    values_text = _values(fields, lines)
    if values_text is None:
        return None
    times = None
    if width == 3:
        times = _times(words[2::3], lengths[2::3])
        if times is None:
            return None
    keys = dict.fromkeys(words[0::width])
    if any(key.startswith(b"#") for key in keys):  # a comment
        return None
    try:
        values = np.fromiter(map(float, values_text), np.float64, lines)
        names = [key.decode() for key in keys]
        field = fields[0][: fields[0].index(b"=")].decode()
    except ValueError:  # (UnicodeDecodeError is one)
        return None
    if not np.isfinite(values).all():  # out of a float64's range: refused, by the parser
        return None
    codes = {key: code for code, key in enumerate(keys)}
    series = np.fromiter(map(codes.__getitem__, words[0::width]), np.int32, lines)
    return PlainLines(names, series, field, values, times)


def _aligned(body: bytes, words: list[bytes], width: int) -> npt.NDArray[np.int64] | None:
    """The length of each word, if every line has exactly `width` words, none empty: the
    separator after each `width`-th word is the newline ending its line (counts alone would
    let a line short of a word and one with a word too many pass together)."""
    if len(words) % width:
        return None
    lengths = np.fromiter(map(len, words), np.int64, len(words))
    if not lengths.all():
        return None
    separators = np.cumsum(lengths + 1) - 1  # where each word's separator is
    newlines = np.flatnonzero(np.frombuffer(body, np.uint8) == ord("\n"))
    if not np.array_equal(separators[width - 1 :: width][:-1], newlines):
        return None
    return lengths


def _times(texts: list[bytes], lengths: npt.NDArray[np.int64]) -> npt.NDArray[np.int64] | None:
    """Unsigned integers (a sign: the general parser's case) within int64. Of one length, as
    nearly always, read as a matrix of digits, a column at a time (a tenth of int()'s cost)."""
    joined = b"".join(texts)
    if joined.strip(_DIGITS):
        return None
    length = int(lengths[0])
    if length > 19 or not (lengths == length).all():  # (a 19-digit number fits in uint64)
        try:
            return np.fromiter(map(int, texts), np.int64, len(texts))
        except OverflowError:
            return None
    digits = (np.frombuffer(joined, np.uint8) - ord("0")).reshape(len(texts), length)
    times = np.zeros(len(texts), np.uint64)
    for column in digits.T:
        times = times * np.uint64(10) + column
    if (times > np.iinfo(np.int64).max).any():
        return None
    return times.astype(np.int64)


def _values(fields: list[bytes], lines: int) -> list[bytes] | None:
    """The number of each line's one field, if every line names the same field and gives it
    a float in line protocol's spelling (no sign `+`, no `i`/`u`, no `nan`/`inf`)."""
    first = fields[0]
    equals = first.find(b"=")
    if equals <= 0:
        return None
    prefix = first[: equals + 1]
    joined = b"".join(fields)
    if (
        joined.count(b"=") != lines
        or b"," in joined
        or b"=+" in joined
        or not all(map(bytes.startswith, fields, repeat(prefix)))
    ):
        return None
    values = joined.split(prefix)[1:]  # (no value holds a `=`)
    if b"".join(values).strip(_NUMBER_CHARACTERS):
        return None
    return values
