"""The real server's log: JSON lines when asked, and one line per request, its own."""

import json
from pathlib import Path
from typing import Any

import httpx

from tests.blackbox.server import running_server


def served_log(tmp_path: Path, *flags: str, env: dict[str, str]) -> list[str]:
    """What `roomtemp serve` writes to stderr while it answers two requests and stops."""
    log = tmp_path / "stderr.log"
    with (
        log.open("wb") as stderr,
        running_server("memory://", *flags, env=env, stderr=stderr) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        client.post(
            "/measurements/Living%20room", json={"v": 290.0}, headers={"X-Request-ID": "one"}
        )
        client.get("/nowhere", headers={"X-Request-ID": "two"})
    return log.read_text().splitlines()


def access_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line["logger"] == "roomtemp.access"]


def json_logs_should_be_one_object_per_line_and_one_line_per_request(tmp_path: Path) -> None:
    lines = [json.loads(line) for line in served_log(tmp_path, env={"ROOMTEMP_LOG_FORMAT": "json"})]
    requests = [line for line in access_lines(lines) if line["route"] != "/healthz"]
    assert [(r["method"], r["route"], r["status"], r["request_id"]) for r in requests] == [
        ("POST", "/measurements/{room_id}", 201, "one"),
        ("GET", "<unmatched>", 404, "two"),
    ]
    assert all(isinstance(r["duration_ms"], float) for r in requests)
    assert not [line for line in lines if line["logger"] == "uvicorn.access"]
    assert any(line["logger"] == "uvicorn.error" for line in lines)  # startup and shutdown


def console_logs_should_be_readable_lines(tmp_path: Path) -> None:
    lines = served_log(tmp_path, env={})
    [posted] = [line for line in lines if "roomtemp.access POST" in line]
    _, _, message = posted.partition(" INFO    roomtemp.access ")
    assert message.startswith(
        "POST /measurements/Living%20room 201 method=POST route=/measurements/{room_id} "
        "status=201 duration_ms="
    )
    assert message.endswith(" request_id=one")


def no_access_log_should_log_no_request(tmp_path: Path) -> None:
    lines = served_log(tmp_path, "--no-access-log", env={"ROOMTEMP_LOG_FORMAT": "json"})
    assert lines
    assert access_lines([json.loads(line) for line in lines]) == []
