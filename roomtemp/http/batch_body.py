"""Reading a batch body into columns, at a cost bounded by the body whatever it holds.

Items are counted before they are decoded: a JSON array holds at most as many objects as `{`
bytes, and NDJSON as many items as lines. A body within the limit is cut into pieces of ~256
KiB at guessed item boundaries and decoded, in C, a piece at a time, the event loop served in
between (single writes waited ~100 ms behind a 100,000-item batch read at once). A body that
fails to decode so, or whose count is in doubt, has its items found by a scan (json_items.py)
or line by line, and decoded until the first 100 failing ones are known.
"""

import asyncio
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import msgspec
import numpy as np
import numpy.typing as npt
from fastapi import Request

from roomtemp.domain import rfc3339
from roomtemp.domain.columns import UNIT_CODES, Readings, to_micros
from roomtemp.domain.measurements import InvalidTimestamp, TimestampOutOfRange, parse_ts
from roomtemp.http.json_body import (
    NDJSON,
    NOT_JSON,
    is_json,
    malformed,
    media_type,
    message_and_path,
    read_body,
    unsupported,
)
from roomtemp.http.json_items import TooManyItems, item_bounds
from roomtemp.http.problems import MAX_LISTED_ERRORS, Problem
from roomtemp.http.schemas import PostedItem

# Between two turns of the event loop: bytes of a valid body decoded and turned into columns
# (~1 ms), or items decoded one by one in a body that fails.
PIECE_BYTES = 256 * 1024
SLICE = 5_000
_ITEMS = msgspec.json.Decoder(list[PostedItem])
_ITEM = msgspec.json.Decoder(PostedItem)
_BLANK = re.compile(rb"[ \t\r]*")
_WHITESPACE = re.compile(rb"[ \t\r\n]*")
T = TypeVar("T")


async def read_batch(request: Request, max_bytes: int, max_items: int, now: datetime) -> Readings:
    """A JSON array or NDJSON lines of measurements as columns (a missing ts is `now`): 413
    beyond the limits, 400 for what is not JSON, 422 listing up to 100 failing items."""
    media = media_type(request)
    if media != NDJSON and not is_json(media):
        raise unsupported(request, f"application/json (an array) or {NDJSON}")
    body = await read_body(request, max_bytes)
    too_many = Problem(413, "batch_too_large", f"a batch holds at most {max_items} measurements")
    # Each piece becomes columns as soon as it is decoded: decoded whole first, a batch of
    # 100,000 held ~21 MB of items at once (tracemalloc), most of a worker's peak beside others.
    into_columns = _Part.of(to_micros(now))
    try:
        if media == NDJSON:
            parts = await _decode_lines(body, max_items, into_columns)
        else:
            parts = await _decode_array(body, max_items, into_columns)
    except TooManyItems:
        raise too_many from None
    if sum(len(part.readings) for part in parts) > max_items:
        raise too_many
    return _joined(parts)


async def _in_pieces(
    body: bytearray, cuts: list[int], decode: Callable[[memoryview], T]
) -> list[T] | None:
    """The items between each cut and the next (both left out), a piece at a time; None if a
    piece fails."""
    view = memoryview(body)
    pieces = []
    for start, end in itertools.pairwise(cuts):
        try:
            pieces.append(decode(view[start + 1 : end]))
        except (msgspec.DecodeError, *NOT_JSON):
            return None
        await asyncio.sleep(0)
    return pieces


def _array_cuts(body: bytearray) -> list[int] | None:
    """Where to cut a JSON array of objects into pieces of about PIECE_BYTES, each of whole
    items: at a `,` after a `}`, guessed without reading the body (and at its brackets). A
    guess inside a string leaves that string open in its piece, and a guess inside an item
    leaves a bracket open: the piece then fails to decode, and the body is read whole."""
    start = _WHITESPACE.match(body).end()  # type: ignore[union-attr]  # matches any text
    end = len(body)
    while end > start and body[end - 1] in b" \t\r\n" and len(body) - end < 16:
        end -= 1  # (a body with more whitespace at its end is read whole)
    if start >= end or body[start] != ord("[") or body[end - 1] != ord("]"):
        return None
    cuts = [start]
    while (cut := body.find(b"},", cuts[-1] + PIECE_BYTES, end)) >= 0:
        cuts.append(cut + 1)
    return [*cuts, end - 1]


