"""Every error leaves as RFC 9457 problem+json; each exception is mapped to a status once, here."""

import logging
import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import msgspec
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from roomtemp.domain.durations import InvalidDuration
from roomtemp.domain.measurements import ConflictingMeasurements, EmptyWindow, UnknownRoom
from roomtemp.domain.series import InvalidBuckets
from roomtemp.http.services import services_of
from roomtemp.ingestion import ConflictingBatch, InvalidBatch, InvalidMeasurement
from roomtemp.storage.base import StorageUnavailable

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = 2
MAX_LISTED_ERRORS = 100
log = logging.getLogger("roomtemp.http")


class Problem(Exception):
    """An error the HTTP layer itself finds (a body that is not JSON, a bad query parameter)."""

    def __init__(
        self, status: int, code: str, detail: str, errors: Sequence[dict[str, Any]] = ()
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.errors = status, code, detail, list(errors)


def documented_problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the problems a route may answer."""
    schema = {"$ref": "#/components/schemas/ProblemDetails"}  # added by openapi.py
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": schema}},
        }
        for status in statuses
    }


def invalid_parameter(name: str, message: str) -> Problem:
    return Problem(422, "invalid_parameter", message, [{"parameter": name, "detail": message}])


def problem_response(
    status: int,
    code: str,
    detail: str,
    errors: Sequence[dict[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = list(errors)
    return Response(msgspec.json.encode(body), status, headers, media_type=PROBLEM_JSON)


def _where(location: Sequence[int | str]) -> dict[str, Any]:
    """An error's place: a JSON pointer into the body, or the name of a parameter."""
    source, *path = location
    if source == "body":
        return {"pointer": "#/" + "/".join(str(part) for part in path)}
    return {"parameter": str(path[0]) if path else str(source)}


def measurement_errors(error: InvalidMeasurement) -> list[dict[str, Any]]:
    """For the single endpoint, whose room id is in the path."""
    return [
        ({"parameter": "room_id"} if p.field == "room_id" else {"pointer": f"#/{p.field}"})
        | {"detail": p.message}
        for p in error.problems
    ]


def batch_errors(error: InvalidBatch | ConflictingBatch) -> list[dict[str, Any]]:
    """Each failing item by index, the first MAX_LISTED_ERRORS of them."""
    if isinstance(error, ConflictingBatch):
        detail = "another value is stored, or repeated in the batch, for this room and ts"
        return [
            {"index": index, "pointer": f"#/{index}", "detail": detail}
            for index in error.indices[:MAX_LISTED_ERRORS]
        ]
    return [
        {"index": index, "pointer": f"#/{index}/{problem.field}", "detail": problem.message}
        for index, problem in error.problems[:MAX_LISTED_ERRORS]
    ]


def validation_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """pydantic's errors, as RFC 9457 field problems."""
    return [{**_where(error["loc"]), "detail": error["msg"]} for error in errors]


# Exceptions from below the HTTP layer: status and machine code of each.
_STATUS_AND_CODE: dict[type[Exception], tuple[int, str]] = {
    InvalidMeasurement: (422, "invalid_measurement"),
    InvalidBatch: (422, "invalid_measurement"),
    ConflictingBatch: (409, "conflict"),
    InvalidDuration: (422, "invalid_duration"),
    InvalidBuckets: (422, "invalid_bucket"),
    ConflictingMeasurements: (409, "conflict"),
    UnknownRoom: (404, "room_not_found"),
    EmptyWindow: (404, "no_measurements"),
    StorageUnavailable: (503, "storage_unavailable"),
}


async def _known_error(request: Request, error: Exception) -> Response:
    status, code = next(_STATUS_AND_CODE[t] for t in type(error).__mro__ if t in _STATUS_AND_CODE)
    if isinstance(error, StorageUnavailable):
        log.warning("storage unavailable: %s", error)
        services_of(request).metrics.storage_errors.inc()
        return problem_response(
            status,
            code,
            "the database is not answering; retry shortly",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(error, ConflictingMeasurements):
        return problem_response(status, code, "the room already has another value at that ts")
    if isinstance(error, InvalidBatch | ConflictingBatch):
        return problem_response(status, code, f"{error}; nothing was stored", batch_errors(error))
    errors = measurement_errors(error) if isinstance(error, InvalidMeasurement) else []
    return problem_response(status, code, str(error), errors)


async def _problem(_: Request, error: Problem) -> Response:
    return problem_response(error.status, error.code, error.detail, error.errors)


async def _request_validation(_: Request, error: RequestValidationError) -> Response:
    errors = validation_errors(error.errors())
    return problem_response(422, "invalid_request", "the request has invalid values", errors)


async def _http_error(request: Request, error: HTTPException) -> Response:
    code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    headers = dict(error.headers or {})
    if error.status_code == 405:
        headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
    return problem_response(error.status_code, code, str(error.detail), headers=headers)


def _allowed_methods(request: Request) -> str | None:
    """Every method of the path asked for, as the documented API has them: the router names
    only those of the first route that matched the path."""
    for template, operations in request.app.openapi()["paths"].items():
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), request.url.path):
            methods = {method.upper() for method in operations}
            return ", ".join(sorted(methods | ({"HEAD"} if "GET" in methods else set())))
    return None


async def _bug(_: Request, error: Exception) -> Response:
    # Starlette logs the traceback itself, after this answer is sent.
    return problem_response(500, "internal_error", "an unexpected error; it has been logged")


def install(app: FastAPI) -> None:
    for known in _STATUS_AND_CODE:
        app.add_exception_handler(known, _known_error)
    app.add_exception_handler(Problem, _problem)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _request_validation)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _bug)
