"""Settings: ROOMTEMP_* environment variables (or CLI flags), read once and passed down."""

import ipaddress
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from roomtemp.domain.durations import parse_duration
from roomtemp.domain.rates import Rate, parse_rate
from roomtemp.logs import LogFormat
from roomtemp.mqtt.broker import parse_broker_url
from roomtemp.mqtt.topics import parse_templates


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ROOMTEMP_", frozen=True, populate_by_name=True)

    database_url: str = Field(
        "sqlite:///./var/roomtemp.sqlite3",
        description="sqlite:///path, postgresql://user:password@host/db, or memory://",
    )
    database_read_url: str | None = Field(
        None,
        description="postgresql://... of a streaming standby of DATABASE_URL: reads (averages,"
        " series, rooms, raw, exports) go there while it lags at most READ_MAX_LAG",
    )
    read_max_lag: timedelta = Field(
        timedelta(seconds=5),
        description="how far behind the primary the read replica may be; beyond, or when it is"
        " down, reads go to the primary",
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, description="server processes")
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    log_format: LogFormat = Field("console", description="console, or json: one object a line")
    access_log: bool = Field(True, description="one log line per request")
    header_timeout: float = Field(
        10.0, gt=0, description="seconds a client may take to send a request's headers"
    )
    body_timeout: float = Field(
        60.0,
        gt=0,
        description="seconds a client may take to send a request's body, once its headers are in",
    )
    shutdown_timeout: int = Field(
        8, ge=1, description="seconds for requests in flight to finish after SIGTERM"
    )
    max_kelvin: float = Field(1273.15, gt=0, description="the highest temperature accepted")
    max_future_skew: timedelta = Field(
        timedelta(hours=1), description="how far ahead of the server clock a ts may be"
    )
    batch_max_items: int = Field(100_000, ge=1, description="measurements per batch")
    batch_max_bytes: int = Field(32 * 1024 * 1024, ge=1024, description="bytes per batch body")
    shared_commits: bool | None = Field(
        None,
        description="gather concurrent single writes into shared transactions "
        "(default: on for SQLite and PostgreSQL; off for memory://, where a commit costs nothing)",
    )
    raw_retention: timedelta | None = Field(
        None,
        description="delete raw measurements older than this (e.g. P90D), keeping the hourly and"
        " daily rollups; windows reaching further back are then answered to the hour",
    )
    db_pool_size: int = Field(10, ge=1, description="PostgreSQL connections per process")
    db_timeout: float = Field(
        1.0,
        gt=0,
        description="seconds for what should be quick (connecting, a read; on PostgreSQL the"
        " database answering SELECT 1 during a write; on SQLite the write lock's holder showing"
        " it is alive) before a 503",
    )
    db_batch_timeout: float = Field(
        60.0,
        gt=0,
        description="seconds a write may take while the database answers (a large batch, or a"
        " write waiting for the locks of one; on SQLite, for another process's write lock)",
    )

    metrics_dir: str | None = Field(
        None,
        validation_alias="PROMETHEUS_MULTIPROC_DIR",  # prometheus-client's own name for it
        description="the folder where worker processes add up their metrics; serve makes one"
        " for several workers",
    )

    admin_token: SecretStr | None = Field(
        None, description="accepted as an admin token, beside those made by `roomtemp token`"
    )
    # Secrets as container platforms mount them: a file holding the value.
    database_url_file: Path | None = Field(None, description="a file holding database_url")
    database_read_url_file: Path | None = Field(
        None, description="a file holding database_read_url"
    )
    admin_token_file: Path | None = Field(None, description="a file holding admin_token")
    insecure: bool = Field(
        False, description="serve anonymous requests on a non-loopback address if no token exists"
    )
    token_refresh: timedelta = Field(
        timedelta(seconds=2),
        description="how often each server process reads the stored tokens again: a token"
        " made or revoked by `roomtemp token` counts within this",
    )
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description="origins of browser apps allowed to call the API from other sites,"
        " comma-separated: https://grafana.example.org,http://localhost:3000",
    )
    rate_limit: str | None = Field(
        None,
        description="requests per token, counted by each server process apart: 100/second,"
        " 600/minute; for one limit over several processes or instances, let the proxy count"
        " (deploy/nginx/roomtemp.conf, limit_req)",
    )
    influx_room_tags: str = Field(
        "room,room_id,entity_id",
        description="InfluxDB line protocol: the tags naming a point's room, first present wins",
    )
    influx_value_fields: str = Field(
        "value,v,temperature,temp",
        description="InfluxDB line protocol: the fields holding its value, first present wins",
    )
    influx_default_unit: Literal["K", "C", "F"] = Field(
        "C", description="InfluxDB line protocol: the unit of a point that names none"
    )

    # MQTT ingestion (roomtemp/mqtt/): off unless mqtt_url is set.
    mqtt_url: SecretStr | None = Field(
        None, description="mqtt://[user:password@]host[:port] or mqtts://...: subscribe there too"
    )
    mqtt_topics: str = Field(
        "roomtemp/{room}",
        description="topic templates, comma-separated; {room} is the level naming the room",
    )
    mqtt_unit: str = Field("C", description="the unit of readings whose payload names none")
    # QoS 2 is not offered: a client answers PUBREC on arrival, after which the broker never
    # sends the message again, so a crash before the commit would lose it.
    mqtt_qos: Literal[0, 1] = Field(1, description="1: at least once, acknowledged when stored")
    mqtt_value_key: str | None = Field(
        None, description="a dotted JSON path to the value for payloads of other shapes (a.b.c)"
    )
    mqtt_client_id: str | None = Field(
        None,
        description="prefix of the client ids, whose sessions outlive restarts "
        "(default roomtemp-HOSTNAME); each process adds -N",
    )
    mqtt_share_group: str = Field(
        "roomtemp", description="MQTT 5 shared subscription group ($share/GROUP/...); empty: none"
    )
    # An ISO duration, so at most 100 years: within MQTT's four bytes of seconds (136 years).
    mqtt_session_expiry: timedelta = Field(
        timedelta(days=1), description="how long the broker keeps a session (and its messages)"
    )
    mqtt_dead_letter_topic: str | None = Field(
        None, description="republish unreadable payloads there (QoS 1), with their topic"
    )
    mqtt_required_for_ready: bool = Field(
        False, description="/readyz answers 503 while the broker is unreachable"
    )
    mqtt_receive_maximum: int = Field(
        1000, ge=1, le=65535, description="messages in flight per process, awaiting their commit"
    )

    @property
    def loopback_only(self) -> bool:
        """Whether the listen address is reachable from this machine only. A host name other
        than localhost counts as reachable from elsewhere: it may resolve to anything."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    @property
    def rate(self) -> Rate | None:
        return parse_rate(self.rate_limit) if self.rate_limit else None

    @field_validator("rate_limit")
    @classmethod
    def _a_rate(cls, value: str | None) -> str | None:
        if value:
            parse_rate(value)  # InvalidRate, a ValueError, says what is expected
        return value or None

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        origins = tuple(origin.strip().rstrip("/") for origin in value.split(",") if origin.strip())
        for origin in origins:
            scheme, _, rest = origin.partition("://")
            if scheme not in ("http", "https") or not rest or "/" in rest:
                raise ValueError(
                    f"{origin!r} is not an origin: scheme://host[:port], as https://example.org"
                )
        return origins

    @field_validator(
        "max_future_skew",
        "raw_retention",
        "token_refresh",
        "read_max_lag",
        "mqtt_session_expiry",
        mode="before",
    )
    @classmethod
    def _iso_duration(cls, value: object) -> object:
        # roomtemp's own parser, not pydantic's: it refuses P3M (months have no fixed length;
        # pydantic made it 90 days), "1 day", and a negative or empty duration.
        if isinstance(value, str):
            return parse_duration(value)
        if isinstance(value, timedelta) and value <= timedelta(0):
            raise ValueError(f"{value} is not a positive duration")
        if value is not None and not isinstance(value, timedelta):
            raise ValueError(f"{value!r} is not an ISO 8601 duration such as PT1H or P90D")
        return value

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_files(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        for name in ("database_url", "database_read_url", "admin_token"):
            path = data.get(f"{name}_file")
            if not path:
                continue
            if data.get(name):
                raise ValueError(f"set {name} or {name}_file, not both")
            try:
                # Editors and `echo` end a file with a newline that is no part of the secret.
                data = {**data, name: Path(path).read_text(encoding="utf-8").rstrip("\r\n")}
            except OSError as error:
                raise ValueError(f"{name}_file: cannot read {path}: {error.strerror}") from None
        return data

    @field_validator(
        "admin_token", "mqtt_url", "mqtt_value_key", "mqtt_dead_letter_topic", mode="before"
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("admin_token")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        # Compared, not stored: its digest is no defence if it can be guessed.
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("the admin token must be at least 16 characters long")
        return value

    @field_validator("mqtt_url")
    @classmethod
    def _a_broker(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_broker_url(value.get_secret_value())  # InvalidBrokerUrl, a ValueError
        return value

    @field_validator("mqtt_topics")
    @classmethod
    def _topic_templates(cls, value: str) -> str:
        parse_templates(value)  # InvalidTemplate, a ValueError, says what is expected
        return value

    @field_validator("influx_default_unit", mode="before")
    @classmethod
    def _uppercase(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lowercase(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("raw_retention")
    @classmethod
    def _at_least_an_hour(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < timedelta(hours=1):
            raise ValueError("raw retention must be at least an hour (PT1H)")
        return value

    @model_validator(mode="after")
    def _replica_of_postgres(self) -> "Settings":
        # A read URL beside SQLite would be ignored without a word: say so at start instead.
        postgres = ("postgresql://", "postgres://")
        read_url = self.database_read_url
        if read_url and not (
            self.database_url.startswith(postgres) and read_url.startswith(postgres)
        ):
            raise ValueError("database_read_url needs PostgreSQL for both URLs")
        return self
