"""InfluxDB's HTTP API over roomtemp: /write and /api/v2/write (line protocol), /query
(InfluxQL), /ping and /health. Each turns its wire format into roomtemp's values and calls the
same write path (ingestion) and read path (queries) as the JSON API."""

import asyncio
from functools import lru_cache
from urllib.parse import parse_qs

import numpy as np
from fastapi import APIRouter, Request, Response

from roomtemp import ingestion
from roomtemp.domain.columns import Columns
from roomtemp.domain.measurements import ConflictingMeasurements
from roomtemp.http.services import services_of
from roomtemp.influx import answers, influxql, points, reads
from roomtemp.influx.answers import InfluxError
from roomtemp.influx.bodies import read_bytes, read_text
from roomtemp.retention import horizon
from roomtemp.settings import Settings
from roomtemp.storage.base import StorageUnavailable

router = APIRouter(tags=["influxdb"], include_in_schema=False)
# Up to this many measurements are written through the shared commits of single writes
# (one commit shared with concurrent requests); more, in a transaction of their own.
SHARED_COMMITS_UP_TO = 16
MAX_LISTED_LINES = 100
CONFLICT = "another value is stored for this room and time"
MAX_FORM_BYTES = 1024 * 1024


@lru_cache(maxsize=4)
def rules_of(settings: Settings) -> points.Rules:
    return points.Rules.from_settings(settings)


@router.post("/write")
async def write_v1(request: Request) -> Response:
    """InfluxDB 1.x: `db`, `rp` and the credentials are taken and not needed; `precision`."""
    return await _write(request, points.PRECISIONS_V1, version=1)


@router.post("/api/v2/write")
async def write_v2(request: Request) -> Response:
    """InfluxDB 2.x: `org` and `bucket` are taken and not needed; `precision`."""
    return await _write(request, points.PRECISIONS_V2, version=2)


async def _write(request: Request, precisions: dict[str, int], version: int) -> Response:
    services = services_of(request)
    settings = services.settings
    try:
        precision_name = request.query_params.get("precision", "")
        precision = precisions.get(precision_name)
        if precision is None:
            named = ", ".join(filter(None, precisions))
            raise InfluxError(400, f"invalid precision {precision_name!r}: use {named}")
        body = await read_bytes(request, settings.batch_max_bytes)
        if points.more_lines_than(body, settings.batch_max_items):
            raise InfluxError(413, f"a write holds at most {settings.batch_max_items} points")
        now = services.clock()
        batch = points.read(body, rules_of(settings), precision, now)
        columns, invalid = ingestion.sort_out(batch.readings, now=now, limits=services.limits)
        refused, dropped = batch.refused, len(batch.refused) + int(invalid.sum())
        for index in np.flatnonzero(invalid)[:MAX_LISTED_LINES].tolist():
            problems = ingestion.explain(batch.readings, index, now=now, limits=services.limits)
            reason = "; ".join(f"{problem.field}: {problem.message}" for problem in problems)
            refused.append((int(batch.lines[index]), reason))
        conflicts = await _record(request, columns)
        lines = batch.lines[~invalid]
        refused += [(int(lines[index]), CONFLICT) for index in conflicts]
        dropped += len(conflicts)
    except InfluxError as raised:
        return _error(raised.status, raised.message, version)
    except StorageUnavailable as raised:
        services.metrics.storage_errors.inc()
        return answers.unavailable(raised)
    services.metrics.count_stored(len(columns) - len(conflicts))
    if batch.skipped:
        services.metrics.count_skipped(batch.skipped)
    if dropped:
        return _error(400, _partial_write(refused, dropped), version)
    return Response(status_code=204, headers=answers.VERSION_HEADERS)