def _array_piece(view: memoryview) -> list[PostedItem]:
    items = _ITEMS.decode(b"".join((b"[", view, b"]")))
    if not items:  # nothing between two cuts: a trailing comma, which JSON does not allow
        raise msgspec.DecodeError("an empty piece")
    return items


async def _decode_array(
    body: bytearray, max_items: int, then: Callable[[list[PostedItem]], T]
) -> list[T]:
    """`then` of each piece's items, in order."""
    if body.count(b"{") <= max_items:  # then the decoder allocates at most max_items items
        cuts = _array_cuts(body)
        if cuts is not None and len(cuts) > 2:  # (in one piece: read whole, `[]` included)
            pieces = await _in_pieces(body, cuts, lambda view: then(_array_piece(view)))
            if pieces is not None:
                return pieces
        try:
            return [then(_ITEMS.decode(body))]
        except msgspec.ValidationError as error:  # (a subclass of DecodeError: caught first)
            first = _index_of(error)
        except NOT_JSON as error:
            raise malformed(error) from None
    else:
        first = 0
    bounds = item_bounds(body, max_items)
    if bounds is None:  # not a whole array: the decoder says why
        try:
            _ITEMS.decode(body)
        except msgspec.ValidationError:
            raise invalid_items([], "a batch is a JSON array of measurements") from None
        except NOT_JSON as error:
            raise malformed(error) from None
    assert bounds is not None  # the decoder finds a fault wherever the scan does
    return [then(await _decode_slices(body, bounds, first))]


async def _decode_slices(
    body: bytearray, bounds: npt.NDArray[np.intp], first: int
) -> list[PostedItem]:
    """Items decoded a slice at a time, from `first` on; 422 lists the first failing ones."""
    view = memoryview(body)
    items: list[PostedItem] = []
    errors: list[dict[str, Any]] = []
    start, count = first, len(bounds) - 1
    while start < count and len(errors) < MAX_LISTED_ERRORS:
        end = min(start + SLICE, count)
        piece = b"".join((b"[", view[bounds[start] + 1 : bounds[end]], b"]"))
        try:
            items += _ITEMS.decode(piece)
            start = end
        except msgspec.ValidationError as error:
            failing = start + _index_of(error)
            errors.append(_error(error, failing, within_list=True))
            start = failing + 1
        except NOT_JSON:
            _find_malformed(view, bounds, start, end)
        await asyncio.sleep(0)
    if errors:
        raise invalid_items(errors, more=start < count)
    return items


def _find_malformed(view: memoryview, bounds: npt.NDArray[np.intp], start: int, end: int) -> None:
    for index in range(start, end):
        try:
            _ITEM.decode(view[bounds[index] + 1 : bounds[index + 1]])
        except msgspec.ValidationError:
            continue
        except NOT_JSON as error:
            raise malformed(error, f" in item {index}") from None
    raise AssertionError("a slice that is not JSON holds an item that is not")


async def _decode_lines(
    body: bytearray, max_items: int, then: Callable[[list[PostedItem]], T]
) -> list[T]:
    """`then` of each piece's items, in order."""
    if body.count(b"\n") >= max_items and _content_lines(body, max_items + 1) > max_items:
        raise TooManyItems
    cuts = [-1]
    while (cut := body.find(b"\n", cuts[-1] + PIECE_BYTES)) >= 0:
        cuts.append(cut)
    pieces = await _in_pieces(body, [*cuts, len(body)], lambda view: then(_ITEM.decode_lines(view)))
    if pieces is not None:
        return pieces
    # Line by line, only for a body that fails: to name the lines, and the first failing ones.
    errors: list[dict[str, Any]] = []
    for index, (number, line) in enumerate(_lines(body)):
        try:
            _ITEM.decode(line)
        except msgspec.ValidationError as error:
            errors.append({**_error(error, index), "line": number})
            if len(errors) == MAX_LISTED_ERRORS:
                raise invalid_items(errors, more=True) from None
        except NOT_JSON as error:
            raise malformed(error, f" on line {number}") from None
        if index % SLICE == 0:
            await asyncio.sleep(0)
    raise invalid_items(errors)


