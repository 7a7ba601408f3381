"""The OpenAPI document: FastAPI's, plus the schemas of what routes read or answer themselves."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from roomtemp.http.schemas import MeasurementIn, ProblemDetails

# Bodies read by json_body.read_json and problems answered by problems.py: FastAPI does not
# see these models, so their schemas are added to the components here.
EXTRA_MODELS: tuple[type[BaseModel], ...] = (MeasurementIn, ProblemDetails)


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` for a route that reads a JSON body of `model` itself."""
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            _, extra = models_json_schema(
                [(model, "validation") for model in EXTRA_MODELS],
                ref_template="#/components/schemas/{model}",
            )
            document.setdefault("components", {}).setdefault("schemas", {}).update(extra["$defs"])
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
