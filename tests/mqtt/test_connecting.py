"""Reaching the broker: user and password, TLS, and a broker that speaks only MQTT 3.1.1."""

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.blackbox.server import running_server
from tests.mqtt.brokers import MOSQUITTO, Broker, amqtt, mosquitto
from tests.mqtt.observe import metric, wait_for, wait_until_subscribed
from tests.mqtt.publishers import mosquitto_pub
from tests.network import free_port

needs_mosquitto = pytest.mark.skipif(MOSQUITTO is None, reason="Mosquitto is not installed")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    made = tmp_path / "broker"
    made.mkdir()
    return made


@pytest.fixture
def guarded_broker(folder: Path) -> Iterator[Broker]:
    started = mosquitto(folder, passwords={"roomtemp": "s3cret:/@", "sensor": "other"})
    try:
        yield started
    finally:
        started.stop()


def env_for(url: str, **more: str) -> dict[str, str]:
    return {
        "ROOMTEMP_MQTT_URL": url,
        "ROOMTEMP_MQTT_CLIENT_ID": f"test-{uuid.uuid4().hex[:8]}",
        **{f"ROOMTEMP_{name.upper()}": value for name, value in more.items()},
    }


def stored_after_publishing(server_url: str, port: int, *auth: str) -> float:
    mosquitto_pub(port, "roomtemp/hall", "21.5", *auth)
    wait_for(lambda: metric(server_url, "roomtemp_measurements_stored_total") == 1)
    answer = httpx.get(f"{server_url}/measurements/hall", params={"unit": "C"}).json()
    value: float = answer["items"][0]["v"]
    return value


@needs_mosquitto
def a_user_and_password_in_the_url_should_be_used(guarded_broker: Broker) -> None:
    url = f"mqtt://roomtemp:s3cret%3A%2F%40@127.0.0.1:{guarded_broker.port}"
    with running_server("memory://", env=env_for(url)) as server:
        wait_until_subscribed(server.url)
        assert (
            stored_after_publishing(server.url, guarded_broker.port, "-u", "sensor", "-P", "other")
            == 21.5
        )


@needs_mosquitto
def a_refused_password_should_show_in_readyz_as_the_setting_says(
    guarded_broker: Broker, tmp_path: Path
) -> None:
    url = guarded_broker.url("roomtemp", "wrong")
    with (
        (tmp_path / "server.log").open("wb") as log,
        running_server("memory://", env=env_for(url), stderr=log) as server,
    ):
        wait_for(lambda: "refused the connection" in (tmp_path / "server.log").read_text())
        answer = httpx.get(f"{server.url}/readyz")
        assert (answer.status_code, answer.json()) == (
            200,
            {"status": "ready", "mqtt": "disconnected"},
        )
    with running_server("memory://", env=env_for(url, mqtt_required_for_ready="true")) as server:
        answer = httpx.get(f"{server.url}/readyz")
        assert (answer.status_code, answer.json()["code"]) == (503, "broker_unavailable")


@needs_mosquitto
def mqtts_should_verify_the_broker_s_certificate(folder: Path) -> None:
    certificate, key = folder / "broker.crt", folder / "broker.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
         "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True,
    )  # fmt: skip
    tls_port = free_port()
    extra = f"listener {tls_port} 127.0.0.1\ncertfile {certificate}\nkeyfile {key}\n"
    broker = mosquitto(folder, extra=extra)
    try:
        env = env_for(f"mqtts://localhost:{tls_port}", mqtt_topics="roomtemp/{room}")
        # Trusted as a system certificate would be: OpenSSL reads SSL_CERT_FILE.
        with running_server("memory://", env={**env, "SSL_CERT_FILE": str(certificate)}) as server:
            wait_until_subscribed(server.url)
            assert stored_after_publishing(server.url, broker.port) == 21.5
        with (
            (folder / "server.log").open("wb") as log,
            running_server("memory://", env=env, stderr=log) as untrusting,
        ):
            wait_for(lambda: "CERTIFICATE_VERIFY_FAILED" in (folder / "server.log").read_text())
            answer = httpx.get(f"{untrusting.url}/readyz").json()
            assert answer["mqtt"] == "disconnected"
    finally:
        broker.stop()


def a_broker_of_mqtt_3_1_1_only_should_be_spoken_to_in_3_1_1(folder: Path) -> None:
    broker = amqtt(folder)
    try:
        # 3.1.1 has no way to decline retained messages: roomtemp sets them aside.
        mosquitto_pub(broker.port, "roomtemp/hall", "19.0", "-r", "-V", "mqttv311")
        with running_server("memory://", env=env_for(broker.url())) as server:
            wait_until_subscribed(server.url)
            assert stored_after_publishing(server.url, broker.port, "-V", "mqttv311") == 21.5
            retained = '{reason="retained"}'
            assert metric(server.url, "roomtemp_mqtt_messages_unreadable_total", retained) == 1
    finally:
        broker.stop()
