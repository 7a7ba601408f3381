"""Prometheus metrics: what the service has done, for operators, at GET /metrics.

Routes are labelled by their template (`/measurements/{room_id}`), never by the path, so that a
million rooms make one time series, not a million. With several workers (`roomtemp serve
--workers N`), `serve` points prometheus-client's multiprocess mode at a folder of its own: each
worker writes its values to files there, and a scrape answered by any worker adds them all up.
"""

import asyncio
import os
import re
from bisect import bisect_left
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from functools import cache
from pathlib import Path
from typing import Protocol, runtime_checkable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

# Seconds; finer than prometheus-client's default at the low end, where most answers are.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
BATCH_SIZE_BUCKETS = (1, 10, 100, 1_000, 10_000, 100_000)
# Any other method (a client may send any token) is counted as "other": a bounded label.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
POOL_SAMPLE_SECONDS = 1.0
LIVE_GAUGE_FILE = re.compile(r"gauge_live\w+_(\d+)\.db")


class ProcessId:
    """os.getpid(), asked of the kernel once per process (and again in a forked child)."""

    def __init__(self) -> None:
        self._remember()
        os.register_at_fork(after_in_child=self._remember)

    def _remember(self) -> None:
        self.value = os.getpid()

    def __call__(self) -> int:
        return self.value


@cache
def _pid_asked_once() -> None:
    """prometheus-client's multiprocess values check the process id at every change, a system
    call each: four per single write, 0.9 of the 4.3 us its counting took (timeit). Their class
    is swapped once per process, before any instrument is made (each writes to a file named
    after the process id; two classes would be two writers of one file)."""
    if getattr(values.ValueClass, "_multiprocess", False):
        asked_once = ProcessId()
        values.ValueClass = values.MultiProcessValue(asked_once)  # type: ignore[no-untyped-call]


@runtime_checkable
class PooledStore(Protocol):
    def pool_use(self) -> dict[str, int]:
        """Connections of the pool by state: max, open, in_use."""


