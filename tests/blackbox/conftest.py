from collections.abc import Iterator

import pytest

from tests.blackbox.server import Server, running_server
from tests.throwaway_postgres import ThrowawayPostgres, start_throwaway_postgres


@pytest.fixture(params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """A real server on each persistent backend in turn, on an empty database."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    with running_server(url, "--migrate") as running:
        yield running


@pytest.fixture
def own_postgres() -> Iterator[ThrowawayPostgres]:
    """A server of this test's own, to stop and start: the shared one serves other tests."""
    server = start_throwaway_postgres()
    try:
        yield server
    finally:
        server.remove()
