from collections.abc import Iterator

import pytest

from tests.blackbox.server import Server, running_server


@pytest.fixture(params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """A real server on each persistent backend in turn, on an empty database."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    with running_server(url, "--migrate") as running:
        yield running
