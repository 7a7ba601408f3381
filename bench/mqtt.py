"""MQTT ingestion: readings/s from publish (QoS 1) to durably stored, beside the single-write
HTTP rate of the same server in the same run, and roomtemp's CPU per reading for both.

A real Mosquitto, mosquitto_pub as the sensors (its CPU reported as the generator's), and
`roomtemp serve` with one worker per core sharing the subscription (MQTT 5 $share). Stored
means counted by roomtemp_measurements_stored, which counts a reading once it is committed.
"""

import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from bench.load import children_cpu_seconds, run_wrk
from tests.blackbox.server import Server, running_server
from tests.mqtt.brokers import mosquitto
from tests.mqtt.observe import metric, wait_until_subscribed

PUBLISHERS = 8  # and rooms: one each
ROUNDS = 2
CLOCK_TICKS = 100  # per second, in /proc/<pid>/stat (USER_HZ on Linux)


def readings(folder: Path, total: int, part: int, latest: datetime) -> list[Path]:
    """`total` readings, a file of lines per room (a second apart, back from `latest`), made
    before timing: what each publisher sends. Each `part` has times of its own."""
    per_room = total // PUBLISHERS
    start = latest - timedelta(seconds=part * per_room)
    files = []
    for room in range(PUBLISHERS):
        lines = [
            msgspec.json.encode(
                {"v": 20 + n % 100 / 10, "u": "C", "ts": (start - timedelta(seconds=n)).isoformat()}
            )
            for n in range(per_room)
        ]
        file = folder / f"room-{room}.{part}.ndjson"
        file.write_bytes(b"\n".join(lines) + b"\n")
        files.append(file)
    return files


def tree_cpu_seconds(parent: int) -> float:
    """CPU seconds (user + system) of a process and its children (the server's workers)."""
    total = 0
    for process in Path("/proc").glob("[0-9]*"):
        try:
            fields = (process / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(process.name) == parent or int(fields[1]) == parent:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def measure_mqtt(database_url: str, *, workers: int, seconds: int, total: int) -> dict[str, Any]:
    """ROUNDS of single HTTP writes then MQTT readings, alternated, and the best of each: this
    machine's load from elsewhere comes and goes, and would otherwise favour one of them."""
    with tempfile.TemporaryDirectory() as folder:
        broker = mosquitto(Path(folder))
        env = {
            "ROOMTEMP_MQTT_URL": broker.url(),
            "ROOMTEMP_MQTT_TOPICS": "bench/{room}",
            "ROOMTEMP_MQTT_CLIENT_ID": f"bench-{uuid.uuid4().hex[:8]}",
            "ROOMTEMP_ACCESS_LOG": "false",
        }
        flags = ("--workers", str(workers), "--log-level", "warning", "--migrate")
        https, mqtts = [], []
        try:
            with running_server(database_url, *flags, env=env) as server:
                wait_until_subscribed(server.url, workers)
                latest = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
                for part in range(ROUNDS):
                    files = readings(Path(folder), total, part, latest)
                    https.append(single_writes(server, seconds, f"bench-mqtt-http-{part}"))
                    mqtts.append(publish_until_stored(server, broker.port, files))
        finally:
            broker.stop()
    http = max(https, key=lambda run: run["requests_per_s"])
    mqtt = max(mqtts, key=lambda run: run["readings_per_s"])
    return {
        "http_single": http,
        "mqtt_qos1": mqtt,
        "mqtt_vs_http_single": mqtt["readings_per_s"] / http["requests_per_s"],
        "rounds": {"http_single": https, "mqtt_qos1": mqtts},
    }


def single_writes(server: Server, seconds: int, label: str) -> dict[str, Any]:
    cpu = tree_cpu_seconds(server.process.pid)
    http = run_wrk(server.url, label, connections=32, seconds=seconds)
    http["roomtemp_cpu_us_per_item"] = (
        (tree_cpu_seconds(server.process.pid) - cpu) / http["acknowledged"] * 1e6
    )
    time.sleep(1)  # requests cut off by wrk's deadline may still be committing
    return http


def publish_until_stored(server: Server, port: int, files: list[Path]) -> dict[str, Any]:
    """mosquitto_pub -l, one per room, each sending its file's lines as messages at QoS 1:
    a publisher in C, as wrk is for HTTP, so that roomtemp is the limit, not the sensors."""
    total = sum(len(file.read_bytes().splitlines()) for file in files)
    stored_before = metric(server.url, "roomtemp_measurements_stored_total")
    cpu_before = tree_cpu_seconds(server.process.pid)
    generator_before = children_cpu_seconds()
    started = time.perf_counter()
    publishers = [
        subprocess.Popen(
            [
                "mosquitto_pub",
                "-p",
                str(port),
                "-q",
                "1",
                "-l",
                "-t",
                f"bench/{file.stem.split('.')[0]}",
            ],
            stdin=file.open("rb"),
        )
        for file in files
    ]
    # Asked four times a second: a scrape costs a worker milliseconds, which would be counted
    # against MQTT alone.
    while metric(server.url, "roomtemp_measurements_stored_total") < stored_before + total:
        time.sleep(0.25)
    wall = time.perf_counter() - started
    for publisher in publishers:
        publisher.wait()
    roomtemp_cpu = tree_cpu_seconds(server.process.pid) - cpu_before
    return {
        "readings_per_s": total / wall,
        "readings": total,
        "seconds": wall,
        "generator_cpu": (children_cpu_seconds() - generator_before) / wall,
        "roomtemp_cpu_us_per_item": roomtemp_cpu / total * 1e6,
    }


def print_mqtt(measured: dict[str, Any]) -> None:
    if not measured:
        return
    print("\nMQTT ingestion (QoS 1, publish to durably stored) beside single HTTP writes:")
    for name, run in measured.items():
        http, mqtt, ratio = run["http_single"], run["mqtt_qos1"], run["mqtt_vs_http_single"]
        print(
            f"  {name}: MQTT {mqtt['readings_per_s']:,.0f}/s"
            f" ({mqtt['roomtemp_cpu_us_per_item']:.0f} us roomtemp CPU each),"
            f" HTTP {http['requests_per_s']:,.0f}/s"
            f" ({http['roomtemp_cpu_us_per_item']:.0f} us each):"
            f" {ratio:.2f}x (target >= 1.0: {'met' if ratio >= 1.0 else 'NOT MET'})"
        )
