"""The InfluxDB endpoints against generated line protocol and InfluxQL: whatever arrives,
the answer is never a 5xx, and a refusal is InfluxDB's {"error": ...}.

Two generators each: one that builds from the grammar, nearly right and often right, so that
the deep paths run (partial writes, buckets, fill); and one of raw text over the characters
that matter to each language, for the paths that refuse.
"""

import gzip
import os
import string
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.blackbox.server import running_server

EXAMPLES = int(os.environ.get("ROOMTEMP_FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="ROOMTEMP_FUZZ_EXAMPLES" not in os.environ,  # make test: the same each run
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    """The real server (memory://, anonymous on loopback), with three rooms written."""
    with (
        running_server("memory://", "--no-access-log") as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        seed = "\n".join(
            f"°C,entity_id=room_{index % 3} value={20 + index % 7} {1700000000 + index * 45}"
            for index in range(2000)
        )
        assert client.post("/write?precision=s", content=seed).status_code == 204
        yield client


def assert_influx_answer(status: int, body: bytes) -> None:
    assert status < 500, body
    if status >= 400:
        assert b'"error"' in body or b'"code"' in body or b'"detail"' in body, body


# Line protocol.

SPECIAL = ',= \\"#\n\r\t'
NAME = st.text(string.ascii_letters + "°_" + SPECIAL, min_size=0, max_size=6)
FIELD_VALUE = st.one_of(
    st.floats().map(repr),
    st.integers(-(2**65), 2**65).map(lambda n: f"{n}i"),
    st.integers(-5, 2**65).map(lambda n: f"{n}u"),
    st.sampled_from(["t", "F", "true", "FALSE", "nan", "inf", "1e999", "-", ".", "1_0"]),
    st.text(string.printable, max_size=8).map(lambda text: '"' + text + '"'),
)
TIME = st.one_of(
    st.none(), st.integers(-(2**64), 2**64).map(str), st.sampled_from(["1.5", "x", "-"])
)


@st.composite
def lines(draw: st.DrawFn) -> str:
    measurement = draw(st.sampled_from(["°C", "%", "W", "temperature", "K"]) | NAME)
    tags = draw(
        st.lists(st.tuples(st.sampled_from(["entity_id", "room", "u"]) | NAME, NAME), max_size=3)
    )
    fields = draw(
        st.lists(
            st.tuples(st.sampled_from(["value", "temp", "unit"]) | NAME, FIELD_VALUE),
            min_size=0,
            max_size=3,
        )
    )
    time = draw(TIME)
    line = measurement + "".join(f",{key}={value}" for key, value in tags)
    line += " " + ",".join(f"{key}={value}" for key, value in fields)
    return line + ("" if time is None else f" {time}")


BODIES = st.one_of(
    st.lists(lines(), max_size=20).map("\n".join),
    st.text(string.ascii_letters[:6] + string.digits[:3] + SPECIAL + "°", max_size=200),
    st.binary(max_size=100).map(lambda data: data.decode("latin-1")),
)


@FUZZ
@given(
    body=BODIES,
    path=st.sampled_from(["/write", "/api/v2/write"]),
    precision=st.sampled_from(["", "ns", "u", "ms", "s", "m", "h", "us", "x"]),
    compress=st.booleans(),
)
def writes_should_never_fail_with_a_5xx(
    client: httpx.Client, body: str, path: str, precision: str, compress: bool
) -> None:
    content = body.encode("utf-8", errors="surrogatepass")
    headers = {"Content-Encoding": "gzip"} if compress else {}
    response = client.post(
        path,
        params={"precision": precision} if precision else {},
        content=gzip.compress(content) if compress else content,
        headers=headers,
    )
    assert_influx_answer(response.status_code, response.content)


# InfluxQL.

WORDS = [
    "SELECT", "FROM", "WHERE", "AND", "OR", "GROUP", "BY", "time", "fill", "ORDER", "DESC",
    "LIMIT", "OFFSET", "SHOW", "MEASUREMENTS", "TAG", "KEYS", "VALUES", "FIELD", "DATABASES",
    "RETENTION", "POLICIES", "WITH", "KEY", "MEASUREMENT", "ON", "AS", "IN", "now", "mean",
    "min", "max", "count", "first", "last", "sum", "median", "value", "entity_id", "room",
    "null", "none", "previous", "linear", "tz", "CREATE", "DATABASE", "*", "(", ")", ",", ";",
    "=", "!=", "=~", "!~", "<", "<=", ">", ">=", "+", "-", ".", "::", '"°C"', '"%"', "'a'",
    "'room_1'", "'2023-11-14T22:00:00Z'", "'bad time'", "/room_.*/", "/(/", "1m", "1h", "0s",
    "1700000000000ms", "1700000000s", "17000000000000000000", "99999999999d", "5", "-1", "1.5",
]  # fmt: skip
TIMES = st.sampled_from(
    ["now()", "now() - 6h", "now() - 99999999d", "1700000000000ms", "0", "'2023-11-14T22:13:20Z'",
     "'x'", "1700090000s"]
)  # fmt: skip


@st.composite
def selects(draw: st.DrawFn) -> str:
    function = draw(st.sampled_from(["mean", "min", "max", "count", "first", "last", "sum", ""]))
    field = draw(st.sampled_from(['"value"', "value", "*", "other"]))
    column = f"{function}({field})" if function else field
    measurement = draw(st.sampled_from(['"°C"', '"°F"', "K", "temperature", '"%"', '"a"."b"."c"']))
    query = f"SELECT {column} FROM {measurement}"
    comparisons = st.sampled_from([">=", ">", "<=", "<", "="])
    conditions = draw(
        st.lists(
            st.sampled_from(
                ["\"entity_id\" = 'room_1'", "entity_id =~ /room_[12]/", "room != 'x'",
                 "(room = 'room_0' OR room = 'room_2')"]
            ) | st.builds(lambda op, ts: f"time {op} {ts}", comparisons, TIMES),
            max_size=3,
        )
    )  # fmt: skip
    if conditions:
        query += " WHERE " + " AND ".join(conditions)
    if draw(st.booleans()):
        interval = draw(st.sampled_from(["1m", "15m", "1h", "1d", "7s", "0s", "1u"]))
        offset = draw(st.sampled_from(["", ", 30s", ", -1m"]))
        query += f" GROUP BY time({interval}{offset})"
        query += draw(st.sampled_from(["", ", entity_id", ", *", ", domain"]))
        query += draw(st.sampled_from(["", " fill(null)", " fill(none)", " fill(previous)",
                                       " fill(linear)", " fill(-1.5)", " fill(x)"]))  # fmt: skip
    query += draw(st.sampled_from(["", " ORDER BY time DESC", " LIMIT 3", " LIMIT 2 OFFSET 1"]))
    return query


QUERIES = st.one_of(
    selects(),
    st.lists(selects(), min_size=2, max_size=3).map("; ".join),
    st.lists(st.sampled_from(WORDS), max_size=25).map(" ".join),
    st.text(string.ascii_letters[:5] + "\"'/\\(),;=~!<>*.-: °", max_size=60),
)


@FUZZ
@given(
    q=QUERIES,
    method=st.sampled_from(["GET", "POST"]),
    epoch=st.sampled_from([None, "ms", "s", "ns", "h", "x"]),
)
def queries_should_never_fail_with_a_5xx(
    client: httpx.Client, q: str, method: str, epoch: str | None
) -> None:
    parameters = {"db": "home_assistant", **({"epoch": epoch} if epoch else {})}
    if method == "GET":
        response = client.get("/query", params={**parameters, "q": q})
    else:
        response = client.post("/query", params=parameters, data={"q": q})  # a form
    assert_influx_answer(response.status_code, response.content)
