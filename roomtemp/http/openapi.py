"""The OpenAPI document: FastAPI's, plus the schemas of what routes read or answer themselves."""

from typing import Any

import msgspec
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from roomtemp.http.auth import is_open
from roomtemp.http.problems import documented_problems
from roomtemp.http.schemas import (
    PostedItem,
    PostedMeasurement,
    ProblemDetails,
    StoredMeasurement,
)

# FastAPI sees neither the bodies that routes read themselves (msgspec models, json_body.py)
# nor the problems answered by problems.py: their schemas are added to the components here.
BODIES = (PostedMeasurement, PostedItem)
ANSWERS: tuple[type[BaseModel], ...] = (ProblemDetails, StoredMeasurement)
REF = "#/components/schemas/{name}"


def schema_of(model: type) -> dict[str, str]:
    return {"$ref": REF.format(name=model.__name__)}


def request_body(body: type, example: dict[str, Any]) -> dict[str, Any]:
    """`openapi_extra` for a route that reads a JSON body of type `body` itself."""
    content = {"schema": {"$ref": REF.format(name=body.__name__)}, "example": example}
    return {"requestBody": {"required": True, "content": {"application/json": content}}}


def batch_body() -> dict[str, Any]:
    item = {"$ref": REF.format(name=PostedItem.__name__)}
    example = {"room_id": "Living room", "v": 21.5, "u": "C", "ts": "2026-11-27T14:00:00Z"}
    content = {
        "application/json": {"schema": {"type": "array", "items": item}, "example": [example]},
        "application/x-ndjson": {
            # The same items, one JSON object per line: a sequence, said as an array.
            "schema": {
                "type": "array",
                "items": item,
                "description": "one measurement object per line",
            },
            "itemSchema": item,
        },
    }
    return {"requestBody": {"required": True, "content": content}}


def install(app: FastAPI, operations: dict[tuple[str, str], dict[str, Any]]) -> None:
    """FastAPI's document, with the schemas above, and `operations` ((path, method) ->
    operation) for routes that are not FastAPI's own."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                license_info=app.license_info,
                routes=app.routes,
            )
            _, answers = models_json_schema(
                [(model, "serialization") for model in ANSWERS],
                ref_template=REF.replace("{name}", "{model}"),
            )
            _, bodies = msgspec.json.schema_components(BODIES, ref_template=REF)
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(answers["$defs"])
            schemas.update(bodies)
            for (path, method), operation in operations.items():
                document["paths"].setdefault(path, {})[method] = operation
            _document_access(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document_access(document: dict[str, Any]) -> None:
    """The bearer token each guarded operation needs, and its 401, 403 and 429 (auth.py)."""
    document["components"]["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "a token from `roomtemp token create`, or ROOMTEMP_ADMIN_TOKEN:"
            " read for GET, write for POST; not needed while no token exists and the server"
            " listens on loopback only",
        }
    }
    for path, operations in document["paths"].items():
        if is_open(path):
            continue
        for operation in operations.values():
            operation["security"] = [{"bearer": []}]
            problems = documented_problems(401, 403, 429)
            operation["responses"].update({str(status): body for status, body in problems.items()})
