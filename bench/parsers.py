"""How fast each candidate reads and type-checks a batch of 100,000 measurements (us/item):
the measurement behind reading bodies with msgspec."""

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec
import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from bench.load import make_batches
from roomtemp.http.schemas import PostedItem


class PydanticItem(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    room_id: str = Field(min_length=1, max_length=128)
    v: float = Field(allow_inf_nan=False)
    u: str = "K"
    ts: datetime | None = None


def _orjson_and_a_loop(body: bytes) -> list[tuple[Any, ...]]:
    items = []
    for item in orjson.loads(body):
        ts = item.get("ts")
        items.append(
            (item["room_id"], item["v"], item.get("u", "K"), ts and datetime.fromisoformat(ts))
        )
    return items


def compare(items: int = 100_000) -> dict[str, float]:
    body = make_batches("parse", items, items).bodies[0]
    candidates: dict[str, Callable[[bytes], object]] = {
        "msgspec (typed)": msgspec.json.Decoder(list[PostedItem]).decode,
        "pydantic-core TypeAdapter": TypeAdapter(list[PydanticItem]).validate_json,
        "orjson + Python loop": _orjson_and_a_loop,
    }
    timings = {}
    for name, parse in candidates.items():
        best = float("inf")
        for _ in range(3):
            began = time.perf_counter()
            parse(body)
            best = min(best, time.perf_counter() - began)
        timings[name] = best / items * 1e6
    return timings
