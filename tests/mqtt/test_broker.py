import pytest
from hypothesis import given
from hypothesis import strategies as st

from roomtemp.mqtt.broker import Broker, InvalidBrokerUrl, parse_broker_url
from roomtemp.mqtt.identity import ClientIdentity
from roomtemp.mqtt.subscriber import backoff


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://broker", Broker("broker", 1883, False, None, None)),
        ("mqtts://broker", Broker("broker", 8883, True, None, None)),
        ("mqtt://sensor:p%40ss@10.0.0.2:1884", Broker("10.0.0.2", 1884, False, "sensor", "p@ss")),
        ("mqtts://user@[::1]:8884/", Broker("::1", 8884, True, "user", None)),
    ],
)
def a_broker_url_should_name_host_port_tls_and_credentials(url: str, expected: Broker) -> None:
    assert parse_broker_url(url) == expected


@pytest.mark.parametrize(
    "url", ["http://broker", "broker:1883", "mqtt://", "mqtt://broker:99999", "mqtt://b/x"]
)
def another_url_should_be_refused_without_showing_a_password(url: str) -> None:
    with pytest.raises(InvalidBrokerUrl) as refused:
        parse_broker_url(url.replace("://", "://user:secret@", 1))
    assert "secret" not in str(refused.value)


def live_processes_should_hold_different_client_ids_and_a_restart_the_same() -> None:
    first, second = ClientIdentity("test-identity"), ClientIdentity("test-identity")
    assert (first.client_id, second.client_id) == ("test-identity-0", "test-identity-1")
    first.release()  # as a process that dies
    again = ClientIdentity("test-identity")
    assert again.client_id == "test-identity-0"
    again.release()
    second.release()


@given(st.integers(0, 100))
def a_reconnection_should_wait_a_random_part_of_a_doubling_delay(attempt: int) -> None:
    ceiling = min(30.0, 0.5 * 2**attempt)
    assert ceiling / 2 <= backoff(attempt) <= ceiling
