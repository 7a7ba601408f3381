"""Statements of many rows store exactly what executemany() stores, row for row, whatever the
number of rows, the parameter limit of the SQLite at hand, and the rows repeated in them."""

import sqlite3

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from roomtemp.domain.columns import Arrays
from roomtemp.storage.sqlite import many_rows

TABLE = "CREATE TABLE m (room INTEGER, ts INTEGER, kelvin REAL, PRIMARY KEY (room, ts))"
INSERT_HEAD, INSERT_TAIL = "INSERT INTO m (room, ts, kelvin)", "ON CONFLICT DO NOTHING"
SUM_HEAD = "INSERT INTO m"
SUM_TAIL = "ON CONFLICT (room, ts) DO UPDATE SET kelvin = kelvin + excluded.kelvin"

rows_strategy = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.integers(0, 40),
        st.floats(allow_nan=False, allow_infinity=False, width=64),
    ),
    max_size=300,
)
# SQLite's own limits (999 before 3.32) and tiny ones, so that every way of cutting a list
# of rows into statements is tried with few rows.
limits = st.sampled_from([7, 30, 200, 999, 32_766])


def table(limit: int) -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:", isolation_level=None)
    connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, limit)
    connection.execute(TABLE)
    return connection


def columns(rows: list[tuple[int, int, float]]) -> list[Arrays]:
    return [
        np.array([row[0] for row in rows], np.int64),
        np.array([row[1] for row in rows], np.int64),
        np.array([row[2] for row in rows], np.float64),
    ]


def contents(connection: sqlite3.Connection) -> list[tuple[int, int, float]]:
    return connection.execute("SELECT * FROM m ORDER BY room, ts").fetchall()


@settings(max_examples=300, deadline=None)
@given(rows=rows_strategy, limit=limits, may_repeat=st.booleans())
def test_inserting_many_rows_should_store_what_executemany_stores(
    rows: list[tuple[int, int, float]], limit: int, may_repeat: bool
) -> None:
    expected, actual = table(32_766), table(limit)
    expected.executemany(f"{INSERT_HEAD} VALUES (?, ?, ?) {INSERT_TAIL}", rows)
    many_rows.insert(actual, INSERT_HEAD, INSERT_TAIL, columns(rows), may_repeat=may_repeat)
    assert contents(actual) == contents(expected)  # the first of a repeated key wins in both
    assert actual.total_changes == expected.total_changes  # padding changes nothing


@settings(max_examples=200, deadline=None)
@given(rows=rows_strategy, limit=limits)
def test_upserting_many_rows_should_apply_them_in_order_as_executemany_does(
    rows: list[tuple[int, int, float]], limit: int
) -> None:
    expected, actual = table(32_766), table(limit)
    expected.executemany(f"{SUM_HEAD} VALUES (?, ?, ?) {SUM_TAIL}", rows)
    many_rows.insert(actual, SUM_HEAD, SUM_TAIL, columns(rows))
    assert contents(actual) == contents(expected)


def test_a_batch_larger_than_one_statement_should_go_in_whole() -> None:
    connection = table(32_766)
    rows = [(room, ts, 273.15 + ts / 7) for room in range(3) for ts in range(10_000)]
    many_rows.insert(connection, INSERT_HEAD, INSERT_TAIL, columns(rows), may_repeat=True)
    assert contents(connection) == rows
