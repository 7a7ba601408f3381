"""What answering a statement needs: the store, the point rules, the time, the horizon."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from roomtemp import queries
from roomtemp.influx.influxql import Rooms
from roomtemp.influx.points import Rules
from roomtemp.storage.base import MeasurementStore


@dataclass(frozen=True, slots=True)
class Context:
    store: MeasurementStore
    rules: Rules
    now: datetime
    raw_from: datetime | None  # the raw retention horizon


async def rooms_of(rooms: Rooms, context: Context) -> list[str]:
    """The rooms a WHERE clause selects: the one it names, or those of every room that pass."""
    if rooms.exact is not None:
        return [rooms.exact]
    return [room for room in await queries.room_ids(context.store) if rooms.test(room)]


def page(rows: list[Any], limit: int | None, skip: int) -> list[Any]:
    return rows[skip : None if limit is None else skip + limit]
