"""Settings: ROOMTEMP_* environment variables (or CLI flags), read once and passed down."""

from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from roomtemp.logs import LogFormat


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ROOMTEMP_", frozen=True)

    database_url: str = Field(
        "sqlite:///./var/roomtemp.sqlite3",
        description="sqlite:///path, postgresql://user:password@host/db, or memory://",
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, description="server processes")
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    log_format: LogFormat = Field("console", description="console, or json: one object a line")
    access_log: bool = Field(True, description="one log line per request")
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
    db_timeout: float = Field(5.0, gt=0, description="seconds to connect or run one statement")

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
