"""Settings that decide who gets in: the listen address, the admin token, the rate limit."""

from datetime import timedelta
from pathlib import Path

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


@pytest.mark.parametrize(
    "name", ["max_future_skew", "raw_retention", "token_refresh", "read_max_lag"]
)
@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("P3M", "months or years"),  # pydantic's own parser made it 90 days
        ("1 day", "not an ISO 8601 duration"),
        ("-PT1H", "negative"),
        ("PT0S", "empty"),
        ("90", "not an ISO 8601 duration"),
    ],
)
def durations_should_go_through_roomtemps_iso_parser(name: str, text: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        Settings.model_validate({name: text})


def a_duration_in_iso_8601_should_be_read_as_such(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROOMTEMP_RAW_RETENTION", "P90D")
    monkeypatch.setenv("ROOMTEMP_MAX_FUTURE_SKEW", "PT1M30S")
    settings = Settings()
    assert settings.raw_retention == timedelta(days=90)
    assert settings.max_future_skew == timedelta(seconds=90)


def a_negative_skew_given_as_a_timedelta_should_be_refused() -> None:
    with pytest.raises(ValidationError, match="not a positive duration"):
        Settings(max_future_skew=timedelta(hours=-1))


def secrets_should_be_read_from_files_as_containers_mount_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "url").write_text("postgresql://roomtemp:pw@db/roomtemp\n")
    (tmp_path / "token").write_text("a-token-of-sixteen-or-more\n")
    monkeypatch.setenv("ROOMTEMP_DATABASE_URL_FILE", str(tmp_path / "url"))
    monkeypatch.setenv("ROOMTEMP_ADMIN_TOKEN_FILE", str(tmp_path / "token"))
    settings = Settings()
    assert settings.database_url == "postgresql://roomtemp:pw@db/roomtemp"
    assert settings.admin_token is not None
    assert settings.admin_token.get_secret_value() == "a-token-of-sixteen-or-more"


def a_secret_given_twice_or_unreadable_should_be_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "token").write_text("a-token-of-sixteen-or-more")
    monkeypatch.setenv("ROOMTEMP_ADMIN_TOKEN", "another-token-of-sixteen")
    monkeypatch.setenv("ROOMTEMP_ADMIN_TOKEN_FILE", str(tmp_path / "token"))
    with pytest.raises(ValidationError, match="admin_token or admin_token_file, not both"):
        Settings()
    monkeypatch.delenv("ROOMTEMP_ADMIN_TOKEN")
    monkeypatch.setenv("ROOMTEMP_ADMIN_TOKEN_FILE", str(tmp_path / "missing"))
    with pytest.raises(ValidationError, match="cannot read"):
        Settings()
    # The rules of the value still hold when it comes from a file.
    (tmp_path / "short").write_text("short")
    monkeypatch.setenv("ROOMTEMP_ADMIN_TOKEN_FILE", str(tmp_path / "short"))
    with pytest.raises(ValidationError, match="at least 16 characters"):
        Settings()


@pytest.mark.parametrize(
    ("primary", "replica"),
    [
        ("sqlite:///./var/roomtemp.sqlite3", "postgresql://standby/roomtemp"),
        ("postgresql://primary/roomtemp", "sqlite:///./var/copy.sqlite3"),
    ],
)
def a_read_replica_should_be_refused_unless_both_urls_are_postgresql(
    primary: str, replica: str
) -> None:
    with pytest.raises(ValidationError, match="PostgreSQL for both"):
        Settings(database_url=primary, database_read_url=replica)
    assert Settings(database_url=primary).database_read_url is None


def a_bad_mqtt_url_or_topic_template_should_be_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="mqtt://"):
        Settings(mqtt_url="http://broker")
    with pytest.raises(ValidationError, match="room"):
        Settings(mqtt_url="mqtt://broker", mqtt_topics="sensors/+/temperature")
    with pytest.raises(ValidationError, match="100 years"):  # MQTT carries 136 at most
        Settings(mqtt_session_expiry="P50000D")
    assert Settings(mqtt_url="").mqtt_url is None
