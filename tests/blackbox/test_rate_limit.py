"""A token's rate limit holds for the whole deployment: three instances behind nginx (the
shipped limit_req configuration) accept the configured rate, within 10%, not three times it."""

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import httpx

from roomtemp.storage import migrate
from tests.blackbox.nginx import running_nginx, shipped_configuration
from tests.blackbox.server import create_token, running_server
from tests.network import free_port

INSTANCES = 3
RATE = 20  # per second
# Three seconds' worth: a burst refills only up to its size, so a client starved of CPU for
# longer than burst/rate (a loaded test machine) would lose allowance it never got to use.
BURST = 3 * RATE
CLIENTS = 3  # enough to ask for several times the rate; more only loads the machine
SECONDS = 10.0


async def hammer(url: str, token: str) -> tuple[Counter[int], float, list[httpx.Response]]:
    """As many requests as CLIENTS clients can send for SECONDS: (statuses, seconds taken
    from the first request sent to the last, the refusals)."""
    statuses: Counter[int] = Counter()
    refusals: list[httpx.Response] = []
    started = time.monotonic()
    sent_at: list[float] = []  # the window nginx counted over: not the clients' set-up

    async def client() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
            while (sent := time.monotonic()) - started < SECONDS:
                sent_at.append(sent)
                response = await http.get("/rooms")
                statuses[response.status_code] += 1
                if response.status_code == 429:
                    refusals.append(response)

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return statuses, max(sent_at) - min(sent_at), refusals


def rate_limit_should_hold_across_instances_within_a_tenth(
    postgres_url: str, tmp_path: Path, report: Callable[[str], None]
) -> None:
    asyncio.run(migrate(postgres_url))
    token = create_token(postgres_url, "dashboard", "read")
    rate = {"rate=100r/s": f"rate={RATE}r/s", "burst=100": f"burst={BURST}"}
    with ExitStack() as stack:
        servers = [
            stack.enter_context(running_server(postgres_url, "--no-access-log"))
            for _ in range(INSTANCES)
        ]
        port = free_port()
        configuration = shipped_configuration(servers, port, rate)
        url = stack.enter_context(running_nginx(configuration, port, tmp_path / "nginx"))
        statuses, seconds, refusals = asyncio.run(hammer(url, token))

    expected = BURST + RATE * seconds  # the burst, then the refill
    report(
        f"{sum(statuses.values())} requests in {seconds:.1f} s, {statuses[200]} accepted"
        f" (expected {expected:.0f}), statuses {dict(statuses)}"
    )
    assert set(statuses) == {200, 429}
    assert abs(statuses[200] - expected) <= 0.1 * expected
    refused = refusals[0]  # as roomtemp's own 429: problem+json with Retry-After
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["code"] == "rate_limited"
