"""Log lines for people (console) or for log collectors (one JSON object per line).

`roomtemp serve` hands `logging_config()` to uvicorn, which applies it in every worker process,
so uvicorn's own lines and ours come out in the same format.
"""

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["console", "json"]

# The id of the request being served, so that every line logged while serving it names it.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# The standard library's encoder: logging should not depend on a package chosen for the
# request path. Made once: json.dumps() with options builds a new encoder on every call.
_ENCODER = json.JSONEncoder(default=str, separators=(",", ":"))

# What every LogRecord has: anything else on a record was passed in `extra=` and is a field.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's coloured copy of the message
    "taskName",
}


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields passed with `extra=`, plus the request id when there is one."""
    fields = {key: value for key, value in vars(record).items() if key not in _STANDARD_ATTRIBUTES}
    if "request_id" not in fields and (current := request_id.get()) is not None:
        fields["request_id"] = current
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, pid, message, then the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,  # which worker, when there are several
            "message": record.getMessage(),
            **extra_fields(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return _ENCODER.encode(line)


class ConsoleFormatter(logging.Formatter):
    """A readable line: time, level, logger, message, then the fields as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = " ".join(f"{key}={value}" for key, value in extra_fields(record).items())
        if not fields:
            return line
        first, newline, rest = line.partition("\n")  # keep a traceback below the line
        return f"{first} {fields}{newline}{rest}"


def logging_config(level: str, log_format: LogFormat) -> dict[str, Any]:
    """A logging.config.dictConfig() configuration: everything to stderr in `log_format`."""
    formatter = JsonFormatter if log_format == "json" else ConsoleFormatter
    loggers = ("roomtemp", "uvicorn", "uvicorn.error", "uvicorn.access", "asyncpg")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        # uvicorn's loggers have handlers of their own unless told otherwise: send them to root.
        "loggers": {name: {"handlers": [], "propagate": True} for name in loggers},
    }
