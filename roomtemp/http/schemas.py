"""Wire models: the JSON that crosses HTTP, with single-letter names where the API has them."""

import re
from datetime import datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    TypeAdapter,
    WithJsonSchema,
)

from roomtemp.domain.units import Unit


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


UnitField = Annotated[
    Unit,
    BeforeValidator(_upper),
    WithJsonSchema({"type": "string", "enum": ["K", "C", "F", "k", "c", "f"]}),
    Field(description="K (kelvin), C (Celsius) or F (Fahrenheit), case-insensitive"),
]


_RFC3339_START = re.compile(r"\d{4}-\d{2}-\d{2}")


def _rfc3339_text_only(value: object) -> object:
    # A number would be read as seconds since the epoch (or milliseconds, if large): a guess
    # about the sender's meaning. So would a string of digits. Both are refused.
    if not isinstance(value, str | datetime) or (
        isinstance(value, str) and not _RFC3339_START.match(value)
    ):
        raise ValueError("a timestamp must be an RFC 3339 string, such as 2026-11-27T14:00:00Z")
    return value


# Strict(False): after the check above, the text is parsed as pydantic parses datetimes. (In
# strict mode a before-validator would leave it a Python str, which strict mode refuses.)
Timestamp = Annotated[
    datetime,
    BeforeValidator(_rfc3339_text_only),
    Strict(False),
    Field(
        description="RFC 3339; without a timezone it means UTC", examples=["2026-11-27T14:00:00Z"]
    ),
]
TIMESTAMP = TypeAdapter(Timestamp, config=ConfigDict(strict=True))


class MeasurementIn(BaseModel):
    """One measurement as posted. Strict: a number must be a JSON number, a ts a string."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={"examples": [{"v": 293.4, "u": "K", "ts": "2026-11-27T14:00:00Z"}]},
    )

    v: float = Field(
        allow_inf_nan=False,
        description="the temperature, a finite JSON number, not below absolute zero",
        examples=[293.4],
    )
    u: UnitField = Unit.KELVIN
    ts: Timestamp | None = Field(None, description="absent means now (the server's clock)")


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


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class FieldError(BaseModel):
    detail: str
    pointer: str | None = Field(None, description="JSON pointer into the body, e.g. #/v")
    parameter: str | None = Field(None, description="the path or query parameter at fault")


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, as every error is answered."""

    type: str = Field(examples=["/problems/conflict"])
    title: str = Field(examples=["Conflict"])
    status: int = Field(examples=[409])
    detail: str
    code: str = Field(description="stable, for programs", examples=["conflict"])
    errors: list[FieldError] | None = None
