"""The pages: the dashboard at `/`, the API's documentation at `/docs` and `/redoc`, and the
files they load from `/static/`, kept out of the OpenAPI document, which describes the API.
The dashboard asks the API like any other client does."""

import os
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.responses import Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

from roomtemp.http.content_policy import PAGE, REDOC_PAGE

STATIC = Path(__file__).parent.parent / "static"

# Revalidated on every load (a 304 when unchanged): after an upgrade the page and its modules
# must not come from two versions.
REVALIDATE = {"Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


def page(name: str, policy: str = PAGE) -> FileResponse:
    """The page static/`name`, under its Content-Security-Policy."""
    return FileResponse(STATIC / name, headers={**REVALIDATE, "Content-Security-Policy": policy})


@router.get("/")
async def dashboard() -> FileResponse:
    return page("dashboard.html")


# The API's documentation, from files vendored under static/vendor/ (see its README): pinned,
# served from here, readable offline. FastAPI's own pages load them from a CDN, at a floating
# version and with no integrity check, and initialise them with an inline script.
@router.get("/docs")
async def swagger_ui() -> FileResponse:
    return page("docs.html")


@router.get("/redoc")
async def redoc() -> FileResponse:
    return page("redoc.html", REDOC_PAGE)


class RevalidatedFiles(StaticFiles):
    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(REVALIDATE)
        return response


def static_files() -> StaticFiles:
    """The files under static/, to mount at /static."""
    return RevalidatedFiles(directory=STATIC)