async def _record(request: Request, columns: Columns) -> list[int]:
    """Store each measurement that does not conflict; the indices of those that do."""
    services = services_of(request)
    if len(columns) > SHARED_COMMITS_UP_TO:
        # Most writes conflict with nothing: then they go in as columns, the batch path's
        # (one COPY); one that conflicts is undone and written again, each that can be.
        try:
            await ingestion.record_batch(services.store, columns)
        except ingestion.ConflictingBatch:
            return await ingestion.record_each(services.store, columns.measurements())
        return []
    outcomes = await asyncio.gather(
        *map(services.record, columns.measurements()), return_exceptions=True
    )
    conflicts = []
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, ConflictingMeasurements):
            conflicts.append(index)
        elif isinstance(outcome, BaseException):
            raise outcome
    return conflicts


def _partial_write(refused: list[tuple[int, str]], dropped: int) -> str:
    """InfluxDB's message, which Telegraf recognises: it drops such a batch, not retries it.
    `refused` explains the first lines of the `dropped`, at least MAX_LISTED_LINES of them."""
    refused.sort()
    shown = refused[:MAX_LISTED_LINES]
    listed = "; ".join(f"line {number}: {reason}" for number, reason in shown)
    more = f"; and {dropped - len(shown)} more" if dropped > len(shown) else ""
    return f"partial write: {listed}{more} dropped={dropped}"


def _error(status: int, message: str, version: int) -> Response:
    if version == 2:  # InfluxDB 2.x's clients read `code` and `message`
        return answers.json_response(
            {
                "code": "invalid" if status < 500 else "internal error",
                "message": message,
                "error": message,
            },
            status,
        )
    return answers.error(status, message)


@router.api_route("/query", methods=["GET", "POST"])
async def query(request: Request) -> Response:
    """InfluxQL: `q` in the query string, or in a form body (Grafana's POST mode); `epoch`;
    `db`, `rp`, `chunked` and `pretty` are taken and not needed."""
    services = services_of(request)
    settings = services.settings
    try:
        parameters = dict(request.query_params)
        if request.method == "POST" and "q" not in parameters:
            form = parse_qs(await read_text(request, MAX_FORM_BYTES))
            parameters.update({name: values[-1] for name, values in form.items()})
        epoch = parameters.get("epoch") or None
        if epoch is not None and epoch not in answers.EPOCHS:
            raise InfluxError(400, f"invalid epoch {epoch!r}: use ns, u, ms, s, m or h")
        text = parameters.get("q", "").strip()
        if not text:
            raise InfluxError(400, 'missing required parameter "q"')
        now = services.clock()
        rules = rules_of(settings)
        try:
            statements = influxql.parse(text, now, rules.room_tags)
        except influxql.InvalidQuery as error:
            raise InfluxError(400, f"error parsing query: {error}") from None
        context = reads.Context(services.store, rules, now, horizon(now, settings.raw_retention))
        found = [await reads.answer(statement, context) for statement in statements]
    except InfluxError as raised:
        return answers.error(raised.status, raised.message)
    except StorageUnavailable as raised:
        services.metrics.storage_errors.inc()
        return answers.unavailable(raised)
    return answers.json_response(answers.results(found, epoch))


@router.post("/api/v2/query")
async def flux(request: Request) -> Response:
    """InfluxDB 2.x's Flux endpoint: not supported, and said so in the 2.x clients' terms."""
    message = "Flux is not supported: roomtemp answers InfluxQL at /query (Grafana: InfluxQL)"
    return _error(400, message, version=2)


@router.api_route("/ping", methods=["GET", "HEAD"])
async def ping() -> Response:
    """Alive: what InfluxDB's clients ask first. Like /healthz, open to all."""
    return Response(status_code=204, headers=answers.VERSION_HEADERS)


@router.get("/health")
async def health(request: Request) -> Response:
    """InfluxDB 2.x's health check: ready when storage answers."""
    try:
        await services_of(request).store.check()
    except StorageUnavailable as raised:
        body = {"name": "roomtemp", "status": "fail", "message": str(raised), "checks": []}
        return answers.json_response(body, 503)
    body = {"name": "roomtemp", "status": "pass", "message": "ready for queries and writes",
            "checks": [], "version": answers.VERSION}  # fmt: skip
    return answers.json_response(body)
