"""The pages that problem+json `type` URIs lead to (`/problems/conflict`): what each `code`
means and what to do about it. Documentation, like /docs: kept out of the OpenAPI document,
open without a token."""

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from roomtemp.http.problems import Problem

router = APIRouter(include_in_schema=False)

# Every code the service answers with, and what it means. tests/http/test_problem_types.py
# finds every code in the source and checks that it is here.
MEANINGS = {
    "malformed_json": "The body is not JSON, or not the JSON expected. Nothing was stored.",
    "invalid_measurement": "A measurement breaks a rule (room id, value, unit or ts); `errors`"
    " says which, for a batch by index. Nothing was stored.",
    "invalid_duration": "A duration is not ISO 8601 (PT15M, P7D), is zero, negative, over 100"
    " years, or in months or years, whose length varies: use days.",
    "invalid_bucket": "The bucket of a series is under a second, or the window holds more than"
    " 10,000 buckets.",
    "invalid_parameter": "A query parameter has a value that cannot be used; `errors` names it.",
    "unknown_parameter": "A query parameter that the endpoint does not take (a typo such as"
    " `untl`); `errors` names it. Nothing was done.",
    "invalid_request": "A parameter or the body does not have the expected form.",
    "conflict": "The room already holds another value at that ts (or a batch repeats a room"
    " and ts with another value). Posting the same value again is harmless.",
    "room_not_found": "The room has never had a measurement.",
    "no_measurements": "The room has measurements, but none in the window asked.",
    "before_retention": "The ts is older than the raw retention horizon: raw measurements that"
    " old are pruned, and what was pruned cannot come back.",
    "token_required": "Send a token: `Authorization: Bearer <token>`.",
    "invalid_token": "The token is unknown or was revoked.",
    "insufficient_scope": "The token lacks the scope needed: read for GET, write for POST.",
    "rate_limited": "Too many requests for this token; retry after `Retry-After` seconds.",
    "storage_unavailable": "The database did not answer; retry after `Retry-After` seconds."
    " Nothing was stored by this request.",
    "broker_unavailable": "/readyz only, with ROOMTEMP_MQTT_REQUIRED_FOR_READY: the MQTT"
    " broker is not connected. roomtemp reconnects by itself.",
    "body_too_large": "The body is larger than the configured limit.",
    "batch_too_large": "The batch holds more measurements than the configured limit: split it.",
    "unsupported_media_type": "Send the body as application/json (or application/x-ndjson"
    " for a batch).",
    "not_found": "No such path.",
    "method_not_allowed": "The path does not take this method; `Allow` lists those it takes.",
    "internal_error": "A bug in roomtemp; it has been logged.",
    "schema_newer_than_code": "A newer roomtemp migrated the database beyond what this process"
    " may use: upgrade it (the detail names both versions). /readyz says so until then.",
    "non_loopback_host": "With no token, roomtemp serves this machine only, and the Host named"
    " another (as DNS rebinding makes a browser send): create a token to serve other hosts.",
    "cross_site_request": "With no token, roomtemp answers no page of another site (its Origin"
    " or Sec-Fetch-Site says so): create a token, or open the dashboard itself.",
    "proxied_request": "With no token, roomtemp serves this machine only, and the request came"
    " through a proxy (Forwarded, X-Forwarded-For): create a token to serve through one.",
}


@router.get("/problems/{code}")
async def problem_type(code: str) -> HTMLResponse:
    meaning = MEANINGS.get(code)
    if meaning is None:
        raise Problem(404, "not_found", f"no problem type {code!r}")
    page = (
        f"<!doctype html><meta charset=utf-8><title>roomtemp: {escape(code)}</title>"
        f"<h1>{escape(code)}</h1><p>{escape(meaning)}</p>"
        "<p>See <a href=/docs>the API documentation</a>.</p>"
    )
    return HTMLResponse(page)
