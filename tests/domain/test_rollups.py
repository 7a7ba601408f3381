import itertools
from datetime import UTC, datetime, timedelta

import pytest

from roomtemp.domain.rollups import (
    DAY,
    EPOCH,
    HOUR,
    MICROSECOND,
    QUARTER,
    TOTAL,
    Summary,
    ceil_to,
    deltas,
    floor_to,
    plan,
)

T = datetime(2026, 11, 27, 14, 33, 12, 500, tzinfo=UTC)


def floor_and_ceil_should_align_on_the_epoch_before_1970_too() -> None:
    before = datetime(1969, 12, 31, 23, 30, tzinfo=UTC)
    assert floor_to(before, HOUR) == datetime(1969, 12, 31, 23, tzinfo=UTC)
    assert ceil_to(before, DAY) == EPOCH
    assert floor_to(EPOCH, DAY) == ceil_to(EPOCH, DAY) == EPOCH


@pytest.mark.parametrize(
    ("since", "until"),
    [
        (T - timedelta(days=365), T),
        (T - timedelta(minutes=15), T),
        (datetime(2026, 11, 27, 10, 30, tzinfo=UTC), datetime(2026, 11, 27, 11, 15, tzinfo=UTC)),
        (datetime(2026, 11, 27, tzinfo=UTC), datetime(2026, 11, 28, tzinfo=UTC) - MICROSECOND),
        (datetime(2026, 11, 26, 23, 59, tzinfo=UTC), datetime(2026, 11, 28, 0, 1, tzinfo=UTC)),
        (T, T),
    ],
)
def plan_should_cover_the_window_exactly_with_raw_rows_only_at_its_edges(
    since: datetime, until: datetime
) -> None:
    planned = plan(since, until)
    pieces = planned.pieces
    assert (pieces[0].start, pieces[-1].end) == (since, until + MICROSECOND)
    assert all(a.end == b.start for a, b in itertools.pairwise(pieces))
    for piece in pieces:
        if piece.width is None:
            assert piece.end - piece.start < 2 * HOUR  # a ragged edge, never a long stretch
        else:
            assert floor_to(piece.start, piece.width) == piece.start
            assert floor_to(piece.end, piece.width) == piece.end
    assert (planned.start, planned.end, planned.exact) == (since, until, True)


def plan_of_a_year_should_read_days_between_hours_between_quarters_between_raw_edges() -> None:
    widths = [piece.width for piece in plan(T - timedelta(days=365), T).pieces]
    assert widths == [None, QUARTER, HOUR, DAY, HOUR, QUARTER, None]


def plan_should_widen_edges_before_the_retention_horizon_to_whole_hours() -> None:
    since, until = T - timedelta(days=365), T
    planned = plan(since, until, raw_from=T - timedelta(days=90))
    assert not planned.exact
    assert planned.start == floor_to(since, HOUR)
    assert planned.end == until  # the right edge is after the horizon: still raw, still exact
    # The raw edge and the quarter after it both widen into the one hour they share.
    assert [piece.width for piece in planned.pieces] == [HOUR, HOUR, DAY, HOUR, QUARTER, None]
    assert all(a.end == b.start for a, b in itertools.pairwise(planned.pieces))


def plan_of_a_window_wholly_before_the_horizon_should_cover_its_whole_hours() -> None:
    since, until = T - timedelta(days=200, minutes=20), T - timedelta(days=200)
    planned = plan(since, until, raw_from=T - timedelta(days=90))
    assert [piece.width for piece in planned.pieces] == [HOUR]
    assert planned.start == floor_to(since, HOUR)
    assert planned.end == ceil_to(until, HOUR) - MICROSECOND


def deltas_should_sum_each_quarter_hour_day_and_total_and_keep_the_latest_value() -> None:
    rows = [
        ("hall", T, 290.0),
        ("hall", T - timedelta(minutes=1), 300.0),
        ("hall", T - timedelta(hours=1), 280.0),
        ("kitchen", T, 295.0),
    ]
    found = deltas(rows)
    hour = found[("hall", HOUR, floor_to(T, HOUR))]
    assert hour.summary == Summary(2, 590.0, 290.0, 300.0, T - timedelta(minutes=1), T)
    assert hour.last_kelvin == 290.0
    day = found[("hall", DAY, floor_to(T, DAY))].summary
    assert (day.count, day.minimum, day.maximum) == (3, 280.0, 300.0)
    total = found[("hall", TOTAL, EPOCH)]
    assert (total.summary.count, total.last_kelvin) == (3, 290.0)
    assert found[("kitchen", TOTAL, EPOCH)].summary.count == 1
    assert found[("hall", QUARTER, floor_to(T, QUARTER))].summary == hour.summary
    # hall: 2 quarters, 2 hours, a day, its total; kitchen: a quarter, hour, day, total
    assert len(found) == 6 + 4
