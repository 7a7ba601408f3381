"""The HTTP side of the client commands: where the server is, the token, the batch endpoint,
and the server's problems turned into errors a person can act on."""

import asyncio
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import msgspec

from roomtemp import __version__

DEFAULT_URL = "http://127.0.0.1:8000"
# A batch of 100,000 takes a few seconds to commit on a slow disk.
TIMEOUT = httpx.Timeout(10.0, read=120.0)
# 503 (storage busy) and 429 (rate limit) say when to come back; a write may be sent again,
# since writing the same measurement twice stores it once.
RETRIED = (429, 503)
MAX_ATTEMPTS = 5
# A connection refused or dropped is tried again for this long (seconds): a server restarting
# (an upgrade, a crash) is back within it, and sending a batch again is harmless.
RECONNECT_FOR = 30.0
JSON = {"Content-Type": "application/json"}


class ClientError(Exception):
    """The server could not be reached, or refused in a way the command cannot get around."""


@dataclass(frozen=True, slots=True)
class Server:
    url: str = DEFAULT_URL
    token: str | None = None

    def headers(self) -> dict[str, str]:
        headers = {"User-Agent": f"roomtemp/{__version__}"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers(), timeout=TIMEOUT)

    def async_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, headers=self.headers(), timeout=TIMEOUT)


def room_path(room_id: str, *rest: str) -> str:
    return "/".join(["/measurements", quote(room_id, safe=""), *rest])


@dataclass(frozen=True, slots=True)
class BatchAnswer:
    """What the batch endpoint said: its counts (200), or the failing items by index (422,
    409), each with what is wrong with it."""

    status: int
    stored: int = 0
    duplicates: int = 0
    failures: tuple[tuple[int, str], ...] = ()


class Reconnection:
    """How long to pause after a connection was refused or dropped before trying again: 0.2 s,
    doubling up to 2 s, until `within` seconds after the first failure; then, or after a
    timeout (the server is there but does not answer), the error is the command's."""

    def __init__(self, url: httpx.URL | str, within: float) -> None:
        self.url, self.within = url, within
        self.deadline: float | None = None
        self.next_pause = 0.2

    def pause_after(self, error: httpx.TransportError) -> float:
        now = time.monotonic()
        if self.deadline is None:
            self.deadline = now + self.within
            if self.within > 0:
                print(
                    f"roomtemp: {self.url} does not answer ({error or type(error).__name__});"
                    f" trying again for {self.within:g} s",
                    file=sys.stderr,
                )
        if isinstance(error, httpx.TimeoutException) or now >= self.deadline:
            raise unreachable(self.url, error) from None
        pause, self.next_pause = self.next_pause, min(self.next_pause * 2, 2.0)
        return pause


def post_batch(
    client: httpx.Client, items: Sequence[dict[str, Any]], reconnect_for: float = RECONNECT_FOR
) -> BatchAnswer:
    """POST /measurements; a 200, 409 or 422 is an answer, anything else a ClientError."""
    body = msgspec.json.encode(items)
    reconnection = Reconnection(client.base_url, reconnect_for)
    attempt = 0
    while True:
        try:
            response = client.post("/measurements", content=body, headers=JSON)
        except httpx.TransportError as error:
            time.sleep(reconnection.pause_after(error))
            continue
        attempt += 1
        if response.status_code not in RETRIED or attempt == MAX_ATTEMPTS:
            return batch_answer(response)
        time.sleep(retry_after(response))


async def post_batch_async(
    client: httpx.AsyncClient,
    items: Sequence[dict[str, Any]],
    reconnect_for: float = RECONNECT_FOR,
) -> BatchAnswer:
    """post_batch(), for asyncio."""
    body = msgspec.json.encode(items)
    reconnection = Reconnection(client.base_url, reconnect_for)
    attempt = 0
    while True:
        try:
            response = await client.post("/measurements", content=body, headers=JSON)
        except httpx.TransportError as error:
            await asyncio.sleep(reconnection.pause_after(error))
            continue
        attempt += 1
        if response.status_code not in RETRIED or attempt == MAX_ATTEMPTS:
            return batch_answer(response)
        await asyncio.sleep(retry_after(response))


def get_json(
    client: httpx.Client, path: str, params: dict[str, str], reconnect_for: float = RECONNECT_FOR
) -> Any:
    """GET `path`: its JSON on 200, a ClientError otherwise."""
    return get_ok(client, path, params, reconnect_for).json()


def get_ok(
    client: httpx.Client, path: str, params: dict[str, str], reconnect_for: float = RECONNECT_FOR
) -> httpx.Response:
    """GET `path`: the answer on 200 (its Link header names a next page), a ClientError
    otherwise."""
    reconnection = Reconnection(client.base_url, reconnect_for)
    while True:
        try:
            response = client.get(path, params=params)
        except httpx.TransportError as error:
            time.sleep(reconnection.pause_after(error))
            continue
        if response.status_code != 200:
            raise error_of(response)
        return response


def batch_answer(response: httpx.Response) -> BatchAnswer:
    if response.status_code == 200:
        counts = response.json()
        return BatchAnswer(200, counts["stored"], counts["duplicates"])
    if response.status_code in (409, 422):
        errors = response.json().get("errors") or []
        prefix = "conflict: " if response.status_code == 409 else ""
        failures = tuple(
            (error["index"], prefix + failure(error)) for error in errors if "index" in error
        )
        if failures:
            return BatchAnswer(response.status_code, failures=failures)
    raise error_of(response)


def failure(error: dict[str, Any]) -> str:
    """A batch item's problem as "v: 1e9 K is above the ceiling": the field, then why."""
    field = "/".join(str(error.get("pointer", "")).removeprefix("#/").split("/")[1:])
    return f"{field}: {error['detail']}" if field else str(error["detail"])


def retry_after(response: httpx.Response) -> float:
    seconds = response.headers.get("Retry-After", "1")
    return min(float(seconds), 30.0) if seconds.isdigit() else 1.0


def unreachable(url: httpx.URL | str, error: Exception) -> ClientError:
    return ClientError(f"cannot reach {url} ({error or type(error).__name__}); is it running?")


def error_of(response: httpx.Response) -> ClientError:
    """The server's answer as one sentence: its problem detail when it sent one."""
    if response.status_code == 401:
        return ClientError(
            "the server asks for a token: set ROOMTEMP_TOKEN, or ROOMTEMP_TOKEN_FILE/--token-file"
        )
    if response.status_code == 403:
        return ClientError("the token is not allowed to do this (its scope is too narrow)")
    detail = problem_detail(response) or response.reason_phrase
    return ClientError(f"the server answered {response.status_code}: {detail}")


def problem_detail(response: httpx.Response) -> str | None:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return None
    return detail if isinstance(detail, str) else None
