"""Metrics of a real server with several workers: any worker's scrape counts them all."""

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.blackbox.server import Server, running_server
from tests.http.test_metrics import requests, samples_of

ROUTE = "/measurements/{room_id}"
ROUND = 40  # requests per round, each on a connection of its own
MAX_ROUNDS = 25
NO_LABELS: frozenset[tuple[str, str]] = frozenset()


def post_one(server: Server, number: int) -> None:
    # A new connection each time: the kernel hands each to whichever worker accepts first.
    response = httpx.post(f"{server.url}/measurements/room-{number}", json={"v": 290.0})
    assert response.status_code == 201


def workers_that_answered(log: Path) -> set[int]:
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    return {
        line["pid"]
        for line in lines
        if line["logger"] == "roomtemp.access" and line["route"] == ROUTE
    }


def metrics_should_add_up_every_worker(tmp_path: Path) -> None:
    log = tmp_path / "stderr.log"
    env = {"ROOMTEMP_LOG_FORMAT": "json"}
    with (
        log.open("wb") as stderr,
        running_server("memory://", "--workers", "2", env=env, stderr=stderr) as server,
        ThreadPoolExecutor(8) as pool,
    ):
        sent = 0
        # Until both workers have answered some: the second may still be starting at first.
        while len(workers_that_answered(log)) < 2 and sent < ROUND * MAX_ROUNDS:
            list(pool.map(lambda number: post_one(server, number), range(sent, sent + ROUND)))
            sent += ROUND
        scrapes = [httpx.get(f"{server.url}/metrics").text for _ in range(10)]
    assert len(workers_that_answered(log)) == 2
    assert [requests(samples_of(text), "POST", ROUTE, 201) for text in scrapes] == [sent] * 10
    stored = ("roomtemp_measurements_stored_total", NO_LABELS)
    assert [samples_of(text)[stored] for text in scrapes] == [sent] * 10
