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
    data = np.frombuffer(body, np.uint8)
    starts = _word_starts(data, width)
    if starts is None:
        return None
    words = body.replace(b"\n", b" ").split(b" ")
    fields = words[1::width]
    prefix = _prefix(fields, lines)
    if prefix is None:
        return None
    values = _decimals(data, starts[1::width] + len(prefix), starts[2::width] - 1)
    times = None
    if width == 3:
        times = _times(words[2::3], starts[2::3], starts[3::3], data)
        if times is None:
            return None
    keys = dict.fromkeys(words[0::width])
    if values is None or any(key.startswith(b"#") for key in keys):  # (a comment)
        return None
    try:
        names = [key.decode() for key in keys]
    except UnicodeDecodeError:
        return None
    codes = {key: code for code, key in enumerate(keys)}
    series = np.fromiter(map(codes.__getitem__, words[0::width]), np.int32, lines)
    return PlainLines(names, series, prefix[:-1].decode(), values, times)


def _word_starts(data: npt.NDArray[np.uint8], width: int) -> npt.NDArray[np.intp] | None:
    """Where each word starts, and where the body ends (+1), if every line has exactly
    `width` words and none is empty. The counts of spaces and newlines are right (read()
    checked them), so it is enough that every `width`-th separator is a newline: counts alone
    would let a line short of a word and one with a word too many pass together."""
    separators = np.flatnonzero((data == ord(" ")) | (data == ord("\n")))
    if not (data[separators[width - 1 :: width]] == ord("\n")).all():
        return None
    starts = np.concatenate(([0], separators + 1, [len(data) + 1]))
    if (np.diff(starts) < 2).any():  # an empty word: two separators in a row
        return None
    return starts


def _prefix(fields: list[bytes], lines: int) -> bytes | None:
    """`name=`, if every field is that name and a number in line protocol's spelling (digits,
    `.`, `-`, `e`: no `+` sign, no `i`/`u`, no `nan`/`inf`, no `=` or `,` in it)."""
    equals = fields[0].find(b"=")
    if equals <= 0:
        return None
    prefix = fields[0][: equals + 1]
    joined = b"\n" + b"\n".join(fields)  # each field after a newline, which none holds
    if (
        joined.count(b"\n" + prefix) != lines
        or joined.count(b"=") != lines
        or b"," in joined
        or b"\n" + prefix + b"+" in joined
        or joined.replace(b"\n" + prefix, b"").strip(_NUMBER_CHARACTERS)
    ):
        return None
    return prefix


def _decimals(
    data: npt.NDArray[np.uint8], starts: npt.NDArray[np.intp], ends: npt.NDArray[np.intp]
) -> npt.NDArray[np.float64] | None:
    """The number between each start and end, as float() reads it. Plain decimals of up to
    15 digits (nearly all) are read as matrices of digits, a length at a time: the digits as
    an integer m, exactly a float, over 10**k, exactly one too; IEEE division then rounds
    m / 10**k correctly, which is what float() returns. Others go through float()."""
    lengths = ends - starts
    values = np.empty(len(starts), np.float64)
    by_float = np.zeros(len(starts), np.bool_)
    for length in np.unique(lengths).tolist():
        rows = np.flatnonzero(lengths == length)
        text = data[starts[rows][:, None] + np.arange(length)]
        values[rows], read = _plain_decimals(text)
        by_float[rows] = ~read
    try:
        for index in np.flatnonzero(by_float).tolist():
            values[index] = float(data[starts[index] : ends[index]].tobytes())
    except ValueError:
        return None
    if not np.isfinite(values).all():  # out of a float64's range: refused, by the parser
        return None
    return values


def _plain_decimals(
    text: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Rows of characters, all of one length: each as a decimal `[-]digits[.digits]` with up
    to 15 digits, and whether it is one."""
    if not text.shape[1]:  # nothing after `=`: float() refuses it
        return np.zeros(len(text)), np.zeros(len(text), np.bool_)
    digit = text - np.uint8(ord("0"))  # wraps below `0`: not a digit
    is_digit = digit < 10
    is_dot = text == ord(".")
    negative = text[:, 0] == ord("-")
    counted = is_digit.sum(axis=1)
    dots = is_dot.sum(axis=1)
    ok = (is_digit | is_dot).sum(axis=1) + negative == text.shape[1]
    ok &= (dots <= 1) & (counted >= 1) & (counted <= 15)
    mantissa = np.zeros(len(text), np.int64)
    for column in range(text.shape[1]):
        mantissa = np.where(is_digit[:, column], mantissa * 10 + digit[:, column], mantissa)
    after_dot = np.where(dots == 1, text.shape[1] - 1 - np.argmax(is_dot, axis=1), 0)
    value = mantissa / 10.0**after_dot
    return np.where(negative, -value, value), ok


def _times(
    texts: list[bytes],
    starts: npt.NDArray[np.intp],
    ends: npt.NDArray[np.intp],
    data: npt.NDArray[np.uint8],
) -> npt.NDArray[np.int64] | None:
    """Unsigned integers (a sign: the general parser's case) within int64. Of one length, as
    nearly always, read as a matrix of digits, a column at a time (a tenth of int()'s cost)."""
    if b"".join(texts).strip(_DIGITS):
        return None
    lengths = ends - starts - 1
    length = int(lengths[0])
    if length > 19 or not (lengths == length).all():  # (a 19-digit number fits in uint64)
        try:
            return np.fromiter(map(int, texts), np.int64, len(texts))
        except OverflowError:
            return None
    digits = data[starts[:, None] + np.arange(length)] - np.uint8(ord("0"))
    times = np.zeros(len(texts), np.uint64)
    for column in digits.T:
        times = times * np.uint64(10) + column
    if (times > np.iinfo(np.int64).max).any():
        return None
    return times.astype(np.int64)
