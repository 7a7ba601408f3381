"""`roomtemp simulate --mqtt`: the simulated rooms through a broker into a subscribed server."""

from pathlib import Path

import httpx

from tests.blackbox.server import roomtemp as run
from tests.blackbox.server import running_server
from tests.mqtt.brokers import Broker
from tests.mqtt.observe import metric, wait_for, wait_until_subscribed
from tests.network import free_port


def simulate_should_publish_the_rooms_to_a_broker(
    broker: Broker, mqtt_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**mqtt_env, "ROOMTEMP_MQTT_TOPICS": "home/{room}/temperature"}
    with running_server(f"sqlite:///{tmp_path / 'demo.sqlite3'}", "--migrate", env=env) as server:
        wait_until_subscribed(server.url)
        args = ["--backfill", "PT2H", "--rooms", "3", "--seed", "1"]
        published = run(
            "simulate", "--mqtt", broker.url(), "--topic", "home/{room}/temperature", *args
        )
        assert published.returncode == 0, published.stderr
        count = int(published.stdout.split()[1].replace(",", ""))
        wait_for(lambda: metric(server.url, "roomtemp_measurements_stored_total") == count)
        rooms = httpx.get(f"{server.url}/rooms").json()
        assert sorted(room["room_id"] for room in rooms) == ["Bedroom", "Kitchen", "Living room"]
        assert sum(room["count"] for room in rooms) == count
        assert 300 <= count <= 360  # a reading a minute, less the minutes a sensor was silent


def simulate_should_say_so_when_no_broker_answers() -> None:
    result = run("simulate", "--mqtt", f"mqtt://127.0.0.1:{free_port()}", "--backfill", "PT1H")
    assert result.returncode == 1
    assert "roomtemp simulate: no MQTT broker answers" in result.stderr
