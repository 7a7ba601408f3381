"""API conventions: named operations, HEAD beside every GET, unknown query parameters refused,
problem types that lead somewhere, CORS when configured."""

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

import roomtemp
from roomtemp.http.routes.problem_types import MEANINGS
from roomtemp.settings import Settings
from tests.http.conftest import app_client

# A concrete value for each path parameter of the API.
PATH_VALUES = {"room_id": "hall", "duration": "PT1H"}


async def operations(client: httpx.AsyncClient) -> list[tuple[str, str, dict[str, Any]]]:
    document = (await client.get("/openapi.json")).json()
    return [
        (path, method, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def concrete(template: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: PATH_VALUES[match[1]], template)


async def every_operation_should_have_a_short_unique_name(client: httpx.AsyncClient) -> None:
    names = [operation["operationId"] for _, _, operation in await operations(client)]
    assert len(set(names)) == len(names)
    assert "get_average" in names
    assert all(re.fullmatch(r"[a-z_]{3,24}", name) for name in names), names


async def the_document_should_say_what_the_api_is_and_its_licence(
    client: httpx.AsyncClient,
) -> None:
    info = (await client.get("/openapi.json")).json()["info"]
    assert "problem+json" in info["description"]
    assert info["license"]["identifier"] == "MIT"


async def every_get_should_answer_head_alike_without_a_body(client: httpx.AsyncClient) -> None:
    await client.post("/measurements/hall", json={"v": 293.15})
    gets = [path for path, method, _ in await operations(client) if method == "get"]
    for path in [*map(concrete, gets), "/", "/problems/conflict"]:
        got, head = await client.get(path), await client.head(path)
        assert head.status_code == got.status_code, path
        assert head.content == b"", path
        assert head.headers.get("content-type") == got.headers.get("content-type"), path


async def an_unknown_query_parameter_should_be_refused_by_every_operation(
    client: httpx.AsyncClient, memory_store: Any
) -> None:
    for path, method, _ in await operations(client):
        response = await client.request(method, concrete(path), params={"untl": "now"})
        assert response.status_code == 422, (method, path)
        body = response.json()
        assert body["code"] == "unknown_parameter"
        assert body["errors"] == [
            {"parameter": "untl", "detail": "not a parameter of this endpoint"}
        ]
        assert "'untl'" in body["detail"]
    assert not await memory_store.has_room("hall")  # the POSTs stored nothing


async def every_declared_query_parameter_should_be_known(client: httpx.AsyncClient) -> None:
    for path, method, operation in await operations(client):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query":
                params = {parameter["name"]: "x"}
                response = await client.request(method, concrete(path), params=params)
                assert response.json().get("code") != "unknown_parameter", (path, params)


async def a_problems_type_should_lead_to_a_page_about_it(client: httpx.AsyncClient) -> None:
    problem = (await client.get("/measurements/nowhere/average/PT1H")).json()
    assert problem["type"] == "/problems/room_not_found"
    page = await client.get(problem["type"])
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "never had a measurement" in page.text
    assert (await client.get("/problems/no_such_code")).status_code == 404


def every_code_in_the_source_should_have_a_page() -> None:
    """Codes are written as (status, "code") pairs, or status: "code" in a mapping."""
    found = set()
    for source in Path(roomtemp.__file__).parent.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        found |= set(re.findall(r"\(\s*[1-5]\d\d,\s*\"([a-z_]+)\"", text))
        found |= set(re.findall(r"\b[45]\d\d: \"([a-z_]+)\"", text))
    assert {"conflict", "token_required", "internal_error", "not_found"} <= found
    assert found <= set(MEANINGS), found - set(MEANINGS)


async def cross_origin_requests_should_be_allowed_only_from_the_origins_configured() -> None:
    settings = Settings(database_url="memory://", cors_origins="https://grafana.example.org/")
    preflight = {"Access-Control-Request-Method": "POST"}
    async with app_client(settings) as client:
        allowed = await client.options(
            "/measurements", headers={"Origin": "https://grafana.example.org", **preflight}
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://grafana.example.org"
        other = await client.get("/rooms", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
    async with app_client() as client:
        response = await client.get("/rooms", headers={"Origin": "https://grafana.example.org"})
        assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("origins", ["grafana.example.org", "https://a.example/path", "ftp://x"])
def an_origin_that_is_not_one_should_be_refused(origins: str) -> None:
    with pytest.raises(ValidationError, match="is not an origin"):
        Settings(database_url="memory://", cors_origins=origins)
