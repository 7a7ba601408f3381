"""InfluxQL statements as roomtemp reads them: what parser.py makes and reads.py answers."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

FUNCTIONS = frozenset({"mean", "min", "max", "count", "first", "last", "sum"})


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
