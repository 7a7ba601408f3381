"""Where the items of a JSON array begin and end, found without decoding them.

A batch whose items cannot be counted more cheaply is counted before a single item is
decoded, so that a body of four million `1,` is a 413 at the cost of a scan, not of four
million Python objects (1.9 GB, 14 s, seen); and the items of a batch that fails are decoded
a slice at a time, to explain the first failing ones. The scan reads the body 256 KiB at a
time, as arrays: it finds the quotes that open and close strings (a quote escaped by an odd
number of backslashes does not), and outside strings the depth of brackets, whose commas at
depth 1 separate the items.
"""

import re

import numpy as np
import numpy.typing as npt

SCAN_BYTES = 1 << 18
_WHITESPACE = re.compile(rb"[ \t\r\n]*")
_QUOTE, _BACKSLASH, _COMMA = ord('"'), ord("\\"), ord(",")
_OPENING, _CLOSING = (ord("["), ord("{")), (ord("]"), ord("}"))


class TooManyItems(Exception):
    """The array holds more items than allowed."""


def item_bounds(body: bytearray, max_items: int) -> npt.NDArray[np.intp] | None:
    """Where the items of the JSON array `body` are: item i is body[bounds[i] + 1 : bounds[i +
    1]] (bounds are the opening bracket, the commas between items and the closing bracket);
    None if `body` is not a complete array (the decoder will say why); TooManyItems beyond
    max_items, as soon as it is known."""
    start = _WHITESPACE.match(body).end()  # type: ignore[union-attr]  # matches any text
    if start == len(body) or body[start] != _OPENING[0]:
        return None
    scan = _Scan()
    data = np.frombuffer(body, np.uint8)
    found = [np.array([start])]
    items = 0
    for offset in range(start, len(body), SCAN_BYTES):
        commas, closed = scan.chunk(data[offset : offset + SCAN_BYTES])
        found.append(commas + offset)
        items += len(commas)
        if items >= max_items:
            raise TooManyItems
        if closed is not None:
            end = offset + closed
            if not _WHITESPACE.fullmatch(body, end + 1):
                return None
            if not items and _WHITESPACE.fullmatch(body, start + 1, end):
                return np.array([start])  # []
            found.append(np.array([end]))
            return np.concatenate(found)
    return None


class _Scan:
    """What carries over from one chunk to the next."""

    def __init__(self) -> None:
        self.in_string = 0
        self.backslashes = 0  # at the end of the chunk before
        self.depth = 0

    def chunk(self, data: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.intp], int | None]:
        """The positions of the item-separating commas in `data`, and of the bracket that
        closes the array, if it is there."""
        toggles = np.zeros(len(data), np.uint8)
        toggles[self._quotes(data)] = 1
        inside = np.bitwise_xor.accumulate(toggles) ^ np.uint8(self.in_string)
        self.in_string = int(inside[-1])
        outside = inside == 0
        opening = ((data == _OPENING[0]) | (data == _OPENING[1])) & outside
        closing = ((data == _CLOSING[0]) | (data == _CLOSING[1])) & outside
        depth = self.depth + np.cumsum(opening.astype(np.int32) - closing, dtype=np.int32)
        self.depth = int(depth[-1])
        commas = np.flatnonzero((data == _COMMA) & outside & (depth == 1))
        closed = np.flatnonzero(closing & (depth == 0))
        if not closed.size:
            return commas, None
        return commas[commas < closed[0]], int(closed[0])

    def _quotes(self, data: npt.NDArray[np.uint8]) -> npt.NDArray[np.intp]:
        """Positions of the quotes that open or close a string: those after an even number
        of backslashes."""
        quotes = np.flatnonzero(data == _QUOTE)
        others = np.flatnonzero(data != _BACKSLASH)
        before = np.searchsorted(others, quotes) - 1  # the character before the backslashes
        previous = np.where(before >= 0, others[np.maximum(before, 0)], -1)
        backslashes = quotes - 1 - previous + np.where(before < 0, self.backslashes, 0)
        last = int(others[-1]) if others.size else -1
        self.backslashes = len(data) - 1 - last + (self.backslashes if last < 0 else 0)
        real: npt.NDArray[np.intp] = quotes[backslashes % 2 == 0]
        return real
