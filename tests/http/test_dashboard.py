"""The dashboard page and its files: served open, revalidated, and absent from the API's schema."""

import re
from typing import Any

import httpx
import pytest

from roomtemp.http.content_policy import DEFAULT
from roomtemp.http.routes.dashboard import STATIC


async def the_root_should_serve_the_dashboard_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script src="static/dashboard.js" type="module">' in response.text
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["/", "/docs", "/redoc"])
async def every_page_should_run_only_its_own_scripts(client: httpx.AsyncClient, path: str) -> None:
    policy = (await client.get(path)).headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src" not in policy  # so scripts fall back to 'self': nothing inline
    assert "frame-ancestors 'none'" in policy


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def the_docs_should_load_nothing_from_elsewhere(client: httpx.AsyncClient, path: str) -> None:
    page = await client.get(path)
    assert page.status_code == 200
    assert "<script>" not in page.text  # nothing inline
    sources = re.findall(r'(?:src|href|spec-url)="([^"]*)"', page.text)
    assert sources
    for source in sources:
        assert "//" not in source, source  # relative: served here
        if source.startswith("static/"):
            assert (await client.get(f"/{source}")).status_code == 200, source


@pytest.mark.parametrize(
    "path", ["/healthz", "/openapi.json", "/measurements/nowhere/average/PT1H", "/static/api.js"]
)
async def anything_but_a_page_should_be_allowed_to_run_nothing(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.headers.get_list("content-security-policy") == [DEFAULT]
    assert "default-src 'none'" in DEFAULT


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/static/dashboard.js", "javascript"),
        ("/static/dashboard.css", "text/css"),
        ("/static/vendor/uPlot.iife.min.js", "javascript"),
        ("/static/vendor/uPlot.min.css", "text/css"),
    ],
)
async def static_files_should_be_served_with_their_media_type(
    client: httpx.AsyncClient, path: str, media_type: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert media_type in response.headers["content-type"]
    assert response.headers["cache-control"] == "no-cache"


async def an_unchanged_static_file_should_answer_not_modified(client: httpx.AsyncClient) -> None:
    first = await client.get("/static/dashboard.js")
    again = await client.get(
        "/static/dashboard.js", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304


async def every_module_the_page_imports_should_be_served(client: httpx.AsyncClient) -> None:
    modules = sorted(path.name for path in STATIC.glob("*.js"))
    assert {"dashboard.js", "api.js", "units.js", "rooms.js", "chart.js"} <= set(modules)
    for name in modules:
        assert (await client.get(f"/static/{name}")).status_code == 200


async def a_missing_static_file_should_be_a_problem_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/static/nothing.js")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def the_openapi_document_should_leave_the_dashboard_out(client: httpx.AsyncClient) -> None:
    document: dict[str, Any] = (await client.get("/openapi.json")).json()
    assert not {"/", "/docs", "/redoc"} & document["paths"].keys()
    assert not any(path.startswith("/static") for path in document["paths"])
