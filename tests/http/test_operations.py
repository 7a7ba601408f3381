"""Health, readiness, the OpenAPI document, and errors outside any route."""

from typing import Any

import httpx

from roomtemp.storage.base import StorageUnavailable
from roomtemp.storage.memory import InMemoryStore
from tests.http.conftest import app_client


async def healthz_should_answer_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def readyz_should_answer_ready_when_storage_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ready"})


class BrokenStore(InMemoryStore):
    async def check(self) -> None:
        raise StorageUnavailable("connection refused")


async def readyz_should_answer_503_with_retry_after_when_storage_does_not() -> None:
    async with app_client(store=BrokenStore()) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert response.json()["code"] == "storage_unavailable"


async def an_unknown_path_should_be_a_problem_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/nothing/here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


async def a_wrong_method_should_be_a_problem_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/measurements/hall")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert response.headers["allow"] == "GET, HEAD, POST"


async def openapi_should_describe_bodies_bounds_and_problems(client: httpx.AsyncClient) -> None:
    document: dict[str, Any] = (await client.get("/openapi.json")).json()
    post = document["paths"]["/measurements/{room_id}"]["post"]
    body = post["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/PostedMeasurement"}
    assert body["example"]["v"] == 21.5
    schemas = document["components"]["schemas"]
    measurement = schemas["PostedMeasurement"]
    assert measurement["required"] == ["v"]
    assert measurement["additionalProperties"] is False
    assert measurement["properties"]["ts"]["anyOf"][0]["format"] == "date-time"
    room_id = post["parameters"][0]["schema"]
    assert (room_id["minLength"], room_id["maxLength"]) == (1, 128)
    problem = post["responses"]["409"]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/ProblemDetails"}
    assert "ProblemDetails" in schemas
    assert "FieldError" in schemas
    average = document["paths"]["/measurements/{room_id}/average/{duration}"]["get"]
    assert {"404", "422", "503"} <= average["responses"].keys()
    assert "HTTPValidationError" not in schemas  # every 422 is a problem, documented as such


async def openapi_should_have_no_dangling_references(client: httpx.AsyncClient) -> None:
    text = (await client.get("/openapi.json")).text
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    for name in {part.split('"')[0] for part in text.split('"#/components/schemas/')[1:]}:
        assert name in schemas, name
    assert "#/$defs/" not in text


async def docs_should_serve_the_interactive_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert "swagger-ui" in response.text


async def openapi_should_say_which_operations_need_a_token(client: httpx.AsyncClient) -> None:
    document: dict[str, Any] = (await client.get("/openapi.json")).json()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            guarded = path not in ("/healthz", "/readyz")
            assert ("security" in operation) == guarded, (method, path)
            assert ({"401", "403", "429"} <= operation["responses"].keys()) == guarded


async def openapi_should_describe_ndjson_batches_as_a_sequence_of_items(
    client: httpx.AsyncClient,
) -> None:
    document: dict[str, Any] = (await client.get("/openapi.json")).json()
    content = document["paths"]["/measurements"]["post"]["requestBody"]["content"]
    ndjson = content["application/x-ndjson"]
    assert ndjson["schema"]["items"] == content["application/json"]["schema"]["items"]
