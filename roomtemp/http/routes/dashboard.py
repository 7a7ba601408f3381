"""The dashboard: a page at `/` and the files it loads from `/static/`, kept out of the OpenAPI
document, which describes the API. The page asks the API like any other client does."""

import os
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.responses import Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

STATIC = Path(__file__).parent.parent / "static"

# The page keeps an access token in localStorage: it runs no script but its own, so that text
# from the database (a room's name) can never run as code, and it talks to its own server only.
# Inline styles are allowed because uPlot sizes its elements with them.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self' 'unsafe-inline'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
# Revalidated on every load (a 304 when unchanged): after an upgrade the page and its modules
# must not come from two versions.
REVALIDATE = {"Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


@router.get("/")
async def dashboard() -> FileResponse:
    return FileResponse(
        STATIC / "dashboard.html",
        headers={**REVALIDATE, "Content-Security-Policy": CONTENT_SECURITY_POLICY},
    )


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
