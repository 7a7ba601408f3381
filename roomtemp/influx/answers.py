"""What the InfluxDB endpoints answer, in InfluxDB's JSON: `{"error": ...}` for errors, and
`{"results": [{"statement_id", "series": [{"name", "tags", "columns", "values"}]}]}` for
queries, with times as RFC 3339 text or, with `epoch=`, integers in that unit."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
from fastapi import Response

from roomtemp.domain.rollups import EPOCH, MICROSECOND
from roomtemp.http.problems import RETRY_AFTER_SECONDS
from roomtemp.storage.base import StorageUnavailable

VERSION = "1.8.10"  # the InfluxDB whose HTTP API roomtemp speaks, for clients that ask
VERSION_HEADERS = {"X-Influxdb-Version": VERSION, "X-Influxdb-Build": "OSS"}
# Microseconds per unit of `epoch=`.
EPOCHS = {"ns": 0, "n": 0, "u": 1, "us": 1, "µ": 1, "ms": 1_000, "s": 1_000_000,
          "m": 60_000_000, "h": 3_600_000_000}  # fmt: skip


class InfluxError(Exception):
    """A request an InfluxDB endpoint refuses, with InfluxDB's status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"error": message}, status, headers)


def json_response(
    body: object, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        msgspec.json.encode(body),
        status,
        {**VERSION_HEADERS, **(headers or {})},
        media_type="application/json",
    )


def unavailable(raised: StorageUnavailable) -> Response:
    """503 with Retry-After: InfluxDB's clients (Telegraf) retry a 5xx, and drop a 4xx."""
    return error(
        503,
        f"the database is not answering; retry shortly ({raised})",
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


@dataclass(slots=True)
class SeriesAnswer:
    name: str
    columns: list[str]
    values: list[list[Any]]
    tags: dict[str, str] | None = None


@dataclass(slots=True)
class StatementAnswer:
    series: list[SeriesAnswer] = field(default_factory=list)
    error: str | None = None


def results(answers: Sequence[StatementAnswer], epoch: str | None) -> dict[str, Any]:
    """The body of a /query answer; each row's first column is its time."""
    return {"results": [_result(index, answer, epoch) for index, answer in enumerate(answers)]}


def _result(index: int, answer: StatementAnswer, epoch: str | None) -> dict[str, Any]:
    if answer.error is not None:
        return {"statement_id": index, "error": answer.error}
    if not answer.series:
        return {"statement_id": index}
    series = []
    for one in answer.series:
        body: dict[str, Any] = {"name": one.name}
        if one.tags:
            body["tags"] = one.tags
        body["columns"] = one.columns
        if one.columns and one.columns[0] == "time":
            body["values"] = [[time_of(row[0], epoch), *row[1:]] for row in one.values]
        else:
            body["values"] = one.values
        series.append(body)
    return {"statement_id": index, "series": series}


def time_of(ts: datetime, epoch: str | None) -> str | int:
    """RFC 3339 as InfluxDB writes it (no trailing zeros in the fraction), or an integer."""
    if epoch is None:
        text = ts.strftime("%Y-%m-%dT%H:%M:%S")
        if ts.microsecond:
            text += f".{ts.microsecond:06d}".rstrip("0")
        return text + "Z"
    microseconds = (ts - EPOCH) // MICROSECOND
    unit = EPOCHS[epoch]
    return microseconds * 1000 if unit == 0 else microseconds // unit
