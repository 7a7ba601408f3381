"""Two replicas of two workers each share one subscription (MQTT 5 `$share/roomtemp/...`)."""

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from tests.blackbox.server import running_server
from tests.mqtt.brokers import Broker
from tests.mqtt.observe import metric, stored_readings, wait_for, wait_until_subscribed
from tests.mqtt.publishers import sensors

READINGS = 2000
# A room per reading: two readings of one room arriving at the same microsecond at two
# processes would otherwise be one.
ROOMS = [f"room-{number}" for number in range(READINGS)]


def received_by_process(folder: Path) -> dict[str, float]:
    """pid -> MQTT messages received, from the workers' files of prometheus-client."""
    counts = {}
    for file in folder.glob("counter_*.db"):
        for family in MultiProcessCollector.merge([str(file)]):  # type: ignore[no-untyped-call]
            for sample in family.samples:
                if sample.name == "roomtemp_mqtt_messages_received_total":
                    counts[file.stem.removeprefix("counter_")] = sample.value
    return counts


def two_replicas_of_two_workers_should_store_each_reading_once_and_share_the_load(
    broker: Broker,
    postgres_url: str,
    mqtt_env: dict[str, str],
    tmp_path: Path,
    report: Callable[[str], None],
) -> None:
    if broker.kind != "mosquitto":
        pytest.skip("shared subscriptions are MQTT 5's; amqtt speaks 3.1.1")
    folders = [tmp_path / "metrics-a", tmp_path / "metrics-b"]
    with ExitStack() as stack:
        servers = []
        for index, folder in enumerate(folders):
            folder.mkdir()
            log = stack.enter_context((tmp_path / f"replica-{index}.log").open("wb"))
            flags = ("--workers", "2", "--no-access-log", *(["--migrate"] if index == 0 else []))
            env = {**mqtt_env, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
            servers.append(
                stack.enter_context(running_server(postgres_url, *flags, env=env, stderr=log))
            )
        for server in servers:
            wait_until_subscribed(server.url, processes=2)
        # Without a ts, each reading is stored at its time of arrival: a reading delivered
        # twice would be stored twice.
        with sensors(broker.port) as publisher:
            publisher.publish_all((f"sensors/{room}", b"21.5") for room in ROOMS)
        assert len(publisher.acknowledged) == READINGS
        wait_for(
            lambda: (
                sum(metric(s.url, "roomtemp_measurements_stored_total") for s in servers)
                >= READINGS
            ),
            what="every reading stored",
        )
        received = [received_by_process(folder) for folder in folders]
    stored = stored_readings(postgres_url, ROOMS)
    per_process = [count for replica in received for count in replica.values()]
    report(f"published {READINGS}, stored {len(stored)}, received by each process {per_process}")
    assert len(stored) == READINGS
    assert len(per_process) == 4
    assert sum(per_process) == READINGS
    assert min(per_process) > 0