class Metrics:
    """The service's instruments. `multiprocess_dir` is prometheus-client's folder shared by
    the workers, when there are several; the instruments write there by themselves."""

    def __init__(self, multiprocess_dir: str | None) -> None:
        self.multiprocess_dir = multiprocess_dir
        _pid_asked_once()
        self.registry = CollectorRegistry()
        registry = self.registry
        if multiprocess_dir is None:  # in multiprocess mode, each worker's would be added up
            ProcessCollector(registry=registry)
        self.requests = Counter(
            "roomtemp_http_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "roomtemp_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.measurements_stored = Counter(
            "roomtemp_measurements_stored",
            "Measurements acknowledged as durably stored (a harmless re-post counts again)",
            registry=registry,
        )
        self.batch_sizes = Histogram(
            "roomtemp_batch_size",
            "Measurements per batch received by POST /measurements",
            buckets=BATCH_SIZE_BUCKETS,
            registry=registry,
        )
        self.storage_errors = Counter(
            "roomtemp_storage_errors",
            "Requests answered 503 because the database did not answer",
            registry=registry,
        )
        self.influx_points_skipped = Counter(
            "roomtemp_influx_points_skipped",
            "Line-protocol points written that were no temperature (no room tag, no value"
            " field, or another unit), skipped",
            registry=registry,
        )
        self.pool_connections = Gauge(
            "roomtemp_db_pool_connections",
            "PostgreSQL pool connections of the live server processes: max, open, in_use",
            ["state"],
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.mqtt_received = Counter(
            "roomtemp_mqtt_messages_received", "MQTT messages received", registry=registry
        )
        self.mqtt_unreadable = Counter(
            "roomtemp_mqtt_messages_unreadable",
            "MQTT messages acknowledged without storing anything, by reason",
            ["reason"],
            registry=registry,
        )
        self.mqtt_storage_retries = Counter(
            "roomtemp_mqtt_storage_retries",
            "Commits of MQTT readings tried again because the database did not answer",
            registry=registry,
        )
        self.mqtt_connected = Gauge(
            "roomtemp_mqtt_connected",
            "Server processes connected and subscribed to the MQTT broker",
            multiprocess_mode="livesum",
            registry=registry,
        )
        self._request_instruments: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        # Counts of the event loop's current turn, written by flush() (see _count_soon).
        self._requests_due: list[tuple[str, str, int, float]] = []
        self._stored_due = 0
        self._flush_queued = False

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        count, latency = self._instruments(method, route, status)
        count.inc()
        latency.observe(seconds)

    def observe_request_soon(self, method: str, route: str, status: int, seconds: float) -> None:
        """observe_request(), written with the turn's other counts: call it before the answer
        is sent (see _count_soon)."""
        self._requests_due.append((method, route, status, seconds))
        self._count_soon()

    def _instruments(self, method: str, route: str, status: int) -> tuple[Counter, Histogram]:
        # The labelled children are looked up once per (method, route, status), not once per
        # request: labels() is most of the cost of counting. Every part of the key is bounded.
        key = (method if method in METHODS else "other", route, status)
        instruments = self._request_instruments.get(key)
        if instruments is None:
            instruments = self._request_instruments[key] = (
                self.requests.labels(key[0], route, str(status)),
                self.latency.labels(key[0], route),
            )
        return instruments

    def count_stored(self, measurements: int) -> None:
        """Count measurements acknowledged to the client as durably stored: call it before
        the acknowledgement is sent (see _count_soon)."""
        self._stored_due += measurements
        self._count_soon()

    def _count_soon(self) -> None:
        """Write the counts made in this turn of the event loop together, at its end. Each
        value written is a write to the multiprocess file, behind a lock: four per single
        write, 3.5 of its ~21 us in-process (measured). The flush is queued at the turn's first
        count, so ahead of any answer counted after it: OneSendPerTurn queues an answer's
        sending as it is written. A scrape by another worker, after the answer, finds it
        counted."""
        if self._flush_queued:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop: nothing to wait for
            self.flush()
            return
        loop.call_soon(self.flush)
        self._flush_queued = True

    def flush(self) -> None:
        """Write the counts not written yet."""
        self._flush_queued = False
        stored, self._stored_due = self._stored_due, 0
        if stored:
            self.measurements_stored.inc(stored)
        requests, self._requests_due = self._requests_due, []
        seen: dict[tuple[str, str, int], list[float]] = {}
        for method, route, status, seconds in requests:
            seen.setdefault((method, route, status), []).append(seconds)
        for (method, route, status), durations in seen.items():
            count, latency = self._instruments(method, route, status)
            count.inc(len(durations))
            observe_all(latency, durations)

    def count_skipped(self, points: int) -> None:
        """Count line-protocol points that were not temperatures, skipped."""
        self.influx_points_skipped.inc(points)

    def observe_batch(self, size: int) -> None:
        """Record the number of measurements in one batch received."""
        self.batch_sizes.observe(size)

    def count_mqtt_received(self) -> None:
        self.mqtt_received.inc()

    def count_mqtt_unreadable(self, reason: str) -> None:
        """`reason` is one of a few fixed words (roomtemp.mqtt.payloads)."""
        self.mqtt_unreadable.labels(reason).inc()

    def count_mqtt_storage_retry(self) -> None:
        self.mqtt_storage_retries.inc()

    def set_mqtt_connected(self, connected: bool) -> None:
        self.mqtt_connected.set(int(connected))

    def set_pool_use(self, store: PooledStore) -> None:
        for state, connections in store.pool_use().items():
            self.pool_connections.labels(state).set(connections)

    def exposition(self) -> bytes:
        """The Prometheus text format, over every worker in multiprocess mode."""
        self.flush()
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        forget_dead_workers(Path(self.multiprocess_dir))
        registry = CollectorRegistry()
        # prometheus_client.multiprocess carries no annotations: hence the ignores.
        MultiProcessCollector(registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        return generate_latest(registry)


def observe_all(histogram: Histogram, amounts: list[float]) -> None:
    """histogram.observe() of each amount, written as one change to its sum and one to each
    bucket they fall in (observe() writes two values each). prometheus-client has no public
    way to do it: tests/http/test_metrics.py checks that this counts as observe() does."""
    bounds = histogram._upper_bounds
    counts = [0] * len(bounds)
    for amount in amounts:
        counts[bisect_left(bounds, amount)] += 1  # the first bound >= amount, as observe()
    histogram._sum.inc(sum(amounts))
    for bucket, count in zip(histogram._buckets, counts, strict=True):
        if count:
            bucket.inc(count)


def forget_dead_workers(folder: Path) -> None:
    """Drop the live gauges of workers that have died (uvicorn replaces a dead worker): a
    dead worker's pool is no longer in use. Its counters stay, as counters must."""
    for file in folder.glob("gauge_live*.db"):
        if (match := LIVE_GAUGE_FILE.fullmatch(file.name)) and not is_alive(int(match[1])):
            mark_process_dead(int(match[1]), str(folder))  # type: ignore[no-untyped-call]


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, as another user
    return True


@asynccontextmanager
async def pool_sampling(metrics: Metrics, store: object) -> AsyncIterator[None]:
    """While the app runs, the pool use of a pooled store, sampled every second: in
    multiprocess mode a scrape reads the other workers' values from their files."""
    if not isinstance(store, PooledStore):
        yield
        return

    async def sample_forever() -> None:
        while True:
            metrics.set_pool_use(store)
            await asyncio.sleep(POOL_SAMPLE_SECONDS)

    task = asyncio.create_task(sample_forever())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
