"""InfluxQL, the part of it that Grafana, Home Assistant and the influx CLI send: parser.py
reads a query into the statements of statements.py."""

from roomtemp.influx.influxql.parser import parse
from roomtemp.influx.influxql.statements import (
    ALL_ROOMS,
    Column,
    CreateDatabase,
    InvalidQuery,
    Rooms,
    Select,
    Show,
    Statement,
)

__all__ = [
    "ALL_ROOMS",
    "Column",
    "CreateDatabase",
    "InvalidQuery",
    "Rooms",
    "Select",
    "Show",
    "Statement",
    "parse",
]
