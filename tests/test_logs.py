"""Log lines: JSON for collectors, key=value for people, and the request id on both."""

import json
import logging
import sys

from roomtemp import logs
from roomtemp.logs import ConsoleFormatter, JsonFormatter


def record(message: str = "hello %s", *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("roomtemp.test", logging.WARNING, __file__, 1, message, args, None)
    made.__dict__.update(extra)
    return made


def json_formatter_should_write_one_object_with_the_extra_fields() -> None:
    line = JsonFormatter().format(record("hello %s", "world", route="/x", status=201))
    assert "\n" not in line
    fields = json.loads(line)
    assert fields["message"] == "hello world"
    assert (fields["level"], fields["logger"]) == ("warning", "roomtemp.test")
    assert (fields["route"], fields["status"]) == ("/x", 201)
    assert fields["ts"].endswith("+00:00")
    assert "request_id" not in fields


def json_formatter_should_name_the_request_being_served() -> None:
    token = logs.request_id.set("abc-123")
    try:
        fields = json.loads(JsonFormatter().format(record()))
    finally:
        logs.request_id.reset(token)
    assert fields["request_id"] == "abc-123"


def json_formatter_should_keep_a_traceback_inside_the_object() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        failed = record()
        failed.exc_info = sys.exc_info()
    line = JsonFormatter().format(failed)
    assert "\n" not in line
    assert "ValueError: boom" in json.loads(line)["exception"]


def json_formatter_should_write_what_json_cannot_hold_as_text() -> None:
    fields = json.loads(JsonFormatter().format(record(path=object)))
    assert fields["path"] == "<class 'object'>"


def console_formatter_should_append_the_fields_as_key_value() -> None:
    line = ConsoleFormatter().format(record("served", status=201, request_id="abc"))
    assert line.endswith("WARNING roomtemp.test served status=201 request_id=abc")


def console_formatter_should_keep_a_traceback_below_the_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        failed = record("failed", status=500)
        failed.exc_info = sys.exc_info()
    first, *rest = ConsoleFormatter().format(failed).splitlines()
    assert first.endswith("failed status=500")
    assert rest[-1] == "ValueError: boom"


def logging_config_should_pick_the_formatter_of_the_format() -> None:
    json_config = logs.logging_config("info", "json")
    console_config = logs.logging_config("debug", "console")
    assert json_config["formatters"]["default"]["()"] == "roomtemp.logs.JsonFormatter"
    assert console_config["formatters"]["default"]["()"] == "roomtemp.logs.ConsoleFormatter"
    assert console_config["root"]["level"] == "DEBUG"
    assert json_config["loggers"]["uvicorn.access"] == {"handlers": [], "propagate": True}
