"""GET /metrics: what the service has done, labelled so that the series stay few."""

import asyncio
import math
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from roomtemp.http.metrics import (
    LATENCY_BUCKETS,
    Metrics,
    ProcessId,
    forget_dead_workers,
    observe_all,
)
from roomtemp.settings import Settings
from roomtemp.storage import migrate
from tests.http.conftest import app_client
from tests.http.test_operations import BrokenStore

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
STORED = ("roomtemp_measurements_stored_total", frozenset[tuple[str, str]]())


def samples_of(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return samples_of(response.text)


def requests(samples: Samples, method: str, route: str, status: int) -> float:
    labels = frozenset({"method": method, "route": route, "status": str(status)}.items())
    return samples.get(("roomtemp_http_requests_total", labels), 0)


def label_values(samples: Samples, name: str, label: str) -> set[str]:
    return {dict(labels)[label] for sample, labels in samples if sample == name}


async def requests_should_be_counted_by_method_route_template_and_status(
    client: httpx.AsyncClient,
) -> None:
    for room in ("hall", "kitchen", "Living%20room"):
        assert (await client.post(f"/measurements/{room}", json={"v": 290.0})).status_code == 201
    assert (await client.post("/measurements/hall", json={"v": -1})).status_code == 422
    assert (await client.get("/measurements/hall/average/PT1H")).status_code == 200
    samples = await scrape(client)
    assert requests(samples, "POST", "/measurements/{room_id}", 201) == 3
    assert requests(samples, "POST", "/measurements/{room_id}", 422) == 1
    assert requests(samples, "GET", "/measurements/{room_id}/average/{duration}", 200) == 1


async def latency_should_be_a_histogram_per_route(client: httpx.AsyncClient) -> None:
    for _ in range(4):
        await client.post("/measurements/hall", json={"v": 290.0})
    samples = await scrape(client)
    route = frozenset({"method": "POST", "route": "/measurements/{room_id}"}.items())
    assert samples[("roomtemp_http_request_duration_seconds_count", route)] == 4
    infinite = route | {("le", "+Inf")}
    assert samples[("roomtemp_http_request_duration_seconds_bucket", infinite)] == 4
    assert samples[("roomtemp_http_request_duration_seconds_sum", route)] > 0


async def many_rooms_and_unknown_paths_should_make_few_label_values(
    client: httpx.AsyncClient,
) -> None:
    for number in range(50):
        await client.post(f"/measurements/room-{number}", json={"v": 290.0})
        await client.get(f"/no/such/path/{number}")
        await client.request("BREW", f"/measurements/room-{number}")
    samples = await scrape(client)
    routes = label_values(samples, "roomtemp_http_requests_total", "route")
    assert routes == {"/measurements/{room_id}", "<unmatched>"}
    methods = label_values(samples, "roomtemp_http_requests_total", "method")
    assert methods == {"POST", "GET", "other"}
    assert requests(samples, "GET", "<unmatched>", 404) == 50
    assert requests(samples, "other", "/measurements/{room_id}", 405) == 50


async def measurements_stored_should_count_only_acknowledged_ones(
    client: httpx.AsyncClient,
) -> None:
    ts = "2026-11-27T11:00:00Z"
    await client.post("/measurements/hall", json={"v": 290.0, "ts": ts})
    await client.post("/measurements/hall", json={"v": 291.0, "ts": ts})  # 409
    await client.post("/measurements/hall", json={"v": "warm"})  # 422
    await client.post("/measurements/kitchen", json={"v": 290.0})
    samples = await scrape(client)
    assert samples[("roomtemp_measurements_stored_total", frozenset())] == 2


async def storage_errors_should_count_the_503_answers() -> None:
    async with app_client(store=BrokenStore()) as client:
        for _ in range(3):
            assert (await client.get("/readyz")).status_code == 503
        samples = await scrape(client)
    assert samples[("roomtemp_storage_errors_total", frozenset())] == 3
    assert requests(samples, "GET", "/readyz", 503) == 3


async def batches_should_show_their_sizes_and_stored_measurements(
    client: httpx.AsyncClient,
) -> None:
    for size in (1, 250, 5_000):
        items = [
            {"room_id": f"room-{i}", "v": 290.0, "ts": "2026-11-27T10:00:00Z"} for i in range(size)
        ]
        assert (await client.post("/measurements", json=items)).status_code == 200
    await client.post("/measurements", json=[{"room_id": "hall", "v": -1.0}])  # 422: not stored
    samples = await scrape(client)
    assert samples[("roomtemp_batch_size_count", frozenset())] == 4
    assert samples[("roomtemp_batch_size_sum", frozenset())] == 5_252
    assert samples[("roomtemp_batch_size_bucket", frozenset({("le", "1000.0")}))] == 3
    assert samples[("roomtemp_measurements_stored_total", frozenset())] == 5_251


async def pool_use_should_be_reported_for_postgres(postgres_url: str) -> None:
    await migrate(postgres_url)
    async with app_client(Settings(database_url=postgres_url, db_pool_size=3)) as client:
        await client.post("/measurements/hall", json={"v": 290.0})
        samples = await scrape(client)
    pool = {
        dict(labels)["state"]: value
        for (name, labels), value in samples.items()
        if name == "roomtemp_db_pool_connections"
    }
    assert pool["max"] == 3
    assert 1 <= pool["open"] <= 3
    assert pool["in_use"] == 0  # the scrape itself holds no connection


async def a_memory_store_should_report_no_pool(client: httpx.AsyncClient) -> None:
    samples = await scrape(client)
    assert not label_values(samples, "roomtemp_db_pool_connections", "state")


def dead_workers_live_gauges_should_be_forgotten_and_their_counters_kept(
    tmp_path: Path,
) -> None:
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    dead = tmp_path / f"gauge_livesum_{ended.pid}.db"
    alive = tmp_path / f"gauge_livesum_{os.getpid()}.db"
    counter = tmp_path / f"counter_{ended.pid}.db"
    for file in (dead, alive, counter):
        file.touch()
    forget_dead_workers(tmp_path)
    assert (dead.exists(), alive.exists(), counter.exists()) == (False, True, True)


def a_forked_worker_should_count_under_its_own_process_id() -> None:
    process_id = ProcessId()
    assert process_id() == os.getpid()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: say which id it would write its values under, and go
        os.write(write, str(process_id()).encode())
        os._exit(0)
    os.waitpid(child, 0)
    assert int(os.read(read, 32)) == child


# Bucket bounds themselves, either side of them, and anything from 0 to past the last bound.
durations = st.lists(
    st.sampled_from(LATENCY_BUCKETS)
    | st.floats(min_value=0, max_value=20, allow_nan=False)
    | st.sampled_from(LATENCY_BUCKETS).map(lambda bound: math.nextafter(bound, math.inf)),
    max_size=50,
)


@given(amounts=durations)
def observe_all_should_count_as_observe_does_one_by_one(amounts: list[float]) -> None:
    one_by_one, together = (
        Histogram("h", "", buckets=LATENCY_BUCKETS, registry=CollectorRegistry()) for _ in "ab"
    )
    for amount in amounts:
        one_by_one.observe(amount)
    observe_all(together, amounts)
    expected, got = (
        {
            sample.labels.get("le", sample.name): sample.value
            for family in histogram.collect()
            for sample in family.samples
            if not sample.name.endswith("_created")
        }
        for histogram in (one_by_one, together)
    )
    assert got.pop("h_sum") == pytest.approx(expected.pop("h_sum"))
    assert got == expected


async def counts_should_be_written_before_callbacks_queued_after_them() -> None:
    """What an answer's count relies on to be written before the answer leaves: its sending
    is queued after the count (one_send.py), and a scrape in another worker reads the files."""
    metrics = Metrics(None)
    written: list[Samples] = []
    metrics.count_stored(2)
    metrics.observe_request_soon("POST", "/measurements/{room_id}", 201, 0.001)
    asyncio.get_running_loop().call_soon(
        lambda: written.append(samples_of(generate_latest(metrics.registry).decode()))
    )
    assert samples_of(generate_latest(metrics.registry).decode())[STORED] == 0  # not yet
    await asyncio.sleep(0)
    assert written[0][STORED] == 2
    assert requests(written[0], "POST", "/measurements/{room_id}", 201) == 1
