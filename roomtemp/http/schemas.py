"""Wire models: the JSON that crosses HTTP, with single-letter names where the API has them.

Bodies are read with msgspec: strict by default (a number must be a JSON number, not "20" nor
true; a ts must be RFC 3339 text, not 1700000000, which would be a guess between seconds and
milliseconds), and measured at 0.25 µs per batch item against pydantic's 1.8-3 µs. Answers are
pydantic models, which FastAPI serialises and documents by itself.

Names: a body a client sends is Posted*; an answer is named for
what it holds (StoredMeasurement, Average, Series, RoomSummary, Page of Readings), never *In or
*Out.
"""

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from roomtemp.domain.measurements import MAX_ROOM_ID_LENGTH, ROOM_ID_PATTERN
from roomtemp.domain.units import Unit

UNIT_DESCRIPTION = "K (kelvin), C (Celsius) or F (Fahrenheit), case-insensitive"


class PostedMeasurement(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """One measurement as posted to /measurements/{room_id}."""

    v: Annotated[
        float,
        msgspec.Meta(
            description="the temperature: a JSON number, not below absolute zero",
            examples=[293.4],
        ),
    ]
    u: Annotated[
        Literal["K", "C", "F", "k", "c", "f"], msgspec.Meta(description=UNIT_DESCRIPTION)
    ] = "K"
    # Text, parsed by ingestion: msgspec would round a ts of more than six fractional digits.
    ts: (
        Annotated[
            str,
            msgspec.Meta(
                description="RFC 3339; without a timezone it means UTC; absent means now",
                examples=["2026-11-27T14:00:00Z"],
                extra_json_schema={"format": "date-time"},
            ),
        ]
        | None
    ) = None


class PostedItem(PostedMeasurement, kw_only=True, forbid_unknown_fields=True, gc=False):
    """One measurement of a batch: the same, with its room, and its ts as text: a batch's
    timestamps are read all at once (domain/rfc3339.py)."""

    # Text, like the single endpoint's.
    ts: (
        Annotated[
            str,
            msgspec.Meta(
                description="RFC 3339; without a timezone it means UTC; absent means now",
                examples=["2026-11-27T14:00:00Z"],
                extra_json_schema={"format": "date-time"},
            ),
        ]
        | None
    ) = None

    room_id: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=MAX_ROOM_ID_LENGTH,
            description="any Unicode text without control characters",
            examples=["Living room"],
            # Documented, not checked here: ingestion checks room ids (once per distinct id),
            # and msgspec's check cost 0.35 of the 0.58 us a batch item takes to read.
            extra_json_schema={"pattern": ROOM_ID_PATTERN},
        ),
    ]


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


# The `unit` query parameter, read by FastAPI (pydantic).
UnitParameter = Annotated[
    Unit,
    BeforeValidator(_upper),
    WithJsonSchema({"type": "string", "enum": ["K", "C", "F", "k", "c", "f"]}),
    Field(description=UNIT_DESCRIPTION),
]


class StoredMeasurement(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"room_id": "Living room", "v": 21.5, "u": "C", "ts": "2026-11-27T14:00:00Z"}
            ]
        }
    )

    room_id: str
    v: float
    u: Unit
    ts: datetime


class Average(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "v": 21.25,
                    "u": "C",
                    "ts": "2026-11-27T13:46:00Z",
                    "count": 4,
                    "min": 20.5,
                    "max": 22.0,
                    "start": "2026-11-27T13:45:00Z",
                    "end": "2026-11-27T14:00:00Z",
                    "exact": True,
                }
            ]
        }
    )

    v: float = Field(description="the arithmetic mean of the measurements in the window")
    u: Unit
    ts: datetime = Field(description="the earliest measurement in the window")
    count: int = Field(ge=1)
    min: float
    max: float
    start: datetime = Field(description="the window's start: end - duration")
    end: datetime
    exact: bool = Field(
        description="false when raw measurements before the retention horizon are gone and the"
        " window's edge there was widened to whole hours (start and end then say so)"
    )


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class Readiness(Health):
    mqtt: Literal["connected", "disconnected"] | None = Field(
        None, description="with ROOMTEMP_MQTT_URL: whether the broker is connected"
    )


class FieldError(BaseModel):
    detail: str
    pointer: str | None = Field(None, description="JSON pointer into the body, e.g. #/v")
    parameter: str | None = Field(None, description="the path or query parameter at fault")
    code: str | None = Field(
        None, description="for a measurement's field: invalid_measurement or before_retention"
    )


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, as every error is answered."""

    type: str = Field(examples=["/problems/conflict"])
    title: str = Field(examples=["Conflict"])
    status: int = Field(examples=[409])
    detail: str
    code: str = Field(description="stable, for programs", examples=["conflict"])
    errors: list[FieldError] | None = None


class BatchResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"received": 5000, "stored": 4998, "duplicates": 2}]}
    )

    received: int = Field(description="items in the batch")
    stored: int = Field(description="new measurements stored")
    duplicates: int = Field(description="items already stored (or repeated) with the same value")


class Point(BaseModel):
    ts: datetime = Field(description="the bucket's start")
    v: float = Field(description="the mean of the bucket's measurements")
    min: float
    max: float
    count: int = Field(ge=1)


class Series(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "room_id": "Living room",
                    "u": "C",
                    "bucket": "PT1H",
                    "start": "2026-11-20T14:00:00Z",
                    "end": "2026-11-27T14:00:00Z",
                    "exact": True,
                    "points": [
                        {
                            "ts": "2026-11-20T14:00:00Z",
                            "v": 21.2,
                            "min": 20.9,
                            "max": 21.6,
                            "count": 60,
                        }
                    ],
                }
            ]
        }
    )

    room_id: str
    u: Unit
    bucket: str = Field(description="the bucket size, as asked")
    start: datetime
    end: datetime
    exact: bool = Field(
        description="false when buckets before the retention horizon took in whole hours"
    )
    points: list[Point] = Field(description="one per non-empty bucket, in time order")


class WindowSummary(BaseModel):
    v: float = Field(description="the mean")
    min: float
    max: float
    count: int


class RoomSummary(BaseModel):
    room_id: str
    count: int = Field(description="measurements ever stored")
    first_ts: datetime
    last_ts: datetime
    last_v: float = Field(description="the value at last_ts")
    u: Unit
    window: WindowSummary | None = Field(
        default=None,
        description="with ?window= only: the room over that last duration (null: nothing then)",
    )


class Reading(BaseModel):
    ts: datetime
    v: float
    u: Unit


class Page(BaseModel):
    items: list[Reading]
    next: str | None = Field(description="the cursor of the next page; null on the last one")
