"""Settings that decide who gets in: the listen address, the admin token, the rate limit."""

import pytest
from pydantic import ValidationError

from roomtemp.domain.rates import Rate
from roomtemp.settings import Settings


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "localhost"])
def a_loopback_address_should_count_as_loopback_only(host: str) -> None:
    assert Settings(host=host).loopback_only


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "roomtemp.example", ""])
def any_other_address_or_name_should_count_as_reachable_from_elsewhere(host: str) -> None:
    assert not Settings(host=host).loopback_only


def an_empty_admin_token_should_mean_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROOMTEMP_ADMIN_TOKEN", "")
    assert Settings().admin_token is None


def a_guessable_admin_token_should_be_refused() -> None:
    with pytest.raises(ValidationError, match="at least 16 characters"):
        Settings(admin_token="secret")


def the_rate_limit_should_be_read_once_valid_and_refused_otherwise() -> None:
    assert Settings(rate_limit="100/second").rate == Rate(100, 1.0)
    assert Settings().rate is None
    with pytest.raises(ValidationError, match="100/second"):
        Settings(rate_limit="100 per second")


def a_bad_mqtt_url_or_topic_template_should_be_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="mqtt://"):
        Settings(mqtt_url="http://broker")
    with pytest.raises(ValidationError, match="room"):
        Settings(mqtt_url="mqtt://broker", mqtt_topics="sensors/+/temperature")
    with pytest.raises(ValidationError, match="session expiry"):
        Settings(mqtt_session_expiry="P50000D")
    assert Settings(mqtt_url="").mqtt_url is None