def _line_spans(body: bytearray) -> Iterator[tuple[int, int, int]]:
    """(number, start, end) of each line that is not blank."""
    start = number = 0
    while start < len(body):
        end = body.find(b"\n", start)
        end = len(body) if end < 0 else end
        number += 1
        if not _BLANK.fullmatch(body, start, end):
            yield number, start, end
        start = end + 1


def _lines(body: bytearray) -> Iterator[tuple[int, bytearray]]:
    """(number, text) of each line that is not blank."""
    for number, start, end in _line_spans(body):
        yield number, body[start:end]


def _content_lines(body: bytearray, stop: int) -> int:
    """How many lines are not blank, up to `stop`, counted without making a line of any."""
    return sum(1 for _ in itertools.islice(_line_spans(body), stop))


@dataclass(frozen=True, slots=True)
class _Part:
    """A piece's items as columns, and what its texts that are not RFC 3339 timestamps say
    (the first 100: (index within the piece, why))."""

    readings: Readings
    bad_ts: list[tuple[int, str]]

    @classmethod
    def of(cls, now: int) -> Callable[[list[PostedItem]], "_Part"]:
        """Items as columns; a missing ts is `now`."""

        def part(items: list[PostedItem]) -> _Part:
            micros, read = rfc3339.read_all([item.ts or "" for item in items])
            bad_ts = []
            for index in np.flatnonzero(~read).tolist():  # none, or a few, in most batches
                text = items[index].ts
                try:
                    micros[index] = now if text is None else to_micros(parse_ts(text))
                except (InvalidTimestamp, TimestampOutOfRange) as error:  # never rounded
                    bad_ts.append((index, str(error)))
                    if len(bad_ts) == MAX_LISTED_ERRORS:
                        break
            readings = Readings.of(
                [item.room_id for item in items],
                np.array([item.v for item in items], np.float64),
                np.array([UNIT_CODES[item.u] for item in items], np.uint8),
                micros,
            )
            return cls(readings, bad_ts)

        return part


def _joined(parts: list[_Part]) -> Readings:
    """The parts as one; 422 names the items whose ts is refused (the first 100)."""
    errors: list[dict[str, Any]] = []
    first = 0
    for part in parts:
        for index, detail in part.bad_ts:
            where = first + index
            errors.append({"index": where, "pointer": f"#/{where}/ts", "detail": detail})
        if len(errors) >= MAX_LISTED_ERRORS:
            raise invalid_items(errors[:MAX_LISTED_ERRORS], more=True)
        first += len(part.readings)
    if errors:
        raise invalid_items(errors)
    return Readings.joined([part.readings for part in parts])


def _index_of(error: msgspec.ValidationError) -> int:
    """The index of the failing item in a list that failed; 0 where the list is at fault."""
    _, path = message_and_path(error)
    return path[0] if path and isinstance(path[0], int) else 0


def _error(error: msgspec.ValidationError, index: int, within_list: bool = False) -> dict[str, Any]:
    """msgspec's error about item `index` (of a list that failed, or alone) as an RFC 9457
    field problem with a JSON pointer."""
    message, path = message_and_path(error)
    pointer = [index, *(path[1:] if within_list else path)]
    return {"index": index, "pointer": "#/" + "/".join(map(str, pointer)), "detail": message}


def invalid_items(errors: list[dict[str, Any]], detail: str = "", more: bool = False) -> Problem:
    listed = errors[:MAX_LISTED_ERRORS]
    count = f"at least {len(listed)}" if more else str(len(errors))
    return Problem(
        422,
        "invalid_measurement",
        detail or f"{count} items are invalid (the first are listed); nothing was stored",
        listed,
    )
