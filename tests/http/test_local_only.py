"""Anonymous mode serves this machine only, and no web page: a body must say it is JSON (a
cross-site no-cors fetch can send none), the Host must be a loopback name (DNS rebinding sends
the attacker's), a cross-site Origin or Sec-Fetch-Site is refused, and so is a request that
came through a proxy (which would serve it to everyone)."""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx
import pytest

from roomtemp.http.app import create_app
from roomtemp.settings import Settings
from roomtemp.storage.memory import InMemoryStore
from tests.http.conftest import NOW

BODY = {"v": 290.0, "ts": NOW.isoformat()}
ADMIN = "a" * 32


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, store=InMemoryStore(), clock=lambda: NOW)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client,
    ):
        yield client


@pytest.fixture
async def anonymous() -> AsyncIterator[httpx.AsyncClient]:
    async with serving(Settings(database_url="memory://")) as client:
        yield client


async def attempts(client: httpx.AsyncClient, headers: Mapping[str, str]) -> list[httpx.Response]:
    """A write and a read, with the headers given."""
    return [
        await client.post("/measurements/hall", json=BODY, headers=headers),
        await client.get("/measurements/hall/average/P1D", headers=headers),
    ]


@pytest.mark.parametrize(
    ("content_type", "path", "status"),
    [
        (None, "/measurements/hall", 415),
        (None, "/measurements", 415),
        ("text/plain", "/measurements/hall", 415),
        ("application/x-www-form-urlencoded", "/measurements", 415),
        ("multipart/form-data; boundary=x", "/measurements/hall", 415),
        ("application/json", "/measurements/hall", 201),
        ("application/json; charset=utf-8", "/measurements/hall", 201),
    ],
)
async def a_body_should_be_read_only_when_it_says_it_is_json(
    anonymous: httpx.AsyncClient, content_type: str | None, path: str, status: int
) -> None:
    body = b'{"v": 290.0}' if path.endswith("hall") else b'[{"room_id": "hall", "v": 290.0}]'
    headers = {"Content-Type": content_type} if content_type else {}
    response = await anonymous.post(path, content=body, headers=headers)
    assert response.status_code == status, response.text
    if status == 415:
        assert response.json()["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    "host",
    ["localhost", "localhost:8000", "127.0.0.1", "127.3.2.1:80", "[::1]:8000", "a.localhost"],
)
async def a_loopback_host_should_be_served(anonymous: httpx.AsyncClient, host: str) -> None:
    write, read = await attempts(anonymous, {"Host": host})
    assert (write.status_code, read.status_code) == (201, 200)


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"Host": "evil.example"}, "non_loopback_host"),
        ({"Host": "evil.example:8000"}, "non_loopback_host"),
        ({"Host": "127.0.0.1.evil.example"}, "non_loopback_host"),
        ({"Host": "localhost.evil.example"}, "non_loopback_host"),
        ({"Host": "192.168.1.10:8000"}, "non_loopback_host"),
        ({"Origin": "http://evil.example"}, "cross_site_request"),
        ({"Origin": "http://127.0.0.1:9999"}, "cross_site_request"),
        ({"Origin": "null"}, "cross_site_request"),
        ({"Sec-Fetch-Site": "cross-site"}, "cross_site_request"),
        ({"Sec-Fetch-Site": "same-site"}, "cross_site_request"),
        ({"Forwarded": "for=203.0.113.7"}, "proxied_request"),
        ({"X-Forwarded-For": "203.0.113.7"}, "proxied_request"),
        ({"X-Real-IP": "203.0.113.7"}, "proxied_request"),
    ],
)
async def an_anonymous_request_from_elsewhere_should_be_refused_and_told_why(
    anonymous: httpx.AsyncClient, headers: dict[str, str], code: str
) -> None:
    for refused in await attempts(anonymous, headers):
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == code
        assert "token" in refused.json()["detail"]
    stored = await anonymous.get("/measurements/hall")
    assert stored.status_code == 404


async def the_dashboards_own_requests_should_be_served(anonymous: httpx.AsyncClient) -> None:
    same_origin = {"Origin": "http://127.0.0.1:8000", "Sec-Fetch-Site": "same-origin"}
    write, read = await attempts(anonymous, same_origin)
    assert (write.status_code, read.status_code) == (201, 200)
    typed = await anonymous.get("/rooms", headers={"Sec-Fetch-Site": "none"})
    assert typed.status_code == 200


async def health_should_answer_whatever_the_host(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.get("/healthz", headers={"Host": "evil.example"})).status_code == 200


async def a_request_with_a_token_should_be_served_from_any_host_or_proxy() -> None:
    async with serving(Settings(database_url="memory://", admin_token=ADMIN)) as client:
        headers = {
            "Authorization": f"Bearer {ADMIN}",
            "Host": "sensors.example",
            "X-Forwarded-For": "203.0.113.7",
        }
        write, read = await attempts(client, headers)
        assert (write.status_code, read.status_code) == (201, 200)


async def insecure_mode_should_serve_any_host_but_still_no_other_site() -> None:
    settings = Settings(database_url="memory://", host="0.0.0.0", insecure=True)
    async with serving(settings) as client:
        write, read = await attempts(client, {"Host": "sensors.example:8000"})
        assert (write.status_code, read.status_code) == (201, 200)
        for refused in await attempts(client, {"Sec-Fetch-Site": "cross-site"}):
            assert refused.status_code == 403
