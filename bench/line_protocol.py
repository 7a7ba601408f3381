"""How fast each line-protocol parser reads a body (us/line), on what Home Assistant and
Telegraf send: the measurement behind roomtemp.influx's readers being our own. roomtemp's
figure is the whole of what the server does before validation: the body's bytes to columns of
readings, points that are not temperatures skipped (plain_lines.py reads Telegraf's lines at
once; Home Assistant's, with their quoted strings, go line by line through lineprotocol.py).

The candidate from PyPI, line-protocol-parser (C), parses one line at a time into a dict;
splitting the body into lines is added to its cost, as a server must do it too.
"""

import time
from collections.abc import Callable
from datetime import UTC, datetime

import line_protocol_parser  # type: ignore[import-untyped]
import msgspec

from bench.load import make_batches
from roomtemp.http.schemas import PostedItem
from roomtemp.influx import points
from roomtemp.settings import Settings

NS = 1_000_000_000


def home_assistant_body(lines: int) -> str:
    """What Home Assistant writes: a unit as measurement, attributes as fields, ns times."""
    return "".join(
        f"°C,domain=sensor,entity_id=room_{index % 50}_temperature "
        f'device_class_str="temperature",friendly_name_str="Room {index % 50}",'
        f'state_class_str="measurement",value={20 + index % 70 / 10} '
        f"{1_700_000_000 * NS + index * NS}\n"
        for index in range(lines)
    )


def telegraf_body(lines: int) -> str:
    """What Telegraf writes: plain tags and one float field, whole seconds in ns."""
    return "".join(
        f"temperature,host=pi-{index % 10},room=room-{index % 50} "
        f"value={20 + index % 70 / 10} {1_700_000_000 * NS + index * NS}\n"
        for index in range(lines)
    )


def _library(body: str) -> list[dict[str, object]]:
    return [line_protocol_parser.parse_line(line) for line in body.splitlines() if line]


def _readings(body: str) -> points.Batch:
    rules = points.Rules.from_settings(Settings(database_url="memory://"))
    return points.read(body.encode(), rules, points.PRECISIONS_V1["ns"], datetime.now(UTC))


def _best_of_three(parse: Callable[[str], object], body: str) -> float:
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        parse(body)
        best = min(best, time.perf_counter() - began)
    return best


def compare(lines: int = 100_000) -> dict[str, float]:
    """us per line for each parser and body, and msgspec reading a JSON batch of as many
    measurements (the native batch path's parser) for reference."""
    timings: dict[str, float] = {}
    for label, body in (
        ("home assistant", home_assistant_body(lines)),
        ("telegraf", telegraf_body(lines)),
    ):
        ours, library = _readings(body), _library(body)
        assert len(ours.readings) == len(library) == lines  # the same points, before any timing
        timings[f"roomtemp ({label})"] = _best_of_three(_readings, body) / lines * 1e6
        timings[f"line-protocol-parser ({label})"] = _best_of_three(_library, body) / lines * 1e6
    json_body = make_batches("parse", lines, lines).bodies[0]
    decoder = msgspec.json.Decoder(list[PostedItem])
    timings["msgspec JSON batch (reference)"] = (
        _best_of_three(lambda _: decoder.decode(json_body), "") / lines * 1e6
    )
    return timings


if __name__ == "__main__":
    for name, microseconds in compare().items():
        print(f"{name:45} {microseconds:6.2f} us/line")
