"""The API against its own OpenAPI document: schemathesis sends what the document allows
(positive cases) and what it forbids (negative cases) to every operation of the real server,
and checks each answer: never a 5xx, always a documented status, content type and body.

A bounded run in `make test`; `make fuzz` runs far more examples (ROOMTEMP_FUZZ_EXAMPLES).
"""

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.config import SchemathesisConfig
from schemathesis.transport import SerializationContext

from roomtemp.http.app import create_app
from roomtemp.settings import Settings
from tests.blackbox.server import Server, running_server

LONG_RUN = "ROOMTEMP_FUZZ_EXAMPLES" in os.environ  # make fuzz
EXAMPLES = int(os.environ.get("ROOMTEMP_FUZZ_EXAMPLES", "25"))
ADMIN_TOKEN = "the-fuzzers-admin-token"
CONFIG = SchemathesisConfig.from_dict(
    {
        # The document names the scheme "bearer"; schemathesis also sends requests without it
        # (ignored_auth), which must be refused.
        "auth": {"openapi": {"bearer": {"bearer": ADMIN_TOKEN}}},
        # make test runs the same examples every time, so that CI judges the code, not the
        # draw; make fuzz draws new ones on every run.
        "generation": {"max-examples": EXAMPLES, "deterministic": not LONG_RUN},
        # Off: some rules cannot be said in JSON Schema (a ts at most an hour past the
        # server's clock, at most 10,000 buckets an answer, a duration of at most 100 years, a
        # value above absolute zero in its own unit), so a request the document allows may
        # rightly be refused (422). What the document does say, the server enforces:
        # negative_data_rejection checks that.
        "checks": {"positive_data_acceptance": {"enabled": False}},
    }
)


@schemathesis.serializer("application/x-ndjson")
def ndjson(_: SerializationContext, value: object) -> bytes:
    """A batch as NDJSON: one JSON value per line (anything else, as JSON, for negative cases)."""
    items = value if isinstance(value, list) else [value]
    return b"\n".join(json.dumps(item).encode() for item in items)


@pytest.fixture(scope="module")
def guarded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real server on SQLite, with access enforced."""
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'roomtemp.sqlite3'}"
    env = {"ROOMTEMP_ADMIN_TOKEN": ADMIN_TOKEN}
    with running_server(url, "--no-access-log", env=env) as server:
        seed(server)
        yield server


def seed(server: Server) -> None:
    """A day of readings in the room the document's examples name, so that reads of it find
    data and answer 200, not only 404."""
    now = datetime.now(UTC)
    batch = [
        {
            "room_id": "Living room",
            "v": 20 + minutes % 30 / 10,
            "u": "C",
            "ts": (now - timedelta(minutes=minutes)).isoformat(),
        }
        for minutes in range(0, 24 * 60, 5)
    ]
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    response = httpx.post(f"{server.url}/measurements", json=batch, headers=headers)
    assert response.status_code == 200, response.text


# The document the server serves, made without one: create_app() reads no environment
# with explicit settings and opens nothing until started.
# Negative cases add random headers, these among them; they frame the HTTP message itself, and
# a wrong one is refused by the HTTP server (uvicorn: 400, text/plain) before the API sees it.
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "host", "connection"})
document = create_app(Settings(database_url="memory://")).openapi()
schema = schemathesis.openapi.from_dict(document, config=CONFIG)


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def every_operation_should_answer_as_documented(case: Case[Any], guarded_server: Server) -> None:
    for name in list(case.headers or {}):
        if name.lower() in FRAMING_HEADERS:
            del case.headers[name]
    case.call_and_validate(base_url=guarded_server.url)
