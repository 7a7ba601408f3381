"""MQTT ingestion: readings/s from publish (QoS 1) to durably stored, beside the single-write
HTTP rate of the same server in the same run, and roomtemp's CPU per reading for both.

A real Mosquitto, a paho publisher in this process (its CPU reported as the generator's), and
`roomtemp serve` with one worker per core sharing the subscription (MQTT 5 $share). Stored
means counted by roomtemp_measurements_stored, which counts a reading once it is committed.
"""

import multiprocessing
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from bench.load import children_cpu_seconds, run_wrk
from tests.blackbox.server import Server, running_server
from tests.mqtt.brokers import mosquitto
from tests.mqtt.observe import metric, wait_until_subscribed

ROOMS = 100
PUBLISHERS = 4
CLOCK_TICKS = 100  # per second, in /proc/<pid>/stat (USER_HZ on Linux)


def readings(total: int) -> list[tuple[str, bytes]]:
    """`total` distinct readings of ROOMS rooms, a second apart in each, made before timing."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    made = []
    for index in range(total):
        ts = (start - timedelta(seconds=index // ROOMS)).isoformat()
        body = {"v": 20 + index % 100 / 10, "u": "C", "ts": ts}
        made.append((f"bench/room-{index % ROOMS}", msgspec.json.encode(body)))
    return made


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


def publish(port: int, messages: list[tuple[str, bytes]]) -> None:
    """Publish every message at QoS 1 as fast as the broker acknowledges them."""
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(10_000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    last = None
    for topic, payload in messages:
        while (last := client.publish(topic, payload, qos=1)).rc == paho.MQTT_ERR_QUEUE_SIZE:
            time.sleep(0.001)
    if last is not None:
        last.wait_for_publish()
    client.disconnect()
    client.loop_stop()


def measure_mqtt(database_url: str, *, workers: int, seconds: int, total: int) -> dict[str, Any]:
    messages = readings(total)
    with tempfile.TemporaryDirectory() as folder:
        broker = mosquitto(Path(folder))
        env = {
            "ROOMTEMP_MQTT_URL": broker.url(),
            "ROOMTEMP_MQTT_TOPICS": "bench/{room}",
            "ROOMTEMP_MQTT_CLIENT_ID": f"bench-{uuid.uuid4().hex[:8]}",
            "ROOMTEMP_ACCESS_LOG": "false",
        }
        flags = ("--workers", str(workers), "--log-level", "warning", "--migrate")
        try:
            with running_server(database_url, *flags, env=env) as server:
                wait_until_subscribed(server.url, workers)
                cpu = tree_cpu_seconds(server.process.pid)
                http = run_wrk(server.url, "bench-mqtt-http", connections=32, seconds=seconds)
                http_cpu = tree_cpu_seconds(server.process.pid) - cpu
                time.sleep(1)  # requests cut off by wrk's deadline may still be committing
                mqtt = publish_until_stored(server, broker.port, messages)
        finally:
            broker.stop()
    http["roomtemp_cpu_us_per_item"] = http_cpu / http["acknowledged"] * 1e6
    return {
        "http_single": http,
        "mqtt_qos1": mqtt,
        "mqtt_vs_http_single": mqtt["readings_per_s"] / http["requests_per_s"],
    }


def publish_until_stored(
    server: Server, port: int, messages: list[tuple[str, bytes]]
) -> dict[str, Any]:
    """Sensors in PUBLISHERS processes of their own (as wrk has threads of its own): one
    Python client alone would be the limit, not roomtemp."""
    stored_before = metric(server.url, "roomtemp_measurements_stored_total")
    cpu_before = tree_cpu_seconds(server.process.pid)
    generator_before = children_cpu_seconds()
    started = time.perf_counter()
    context = multiprocessing.get_context("fork")
    publishers = [
        context.Process(target=publish, args=(port, messages[part::PUBLISHERS]))
        for part in range(PUBLISHERS)
    ]
    for publisher in publishers:
        publisher.start()
    while metric(server.url, "roomtemp_measurements_stored_total") < stored_before + len(messages):
        time.sleep(0.05)
    wall = time.perf_counter() - started
    for publisher in publishers:
        publisher.join()
    roomtemp_cpu = tree_cpu_seconds(server.process.pid) - cpu_before
    return {
        "readings_per_s": len(messages) / wall,
        "readings": len(messages),
        "seconds": wall,
        "generator_cpu": (children_cpu_seconds() - generator_before) / wall,
        "roomtemp_cpu_us_per_item": roomtemp_cpu / len(messages) * 1e6,
    }


def print_mqtt(results: dict[str, Any]) -> None:
    measured = {name: run["mqtt"] for name, run in results["backends"].items() if "mqtt" in run}
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
