import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from roomtemp.domain.series import InvalidBuckets, bucket_edges

T = datetime(2026, 11, 27, 14, 33, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def edges_should_align_on_multiples_of_the_bucket_since_the_epoch() -> None:
    edges = bucket_edges(T - timedelta(hours=3), T, timedelta(hours=1))
    assert edges[0] == datetime(2026, 11, 27, 11, tzinfo=UTC)
    assert edges[-1] == datetime(2026, 11, 27, 15, tzinfo=UTC)
    assert len(edges) == 5  # four buckets, then the end of the last


def edges_of_odd_buckets_should_align_on_the_epoch_too() -> None:
    edges = bucket_edges(T - timedelta(hours=1), T, timedelta(minutes=7))
    assert all(int(edge.timestamp()) % 420 == 0 for edge in edges)


def day_buckets_in_a_zone_should_start_at_local_midnight_across_daylight_saving() -> None:
    since = datetime(2026, 3, 27, 12, tzinfo=UTC)
    edges = bucket_edges(since, since + timedelta(days=4), timedelta(days=1), BERLIN)
    local = [edge.astimezone(BERLIN) for edge in edges]
    assert all((day.hour, day.minute) == (0, 0) for day in local)
    lengths = [b - a for a, b in itertools.pairwise(edges)]
    assert timedelta(hours=23) in lengths  # 29 March 2026: clocks go forward


def day_buckets_in_a_zone_should_have_25_hours_when_clocks_go_back() -> None:
    since = datetime(2026, 10, 24, 12, tzinfo=UTC)
    edges = bucket_edges(since, since + timedelta(days=2), timedelta(days=1), BERLIN)
    lengths = [b - a for a, b in itertools.pairwise(edges)]
    assert timedelta(hours=25) in lengths


def week_buckets_in_a_zone_should_start_at_local_midnight() -> None:
    edges = bucket_edges(T - timedelta(days=30), T, timedelta(weeks=1), BERLIN)
    assert {edge.astimezone(BERLIN).time().hour for edge in edges} == {0}
    assert len({edge.astimezone(BERLIN).weekday() for edge in edges}) == 1


@pytest.mark.parametrize(
    ("duration", "bucket", "zone", "words"),
    [
        (timedelta(hours=1), timedelta(milliseconds=500), None, "at least a second"),
        (timedelta(days=365), timedelta(minutes=1), None, "more than the 10000"),
        (timedelta(days=30), timedelta(hours=36), BERLIN, "whole days"),
    ],
)
def edges_should_refuse_buckets_that_cannot_be_drawn(
    duration: timedelta, bucket: timedelta, zone: ZoneInfo | None, words: str
) -> None:
    with pytest.raises(InvalidBuckets, match=words):
        bucket_edges(T - duration, T, bucket, zone)
