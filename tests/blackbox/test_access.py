"""Access, over real HTTP to the real server: each rule of API.md's "Access" section."""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from roomtemp.settings import Settings
from tests.blackbox.server import (
    Server,
    create_token,
    roomtemp,
    running_server,
)
from tests.network import free_port

# A token made or revoked counts in every worker after the next refresh; the margin is for a
# loaded machine, not part of the promise.
TAKES_EFFECT_WITHIN = 2 * Settings.model_fields["token_refresh"].default.total_seconds() + 3
MEASUREMENT = {"v": 21.5, "u": "C", "ts": "2026-11-27T14:00:00Z"}
ADMIN_TOKEN = "an-admin-token-for-the-tests"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def answered_by_each_connection(server: Server, request: Callable[[httpx.Client], int]) -> set[int]:
    """The statuses of 20 requests, each on a new connection, so that every worker process of
    the server answers some of them."""
    statuses = set()
    for _ in range(20):
        with httpx.Client(base_url=server.url) as client:
            statuses.add(request(client))
    return statuses


def wait_until(condition: Callable[[], bool], timeout: float) -> float:
    """Seconds until `condition` held; fails after `timeout`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"not within {timeout} s"
        time.sleep(0.1)
    return time.monotonic() - started


def assert_refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert response.headers["www-authenticate"].startswith("Bearer")


@dataclass
class Guarded:
    server: Server
    database_url: str
    tokens: dict[str, str]  # scope -> a token with only that scope


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guarded]:
    """A server with two workers, on a database holding a read, a write and an admin token."""
    url = f"sqlite:///{tmp_path_factory.mktemp('guarded') / 'roomtemp.sqlite3'}"
    tokens = {
        scope: create_token(url, f"only-{scope}", scope) for scope in ("read", "write", "admin")
    }
    with running_server(url, "--workers", "2") as server:
        yield Guarded(server, url, tokens)


def a_request_without_a_token_should_be_refused_401_with_a_bearer_challenge(
    guarded: Guarded,
) -> None:
    with httpx.Client(base_url=guarded.server.url) as client:
        assert_refused(client.post("/measurements/hall", json=MEASUREMENT), 401, "token_required")
        assert_refused(client.get("/rooms"), 401, "token_required")
        assert_refused(
            client.get("/rooms", headers={"Authorization": "Basic Zm9vOmJhcg=="}),
            401,
            "token_required",
        )


def an_unknown_or_forged_token_should_be_refused_401(guarded: Guarded) -> None:
    forged = guarded.tokens["admin"][:-3] + "xyz"
    with httpx.Client(base_url=guarded.server.url) as client:
        for token in (forged, "rt_000000000000_" + "A" * 43, "not even a token"):
            response = client.get("/rooms", headers=bearer(token))
            assert_refused(response, 401, "invalid_token")
            assert 'error="invalid_token"' in response.headers["www-authenticate"]


def a_write_token_should_write_but_not_read(guarded: Guarded) -> None:
    headers = bearer(guarded.tokens["write"])
    with httpx.Client(base_url=guarded.server.url, headers=headers) as client:
        assert client.post("/measurements/write-only", json=MEASUREMENT).status_code == 201
        batch = [{"room_id": "write-only", **MEASUREMENT}]
        assert client.post("/measurements", json=batch).status_code == 200
        response = client.get("/measurements/write-only")
        assert_refused(response, 403, "insufficient_scope")
        assert 'scope="read"' in response.headers["www-authenticate"]


def a_read_token_should_read_but_not_write(guarded: Guarded) -> None:
    with httpx.Client(
        base_url=guarded.server.url, headers=bearer(guarded.tokens["read"])
    ) as client:
        assert client.get("/rooms").status_code == 200
        assert_refused(
            client.post("/measurements/hall", json=MEASUREMENT), 403, "insufficient_scope"
        )


def an_admin_token_should_read_and_write(guarded: Guarded) -> None:
    with httpx.Client(
        base_url=guarded.server.url, headers=bearer(guarded.tokens["admin"])
    ) as client:
        assert client.post("/measurements/by-admin", json=MEASUREMENT).status_code == 201
        assert client.get("/measurements/by-admin").json()["items"][0]["v"] == 294.65


def health_readiness_and_the_docs_should_be_open_to_all(guarded: Guarded) -> None:
    with httpx.Client(base_url=guarded.server.url) as client:
        for path in ("/healthz", "/readyz", "/openapi.json", "/docs"):
            assert client.get(path).status_code == 200, path


def metrics_should_need_the_read_scope(guarded: Guarded) -> None:
    with httpx.Client(base_url=guarded.server.url) as client:
        assert_refused(client.get("/metrics"), 401, "token_required")
        assert_refused(
            client.get("/metrics", headers=bearer(guarded.tokens["write"])),
            403,
            "insufficient_scope",
        )
        assert client.get("/metrics", headers=bearer(guarded.tokens["read"])).status_code == 200


def a_token_should_count_in_every_worker_within_seconds_and_stop_once_revoked(
    guarded: Guarded, report: Callable[[str], None]
) -> None:
    token = create_token(guarded.database_url, "short-lived", "read")

    def statuses() -> set[int]:
        return answered_by_each_connection(
            guarded.server, lambda client: client.get("/rooms", headers=bearer(token)).status_code
        )

    accepted_after = wait_until(lambda: statuses() == {200}, TAKES_EFFECT_WITHIN)
    revoked = roomtemp("token", "revoke", "short-lived", "--database-url", guarded.database_url)
    assert revoked.returncode == 0, revoked.stderr
    refused_after = wait_until(lambda: statuses() == {401}, TAKES_EFFECT_WITHIN)
    report(
        f"a new token accepted by every worker after {accepted_after:.1f} s,"
        f" a revoked one refused by all {refused_after:.1f} s after `token revoke`"
    )


def a_server_on_loopback_with_no_token_should_be_anonymous_until_one_is_made(
    sqlite_url: str,
) -> None:
    with running_server(sqlite_url) as server, httpx.Client(base_url=server.url) as client:
        assert client.post("/measurements/hall", json=MEASUREMENT).status_code == 201
        assert client.get("/measurements/hall").status_code == 200
        create_token(sqlite_url, "first", "write")
        wait_until(lambda: client.get("/measurements/hall").status_code == 401, TAKES_EFFECT_WITHIN)
        assert_refused(client.post("/measurements/hall", json=MEASUREMENT), 401, "token_required")


def the_admin_token_from_the_environment_should_be_admin_and_end_anonymous_access(
    sqlite_url: str,
) -> None:
    env = {"ROOMTEMP_ADMIN_TOKEN": ADMIN_TOKEN}
    with running_server(sqlite_url, env=env) as server, httpx.Client(base_url=server.url) as client:
        assert_refused(client.post("/measurements/hall", json=MEASUREMENT), 401, "token_required")
        response = client.post("/measurements/hall", json=MEASUREMENT, headers=bearer(ADMIN_TOKEN))
        assert response.status_code == 201
        assert client.get("/rooms", headers=bearer(ADMIN_TOKEN)).status_code == 200


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("ROOMTEMP_ADMIN_TOKEN", "secret", "at least 16 characters"),
        ("ROOMTEMP_RATE_LIMIT", "100/day", "100/second"),
    ],
)
def a_setting_that_cannot_work_should_be_refused_at_start(
    sqlite_url: str, variable: str, value: str, words: str
) -> None:
    result = roomtemp(
        "serve", "--port", str(free_port()), "--database-url", sqlite_url, env={variable: value}
    )
    assert result.returncode == 1
    assert words in result.stderr


def serving_beyond_loopback_with_no_token_should_refuse_to_start(sqlite_url: str) -> None:
    result = roomtemp(
        "serve", "--host", "0.0.0.0", "--port", str(free_port()), "--database-url", sqlite_url
    )
    assert result.returncode == 1
    assert "protected mode" in result.stderr
    assert "--insecure" in result.stderr
    assert "Traceback" not in result.stderr


def insecure_should_serve_anonymous_requests_beyond_loopback(sqlite_url: str) -> None:
    with running_server(sqlite_url, "--host", "0.0.0.0", "--insecure") as server:
        assert httpx.post(f"{server.url}/measurements/hall", json=MEASUREMENT).status_code == 201


def a_stored_token_should_let_a_server_listen_beyond_loopback_and_be_required(
    sqlite_url: str,
) -> None:
    token = create_token(sqlite_url, "gateway", "write")
    with running_server(sqlite_url, "--host", "0.0.0.0") as server:
        url = f"{server.url}/measurements/hall"
        assert_refused(httpx.post(url, json=MEASUREMENT), 401, "token_required")
        assert httpx.post(url, json=MEASUREMENT, headers=bearer(token)).status_code == 201


def beyond_the_rate_limit_a_token_should_get_429_with_retry_after(sqlite_url: str) -> None:
    hall, kitchen = (create_token(sqlite_url, name, "write") for name in ("hall", "kitchen"))
    env = {"ROOMTEMP_RATE_LIMIT": "3/minute"}
    with running_server(sqlite_url, env=env) as server, httpx.Client(base_url=server.url) as client:

        def post(token: str, second: int) -> httpx.Response:
            body = {"v": 290.0, "ts": f"2026-11-27T14:00:{second:02}Z"}
            return client.post("/measurements/hall", json=body, headers=bearer(token))

        assert [post(hall, second).status_code for second in range(3)] == [201, 201, 201]
        refused = post(hall, 3)
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 20  # one request every 20 s
        assert post(kitchen, 4).status_code == 201  # per token
        assert client.get("/healthz").status_code == 200  # open paths are not counted
